/**
 * The AMI session, over our own connection (./connection.ts: `node:net` and the
 * push parser of ./parser.ts). What it adds to a bare connection:
 *   - a Login that fails loudly (AMI_LOGIN_FAILED) or times out (AMI_TIMEOUT);
 *   - a deadline and an AbortSignal for every action, listeners removed on settle;
 *   - a bounded queue: while the link is down actions wait (up to their
 *     deadline) and are sent after the next login — except Originate, which
 *     fails at once with AMI_NOT_CONNECTED and is never replayed;
 *   - reconnect with capped exponential backoff and jitter, never after close();
 *   - after every (re)connect a `CoreShowChannels`, emitted as `resync`, so the
 *     call tracker keeps the calls in progress and drops those that ended
 *     while the link was down (AMI does not replay events);
 *   - the strict encoder (CR/LF in a field → AMI_INVALID_FIELD);
 *   - typed, normalised events.
 * One connection per attempt: a stale socket's late events are recognised by
 * identity and ignored.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { createPeerErrorLog, type PeerErrorLog } from '../../platform/log-throttle.js';
import { openAmiConnection, type AmiConnection, type AmiConnectionFactory } from './connection.js';
import type { RawAmiMessage } from './parser.js';
import type { AmiConfig, DeepReadonly } from '../../platform/config/types.js';
import { delay } from '../../platform/backoff.js';
import { AmiError, type AmiErrorCode } from './errors.js';
import { validateActionFields, type AmiActionFields } from './encoder.js';
import { normalizeEvent, normalizeMessage, type AmiEvent, type AmiResponse } from './events.js';

export interface ActionOptions {
  /** Deadline for this action, queued time included. Default `action_timeout_ms`. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface AmiListResult {
  response: AmiResponse;
  /** The list items (the final `...Complete` event excluded). */
  events: AmiEvent[];
  /** The final event carrying `EventList: Complete`. */
  complete: AmiEvent | undefined;
}

export interface AmiClientEvents {
  event: [event: AmiEvent];
  connected: [];
  disconnected: [err: Error | undefined];
  /** The live channels (`CoreShowChannel` items) after every (re)connect. */
  resync: [channels: AmiEvent[]];
}

export interface AmiClient {
  /**
   * Connect and log in. By default the first failure rejects and the caller decides
   * (`check`); with `{ retry: true }` the client keeps trying on its own backoff and the
   * promise resolves at the first login (it rejects only when the client is closed).
   */
  connect(options?: { retry?: boolean }): Promise<void>;
  action(fields: AmiActionFields, options?: ActionOptions): Promise<AmiResponse>;
  actionList(fields: AmiActionFields, options?: ActionOptions): Promise<AmiListResult>;
  on<K extends keyof AmiClientEvents>(event: K, listener: (...args: AmiClientEvents[K]) => void): this;
  off<K extends keyof AmiClientEvents>(event: K, listener: (...args: AmiClientEvents[K]) => void): this;
  isConnected(): boolean;
  /** Intentional: finish what is in flight (bounded by deadlines), then disconnect; no reconnect. Idempotent. */
  close(): Promise<void>;
  /** Abort everything now (AMI_CLOSED), disconnect, no reconnect. Idempotent. */
  destroy(): void;
}

export interface AmiClientDeps {
  logger: Logger;
  /** [0, 1) for the reconnect jitter; tests pin it. */
  random?: () => number;
  /** Tests may inject a connection of their own; default ./connection.ts. */
  connectionFactory?: AmiConnectionFactory;
}

type State = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closing' | 'closed';

interface Pending {
  id: string;
  action: string;
  fields: AmiActionFields;
  list: { events: AmiEvent[]; response: AmiResponse | undefined } | undefined;
  resolve: (value: AmiResponse | AmiListResult) => void;
  reject: (err: AmiError) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  sent: boolean;
}

function isOriginate(action: string): boolean {
  return action.toLowerCase() === 'originate';
}

class AmiClientImpl implements AmiClient {
  private readonly emitter = new EventEmitter();
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly factory: AmiConnectionFactory;
  private readonly peerErrors: PeerErrorLog;
  private state: State = 'idle';
  private mgr: AmiConnection | undefined;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private loginTimer: NodeJS.Timeout | undefined;
  private readonly queue: Pending[] = [];
  private readonly inflight = new Map<string, Pending>();
  private seq = 0;
  private readonly idPrefix: string;
  private initial: { resolve: () => void; reject: (err: Error) => void; retry: boolean } | undefined;
  private closing: Promise<void> | undefined;
  private lastError: Error | undefined;

  constructor(
    private readonly config: DeepReadonly<AmiConfig>,
    deps: AmiClientDeps,
  ) {
    this.log = deps.logger.child({ component: 'ami' });
    this.random = deps.random ?? Math.random;
    this.factory = deps.connectionFactory ?? openAmiConnection;
    this.peerErrors = createPeerErrorLog({ logger: this.log, component: 'ami' });
    this.idPrefix = `ka${Math.floor(this.random() * 1e9).toString(36)}-`;
  }

  on<K extends keyof AmiClientEvents>(event: K, listener: (...args: AmiClientEvents[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof AmiClientEvents>(event: K, listener: (...args: AmiClientEvents[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** A throwing listener is a bug in the caller: log it, never let it unwind into the socket code. */
  private emit<K extends keyof AmiClientEvents>(event: K, ...args: AmiClientEvents[K]): void {
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (err) {
        this.log.error({ err, event }, 'AMI listener threw');
      }
    }
  }

  isConnected(): boolean {
    return this.state === 'connected';
  }

  connect(options: { retry?: boolean } = {}): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') {
      return Promise.reject(new AmiError('AMI_CLOSED', 'AMI client is closed'));
    }
    if (this.state === 'connected') return Promise.resolve();
    if (this.initial) return Promise.reject(new AmiError('AMI_CLOSED', 'AMI connect() already in progress'));
    if (this.state !== 'idle') {
      // Already reconnecting on its own: wait for the next login.
      return new Promise((resolve) => this.emitter.once('connected', () => resolve()));
    }
    return new Promise<void>((resolve, reject) => {
      this.initial = { resolve, reject, retry: options.retry === true };
      this.startAttempt();
    });
  }

  // --- connection ----------------------------------------------------------

  private startAttempt(): void {
    this.reconnectTimer = undefined;
    this.state = 'connecting';
    const { host, port, username, secret } = this.config;
    const mgr = this.factory({ username, secret, peerErrors: this.peerErrors });
    this.mgr = mgr;
    mgr.on('error', (err: Error) => {
      if (mgr === this.mgr) this.lastError = err;
      this.log.debug({ err }, 'AMI socket error');
    });
    mgr.on('close', () => this.onClose(mgr));
    mgr.on('managerevent', (raw: RawAmiMessage) => {
      if (mgr === this.mgr) this.onEvent(raw);
    });
    this.log.debug({ host, port, attempt: this.attempt }, 'AMI connecting');
    mgr.connect(port, host, () => {
      if (mgr !== this.mgr) {
        mgr.disconnect();
        return;
      }
      this.login(mgr);
    });
  }

  private login(mgr: AmiConnection): void {
    this.loginTimer = setTimeout(() => {
      this.loginTimer = undefined;
      this.attemptFailed(
        mgr,
        new AmiError('AMI_TIMEOUT', `AMI login not answered within ${this.config.action_timeout_ms} ms`, {
          action: 'Login',
        }),
      );
    }, this.config.action_timeout_ms);
    mgr.login((err) => {
      if (mgr !== this.mgr || this.state !== 'connecting') return;
      clearTimeout(this.loginTimer);
      this.loginTimer = undefined;
      if (err) {
        const msg = normalizeMessage(err);
        const reason = typeof msg['message'] === 'string' ? msg['message'] : 'Error';
        this.attemptFailed(
          mgr,
          new AmiError('AMI_LOGIN_FAILED', `AMI login refused for user ${this.config.username}: ${reason}`, {
            username: this.config.username,
          }),
        );
        return;
      }
      this.onLoggedIn();
    });
  }

  private onLoggedIn(): void {
    this.state = 'connected';
    this.attempt = 0;
    this.lastError = undefined;
    this.log.info({ host: this.config.host, port: this.config.port }, 'AMI connected');
    const initial = this.initial;
    this.initial = undefined;
    initial?.resolve();
    this.emit('connected');
    const waiting = this.queue.splice(0);
    for (const p of waiting) this.send(p);
    void this.resync();
  }

  private async resync(): Promise<void> {
    try {
      const { events } = await this.actionList({ action: 'CoreShowChannels' });
      if (this.state !== 'connected') return;
      this.log.debug({ channels: events.length }, 'AMI resync');
      this.emit('resync', events);
    } catch (err) {
      this.log.warn({ err }, 'AMI resync (CoreShowChannels) failed');
    }
  }

  /** A connection attempt failed (socket refused, login refused or silent). */
  private attemptFailed(mgr: AmiConnection, err: Error): void {
    if (mgr !== this.mgr) return;
    clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
    this.mgr = undefined;
    mgr.disconnect();
    const initial = this.initial;
    if (initial && !initial.retry) {
      // The first connect() reports and stops; the caller decides what next.
      this.initial = undefined;
      this.state = 'idle';
      this.log.error({ err }, 'AMI connect failed');
      initial.reject(err);
      return;
    }
    this.log.warn({ err, attempt: this.attempt }, 'AMI reconnect attempt failed');
    this.scheduleReconnect();
  }

  private onClose(mgr: AmiConnection): void {
    if (mgr !== this.mgr) return;
    if (this.state === 'connecting') {
      const cause = this.lastError;
      this.attemptFailed(
        mgr,
        new AmiError('AMI_CONNECT_FAILED', `AMI connection to ${this.config.host}:${this.config.port} failed`, {
          cause,
        }),
      );
      return;
    }
    if (this.state !== 'connected') return;
    this.mgr = undefined;
    this.state = 'waiting';
    const err = new AmiError('AMI_CONNECTION_LOST', 'AMI connection lost', { cause: this.lastError });
    this.log.warn({ err }, 'AMI disconnected');
    for (const p of [...this.inflight.values()]) {
      this.settle(p, new AmiError('AMI_CONNECTION_LOST', `AMI connection lost before ${p.action} was answered`, {
        action: p.action,
        actionId: p.id,
      }));
    }
    this.emit('disconnected', err);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'waiting';
    const { reconnect_min_ms: min, reconnect_max_ms: max } = this.config;
    // Equal jitter above the floor: never sooner than reconnect_min_ms.
    const wait = delay(this.attempt, { baseMs: min, maxMs: max, jitter: 'equal', floorMs: min }, this.random());
    this.attempt++;
    this.log.info({ delayMs: wait, attempt: this.attempt }, 'AMI reconnect scheduled');
    this.reconnectTimer = setTimeout(() => this.startAttempt(), wait);
  }

  // --- actions ---------------------------------------------------------------

  action(fields: AmiActionFields, options: ActionOptions = {}): Promise<AmiResponse> {
    return this.enqueue(fields, options, false) as Promise<AmiResponse>;
  }

  actionList(fields: AmiActionFields, options: ActionOptions = {}): Promise<AmiListResult> {
    return this.enqueue(fields, options, true) as Promise<AmiListResult>;
  }

  private enqueue(fields: AmiActionFields, options: ActionOptions, list: boolean): Promise<AmiResponse | AmiListResult> {
    try {
      validateActionFields(fields);
    } catch (err) {
      return Promise.reject(err);
    }
    const action = fields.action;
    const fail = (code: AmiErrorCode, message: string): Promise<never> =>
      Promise.reject(new AmiError(code, message, { action }));
    if (this.state === 'closing' || this.state === 'closed') return fail('AMI_CLOSED', `AMI client closed: ${action} not sent`);
    if (options.signal?.aborted) {
      return Promise.reject(new AmiError('AMI_ABORTED', `${action} aborted`, { action, cause: options.signal.reason }));
    }
    if (this.state !== 'connected' && isOriginate(action)) {
      return fail('AMI_NOT_CONNECTED', 'AMI is not connected: Originate is never queued or replayed');
    }
    if (this.queue.length + this.inflight.size >= this.config.max_queued_actions) {
      return fail('AMI_QUEUE_FULL', `AMI queue full (${this.config.max_queued_actions}): ${action} not sent`);
    }
    return new Promise((resolve, reject) => {
      const p: Pending = {
        id: `${this.idPrefix}${++this.seq}`,
        action,
        fields,
        list: list ? { events: [], response: undefined } : undefined,
        resolve,
        reject,
        timer: undefined,
        signal: options.signal,
        onAbort: undefined,
        sent: false,
      };
      const timeoutMs = options.timeoutMs ?? this.config.action_timeout_ms;
      p.timer = setTimeout(() => {
        this.settle(p, new AmiError('AMI_TIMEOUT', `AMI ${action} not answered within ${timeoutMs} ms`, {
          action,
          actionId: p.id,
          queued: !p.sent,
        }));
      }, timeoutMs);
      if (p.signal) {
        const signal = p.signal;
        p.onAbort = () =>
          this.settle(p, new AmiError('AMI_ABORTED', `${action} aborted`, { action, actionId: p.id, cause: signal.reason }));
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      if (this.state === 'connected') this.send(p);
      else this.queue.push(p);
    });
  }

  private send(p: Pending): void {
    const mgr = this.mgr;
    if (!mgr || this.state !== 'connected') {
      this.queue.push(p);
      return;
    }
    p.sent = true;
    this.inflight.set(p.id, p);
    mgr.action({ ...p.fields, actionid: p.id }, (err, res) => {
      if (this.inflight.get(p.id) !== p) return;
      const response = normalizeMessage(res ?? err ?? {}) as AmiResponse;
      if (err) {
        const message = typeof response.message === 'string' ? response.message : 'Error';
        this.settle(p, new AmiError('AMI_ACTION_FAILED', `AMI ${p.action} failed: ${message}`, {
          action: p.action,
          actionId: p.id,
          response,
        }));
        return;
      }
      if (!p.list) {
        this.settle(p, undefined, response);
        return;
      }
      p.list.response = response;
      const eventlist = typeof response['eventlist'] === 'string' ? response['eventlist'].toLowerCase() : '';
      if (eventlist !== 'start') this.settle(p, undefined, { response, events: p.list.events, complete: undefined });
    });
  }

  private settle(p: Pending, err: AmiError | undefined, value?: AmiResponse | AmiListResult): void {
    clearTimeout(p.timer);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    const wasInflight = this.inflight.delete(p.id);
    if (!wasInflight) {
      const i = this.queue.indexOf(p);
      if (i >= 0) this.queue.splice(i, 1);
    }
    // Drop the connection's pending callback for this ActionID.
    if (wasInflight) this.mgr?.forget(p.id);
    if (err) p.reject(err);
    else if (value !== undefined) p.resolve(value);
    if (this.state === 'closing') this.maybeClosed();
  }

  private onEvent(raw: RawAmiMessage): void {
    const e = normalizeEvent(raw);
    if (!e) return;
    const actionId = e['actionid'];
    if (typeof actionId === 'string') {
      const p = this.inflight.get(actionId);
      if (p?.list) {
        const eventlist = typeof e['eventlist'] === 'string' ? e['eventlist'].toLowerCase() : '';
        if (eventlist === 'complete') {
          const response = p.list.response ?? ({ response: 'Success', actionid: actionId } as AmiResponse);
          this.settle(p, undefined, { response, events: p.list.events, complete: e });
        } else p.list.events.push(e);
        return;
      }
    }
    this.emit('event', e);
  }

  // --- shutdown -----------------------------------------------------------------

  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.state === 'closed') return (this.closing = Promise.resolve());
    const connected = this.state === 'connected';
    this.stopConnecting(new AmiError('AMI_CLOSED', 'AMI client closed before connecting'));
    this.state = 'closing';
    this.closing = new Promise<void>((resolve) => {
      this.closeResolve = resolve;
    });
    if (!connected) {
      for (const p of [...this.queue]) this.settle(p, new AmiError('AMI_CLOSED', `AMI client closed: ${p.action} not sent`, { action: p.action }));
    }
    this.maybeClosed();
    return this.closing;
  }

  private closeResolve: (() => void) | undefined;

  private maybeClosed(): void {
    if (this.state !== 'closing' || this.inflight.size > 0 || this.queue.length > 0) return;
    this.finish();
  }

  destroy(): void {
    if (this.state === 'closed') return;
    this.stopConnecting(new AmiError('AMI_CLOSED', 'AMI client destroyed before connecting'));
    this.state = 'closed';
    const all = [...this.inflight.values(), ...this.queue];
    for (const p of all) this.settle(p, new AmiError('AMI_CLOSED', `AMI client destroyed: ${p.action} aborted`, { action: p.action, actionId: p.id }));
    this.finish();
  }

  private stopConnecting(err: AmiError): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
    const initial = this.initial;
    this.initial = undefined;
    initial?.reject(err);
  }

  private finish(): void {
    const wasOpen = this.state === 'closing' || this.mgr !== undefined;
    this.state = 'closed';
    const mgr = this.mgr;
    this.mgr = undefined;
    mgr?.disconnect();
    this.peerErrors.close();
    if (wasOpen) this.log.info('AMI closed');
    const resolve = this.closeResolve;
    this.closeResolve = undefined;
    resolve?.();
  }
}

export function createAmiClient(config: DeepReadonly<AmiConfig>, deps: AmiClientDeps): AmiClient {
  return new AmiClientImpl(config, deps);
}
