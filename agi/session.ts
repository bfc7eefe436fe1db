/**
 * One FastAGI connection: reads the environment block, then pairs each command with
 * its reply.
 *
 *  - Exactly one command is in flight; a second one while it is pending is refused
 *    with AGI_BUSY (no hidden queue).
 *  - Every command has a deadline. A missed deadline (AGI_TIMEOUT) or an abort
 *    (AGI_ABORTED) closes the session: the late reply would otherwise be taken for
 *    the next command's. Closing makes AGI() return and the dialplan go on.
 *  - `HANGUP` is a notice: `hungUp` becomes true and 'hangup' is emitted; a command in
 *    flight keeps waiting for its own reply.
 *  - 510 / 511 / 520 reject the command (AGI_COMMAND_UNKNOWN / AGI_DEAD_CHANNEL /
 *    AGI_USAGE) and the session stays usable. A closed or reset socket rejects it
 *    with AGI_CLOSED (the socket error as cause).
 *  - close() lets the command in flight finish, then ends the socket; destroy() drops
 *    it at once. Both idempotent; 'close' is emitted once, when the socket is gone.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { encodeCommand, parseEnv, parseReply, type AgiArgument, type AgiRequest, type AgiSuccessReply } from './codec.js';
import { AgiError, type AgiErrorCode } from './errors.js';
import { AgiFramer, type AgiFrame } from './framer.js';
import type { PeerErrorLog } from '../lib/platform/log-throttle.js';

/** Errors that only a peer's bytes (or silence) cause: rate-limited, logged without stacks. */
export const PEER_ERROR_CODES: ReadonlySet<string> = new Set([
  'AGI_LINE_TOO_LONG',
  'AGI_HEADER_TOO_LARGE',
  'AGI_MALFORMED_ENV',
  'AGI_MALFORMED_REPLY',
  'AGI_UNEXPECTED_REPLY',
  'AGI_HEADER_TIMEOUT',
]);

export interface AgiSessionOptions {
  logger: Logger;
  /** Deadline for the environment block after connect. Default 5000 ms. */
  headerTimeoutMs?: number;
  /** Default deadline of each command. Default 5000 ms. */
  commandTimeoutMs?: number;
  /** How long close() waits for Asterisk to close its side after ours. Default 2000 ms. */
  closeTimeoutMs?: number;
  maxHeaderBytes?: number;
  maxReplyBytes?: number;
  /**
   * Where the errors a peer causes (garbage, oversize, a reply with no command, a
   * header that never comes) are reported: once per code per interval, no stack. Without
   * it they are logged one warn line each.
   */
  peerErrors?: PeerErrorLog;
}

export interface AgiCommandOptions {
  /** Overrides the session's commandTimeoutMs for this command. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface AgiSessionEvents {
  hangup: [];
  /** The socket is gone; `error` is null after a clean close. */
  close: [error: AgiError | null];
}

export const DEFAULT_HEADER_TIMEOUT_MS = 5000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
export const DEFAULT_CLOSE_TIMEOUT_MS = 2000;

interface Pending {
  readonly command: string;
  readonly resolve: (reply: AgiSuccessReply) => void;
  readonly reject: (error: AgiError) => void;
  readonly timer: NodeJS.Timeout;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

type State = 'header' | 'open' | 'closing' | 'closed';

const REPLY_ERRORS: Record<510 | 511 | 520, AgiErrorCode> = {
  510: 'AGI_COMMAND_UNKNOWN',
  511: 'AGI_DEAD_CHANNEL',
  520: 'AGI_USAGE',
};

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new AgiError('AGI_INVALID_OPTIONS', `${name} must be a positive number of milliseconds`, { option: name });
  }
  return value;
}

/**
 * Take a freshly accepted socket through the environment block. Resolves with the
 * session once the block is parsed; rejects (and destroys the socket) on header
 * timeout, a malformed or oversize block, or a socket closed first.
 */
export function acceptAgiSession(socket: Socket, options: AgiSessionOptions): Promise<AgiSession> {
  const session = new AgiSession(socket, options);
  return session.ready.then(() => session);
}

export class AgiSession extends EventEmitter<AgiSessionEvents> {
  /** Resolves with the request once the environment block is in. */
  readonly ready: Promise<AgiRequest>;
  /** Resolves when the socket has closed, whatever the reason. */
  readonly closed: Promise<void>;

  readonly #socket: Socket;
  readonly #framer: AgiFramer;
  readonly #commandTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #peerErrors: PeerErrorLog | undefined;
  #logger: Logger;
  #request: AgiRequest | null = null;
  #state: State = 'header';
  #hungUp = false;
  #pending: Pending | null = null;
  #error: AgiError | null = null;
  #socketError: Error | null = null;
  #headerTimer: NodeJS.Timeout | null;
  #closeTimer: NodeJS.Timeout | null = null;
  #closePromise: Promise<void> | null = null;
  #closeHandled = false;
  /** close() waiting for the command in flight. */
  #afterPending: (() => void) | null = null;
  #resolveReady!: (request: AgiRequest) => void;
  #rejectReady!: (error: AgiError) => void;
  #resolveClosed!: () => void;

  /** Prefer acceptAgiSession(); the session is usable once `ready` resolves. */
  constructor(socket: Socket, options: AgiSessionOptions) {
    super();
    const headerTimeoutMs = positive('headerTimeoutMs', options.headerTimeoutMs, DEFAULT_HEADER_TIMEOUT_MS);
    this.#commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS);
    this.#closeTimeoutMs = positive('closeTimeoutMs', options.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS);
    this.#socket = socket;
    this.#peerErrors = options.peerErrors;
    this.#logger = options.logger.child({ remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` });
    this.ready = new Promise<AgiRequest>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A caller that never awaits `ready` must not trigger an unhandled rejection.
    this.ready.catch(() => undefined);
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#framer = new AgiFramer({
      onFrame: (frame) => this.#onFrame(frame),
      ...(options.maxHeaderBytes === undefined ? {} : { maxHeaderBytes: options.maxHeaderBytes }),
      ...(options.maxReplyBytes === undefined ? {} : { maxReplyBytes: options.maxReplyBytes }),
    });
    this.#headerTimer = setTimeout(() => {
      this.#headerTimer = null;
      this.#fail(
        new AgiError('AGI_HEADER_TIMEOUT', `no complete AGI environment within ${headerTimeoutMs} ms`, {
          timeoutMs: headerTimeoutMs,
          bufferedBytes: this.#framer.bufferedBytes,
        }),
      );
    }, headerTimeoutMs);
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', this.#onSocketError);
    socket.on('close', this.#onSocketClose);
    if (socket.destroyed) queueMicrotask(() => this.#onSocketClose());
  }

  /** The parsed environment block. Throws before `ready` has resolved. */
  get request(): AgiRequest {
    if (this.#request === null) throw new AgiError('AGI_CLOSED', 'AGI session has no environment yet');
    return this.#request;
  }

  /** A child logger bound to the call (uniqueid, channel, caller, script). */
  get logger(): Logger {
    return this.#logger;
  }

  /** True once Asterisk sent `HANGUP`. */
  get hungUp(): boolean {
    return this.#hungUp;
  }

  /** True while a command waits for its reply. */
  get busy(): boolean {
    return this.#pending !== null;
  }

  /** True once close() or destroy() was called or the socket went away. */
  get isClosed(): boolean {
    return this.#state === 'closing' || this.#state === 'closed';
  }

  /** Why the session ended, or null (still open, or closed cleanly). */
  get error(): AgiError | null {
    return this.#error;
  }

  /**
   * Send one command and wait for a 200 reply. Rejects with AGI_BUSY, AGI_CLOSED,
   * AGI_TIMEOUT, AGI_ABORTED, AGI_COMMAND_UNKNOWN, AGI_DEAD_CHANNEL, AGI_USAGE,
   * AGI_MALFORMED_REPLY or an encoder error (nothing is sent then).
   */
  command(command: string, args: readonly AgiArgument[] = [], options: AgiCommandOptions = {}): Promise<AgiSuccessReply> {
    if (this.#state !== 'open') {
      return Promise.reject(
        new AgiError('AGI_CLOSED', `AGI session is ${this.#state === 'header' ? 'not ready' : 'closed'}`, {
          command,
          cause: this.#error ?? undefined,
        }),
      );
    }
    if (this.#pending) {
      return Promise.reject(
        new AgiError('AGI_BUSY', `AGI command ${command} sent while ${this.#pending.command} is in flight`, {
          command,
          inFlight: this.#pending.command,
        }),
      );
    }
    let line: string;
    try {
      line = encodeCommand(command, args);
    } catch (err) {
      return Promise.reject(err);
    }
    const { signal } = options;
    if (signal?.aborted) {
      return Promise.reject(new AgiError('AGI_ABORTED', `AGI command ${command} aborted`, { command, cause: signal.reason }));
    }
    const timeoutMs = positive('timeoutMs', options.timeoutMs, this.#commandTimeoutMs);

    return new Promise<AgiSuccessReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(
          new AgiError('AGI_TIMEOUT', `AGI command ${command} got no reply within ${timeoutMs} ms`, {
            command,
            timeoutMs,
          }),
        );
      }, timeoutMs);
      const onAbort = signal
        ? (): void => {
            this.#fail(new AgiError('AGI_ABORTED', `AGI command ${command} aborted`, { command, cause: signal.reason }));
          }
        : undefined;
      if (signal && onAbort) signal.addEventListener('abort', onAbort, { once: true });
      this.#pending = { command, resolve, reject, timer, signal, onAbort };
      this.#logger.debug({ command }, 'agi command');
      this.#socket.write(line);
    });
  }

  /** `GET VARIABLE`: the value, or null when the variable is not set. */
  async getVariable(name: string, options?: AgiCommandOptions): Promise<string | null> {
    const reply = await this.command('GET VARIABLE', [{ name: 'name', value: name }], options);
    return reply.result === 1 ? (reply.data ?? '') : null;
  }

  /** `SET VARIABLE`; the value is quoted and escaped. */
  async setVariable(name: string, value: string, options?: AgiCommandOptions): Promise<void> {
    await this.command(
      'SET VARIABLE',
      [
        { name: 'name', value: name },
        { name: 'value', value },
      ],
      options,
    );
  }

  /** `VERBOSE` to the Asterisk console at `level` (1–4). */
  async verbose(message: string, level = 1, options?: AgiCommandOptions): Promise<void> {
    await this.command(
      'VERBOSE',
      [
        { name: 'message', value: message },
        { name: 'level', value: level },
      ],
      options,
    );
  }

  /**
   * `EXEC <app> <args>`: run a dialplan application. An array of arguments is joined
   * with `,` (res_agi passes a single options string). Resolves with the
   * application's result (-2 when the application does not exist).
   */
  async exec(app: string, args: string | readonly string[] = [], options?: AgiCommandOptions): Promise<number> {
    const joined = typeof args === 'string' ? args : args.join(',');
    const reply = await this.command(
      'EXEC',
      [
        { name: 'app', value: app },
        { name: 'args', value: joined },
      ],
      options,
    );
    return reply.result;
  }

  /**
   * End the session gracefully: refuse new commands, let the one in flight settle
   * (it has its deadline), end our side, and wait for the socket to close (destroyed
   * after closeTimeoutMs). Idempotent.
   */
  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    if (this.#state === 'closed') {
      this.#closePromise = this.closed;
      return this.#closePromise;
    }
    const wasHeader = this.#state === 'header';
    this.#state = 'closing';
    if (wasHeader) {
      this.#fail(new AgiError('AGI_CLOSED', 'AGI session closed before its environment arrived'));
      this.#closePromise = this.closed;
      return this.#closePromise;
    }
    const idle = this.#pending ? new Promise<void>((resolve) => (this.#afterPending = resolve)) : null;
    this.#closePromise = (async () => {
      if (idle) await idle;
      if (!this.#socket.destroyed) {
        this.#socket.end();
        this.#closeTimer = setTimeout(() => {
          this.#closeTimer = null;
          this.#socket.destroy();
        }, this.#closeTimeoutMs);
      }
      await this.closed;
    })();
    return this.#closePromise;
  }

  /** Drop the connection now; the command in flight rejects with AGI_CLOSED (or `error`). */
  destroy(error?: AgiError): void {
    if (this.#state === 'closed') return;
    this.#fail(error ?? new AgiError('AGI_CLOSED', 'AGI session destroyed'));
  }

  // -------------------------------------------------------------------------

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state === 'closed') return;
    try {
      this.#framer.push(chunk);
    } catch (err) {
      this.#fail(err instanceof AgiError ? err : new AgiError('AGI_CLOSED', 'AGI frame handling failed', { cause: err }));
    }
  };

  readonly #onSocketError = (err: Error): void => {
    // Reported through 'close'; kept as the cause.
    this.#socketError = err;
  };

  readonly #onSocketClose = (): void => {
    if (this.#closeHandled) return;
    this.#closeHandled = true;
    if (this.#state !== 'closed') {
      const graceful = this.#state === 'closing' && this.#pending === null && this.#socketError === null;
      if (graceful) {
        this.#state = 'closed';
        this.#cleanup();
      } else {
        const code = (this.#socketError as NodeJS.ErrnoException | null)?.code;
        this.#fail(
          new AgiError('AGI_CLOSED', `AGI connection ${code ? `failed (${code})` : 'closed by the peer'}`, {
            cause: this.#socketError ?? undefined,
          }),
        );
      }
    }
    this.#socket.off('data', this.#onData);
    this.#logger.debug({ err: this.#error ?? undefined, hungUp: this.#hungUp }, 'agi connection closed');
    this.emit('close', this.#error);
    this.#resolveClosed();
  };

  #onFrame(frame: AgiFrame): void {
    if (this.#state === 'closed') return;
    switch (frame.kind) {
      case 'env':
        this.#onEnv(frame.lines);
        return;
      case 'hangup':
        if (!this.#hungUp) {
          this.#hungUp = true;
          this.#logger.debug('agi hangup notice');
          this.emit('hangup');
        }
        return;
      case 'reply':
        this.#onReply(frame.lines);
        return;
    }
  }

  #onEnv(lines: readonly string[]): void {
    let request: AgiRequest;
    try {
      // Synchronous, so that frames after the block in the same chunk (an early
      // HANGUP) reach the open session.
      request = parseEnv(lines);
    } catch (err) {
      this.#fail(err as AgiError);
      return;
    }
    if (this.#headerTimer) clearTimeout(this.#headerTimer);
    this.#headerTimer = null;
    this.#request = request;
    this.#state = 'open';
    this.#logger = this.#logger.child({
      uniqueid: request.uniqueId,
      channel: request.channel,
      callerid: request.callerId,
      script: request.script,
    });
    this.#resolveReady(request);
  }

  #onReply(lines: readonly string[]): void {
    const pending = this.#pending;
    if (!pending) {
      this.#fail(new AgiError('AGI_UNEXPECTED_REPLY', 'AGI reply with no command in flight', { line: lines[0] ?? '' }));
      return;
    }
    let reply;
    try {
      reply = parseReply(lines);
    } catch (err) {
      this.#fail(err as AgiError);
      return;
    }
    this.#settle();
    if (reply.code === 200) {
      pending.resolve(reply);
    } else {
      const code = REPLY_ERRORS[reply.code];
      pending.reject(
        new AgiError(code, `AGI command ${pending.command} failed: ${reply.code} ${reply.message}`, {
          command: pending.command,
          replyCode: reply.code,
          usage: reply.code === 520 ? reply.usage : undefined,
        }),
      );
    }
    this.#runAfterPending();
  }

  /** Clear the in-flight slot and its timer/listener. */
  #settle(): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = null;
    clearTimeout(pending.timer);
    if (pending.signal && pending.onAbort) pending.signal.removeEventListener('abort', pending.onAbort);
  }

  #runAfterPending(): void {
    const after = this.#afterPending;
    this.#afterPending = null;
    after?.();
  }

  /** Tear the session down with `error`: reject what waits, destroy the socket. */
  #fail(error: AgiError): void {
    if (this.#state === 'closed') return;
    const wasHeader = this.#state === 'header';
    this.#state = 'closed';
    this.#error = error;
    const pending = this.#pending;
    this.#settle();
    this.#cleanup();
    if (error.code === 'AGI_CLOSED' && this.#hungUp) {
      this.#logger.debug({ err: error }, 'agi session ended after hangup');
    } else if (this.#peerErrors && PEER_ERROR_CODES.has(error.code)) {
      this.#peerErrors.report(error.code, { remote: this.#socket.remoteAddress, message: error.message });
    } else if (error.code !== 'AGI_CLOSED') {
      this.#logger.warn({ err: error }, 'agi session failed');
    }
    if (wasHeader) this.#rejectReady(error);
    pending?.reject(error);
    this.#runAfterPending();
    this.#socket.destroy();
  }

  #cleanup(): void {
    if (this.#headerTimer) clearTimeout(this.#headerTimer);
    this.#headerTimer = null;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
  }
}
