/**
 * FastAGI server on node:net. Each connection becomes an AgiSession; the script path
 * of its AGI URL picks the route handler.
 *
 *  - Unknown script → logged and closed (AGISTATUS lets the dialplan fall back).
 *  - At most `maxConnections` sockets at once; one over the bound is destroyed on
 *    accept (Asterisk sees a failed AGI and the dialplan goes on).
 *  - A connection that sends garbage, or half a header and then nothing, is dropped at
 *    `headerTimeoutMs` (or at once when the garbage breaks the framer); it only ever
 *    affects itself. Socket errors (ECONNRESET …) are handled per connection.
 *  - Each handler runs with an AbortSignal and a deadline (`handlerTimeoutMs`); past
 *    it the signal aborts and the session is destroyed. When the handler returns, the
 *    session is closed: Asterisk's AGI() returns and the dialplan continues.
 *  - close() stops accepting and drains in-flight sessions up to a deadline, then
 *    destroys what is left; destroy() aborts everything now. Both idempotent.
 */
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { AgiError } from './errors.js';
import { AgiSession, PEER_ERROR_CODES, type AgiSessionOptions } from './session.js';
import { createAllowList } from './allow-list.js';
import { createPeerErrorLog } from '../lib/platform/log-throttle.js';

export interface AgiHandlerContext {
  /** Aborted at the handler deadline and on server destroy(). */
  readonly signal: AbortSignal;
  /** The session's call-bound logger. */
  readonly logger: Logger;
  /** `performance.now()` when the connection was accepted. */
  readonly acceptedAt: number;
}

export type AgiHandler = (session: AgiSession, context: AgiHandlerContext) => void | Promise<void>;

export interface AgiServerOptions {
  /** Script path (`autodistribution`, slashes at either end ignored) → handler. */
  routes: Readonly<Record<string, AgiHandler>>;
  logger: Logger;
  /** Concurrent connections, header phase included. Default 256. */
  maxConnections?: number;
  /** Default 5000 ms. */
  headerTimeoutMs?: number;
  /** Default deadline of each AGI command. Default 5000 ms. */
  commandTimeoutMs?: number;
  /** Deadline of a whole handler run. Default 15000 ms. */
  handlerTimeoutMs?: number;
  /** close(): how long to drain before destroying. Default 10000 ms. */
  closeTimeoutMs?: number;
  maxHeaderBytes?: number;
  maxReplyBytes?: number;
  /** Addresses and CIDR blocks allowed to connect (default: anyone). */
  allowFrom?: readonly string[];
  /** One log line per peer-error code per this interval (default 10 s). */
  peerErrorIntervalMs?: number;
}

export interface AgiServer {
  /** Start listening; resolves with the bound address (port 0 → the real port). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** The bound address, or null when not listening. */
  address(): AddressInfo | null;
  /** Open connections (header phase included). */
  readonly connections: number;
  /** Stop accepting, drain up to `timeoutMs` (default closeTimeoutMs), then destroy the rest. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** Stop accepting, abort handlers and drop every connection now. */
  destroy(): Promise<void>;
  /** Peer errors and refused connections by code since start (for /metrics). */
  peerErrors(): Readonly<Record<string, number>>;
}

export const DEFAULT_MAX_CONNECTIONS = 256;
export const DEFAULT_HANDLER_TIMEOUT_MS = 15000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10000;

interface Connection {
  readonly socket: Socket;
  readonly abort: AbortController;
  session: AgiSession | null;
  /** performance.now() at accept: the autodistribution budget runs from here. */
  readonly acceptedAt: number;
}

/** A peer's protocol error, or the session closed because of one: the session has counted it. */
function isPeerError(err: unknown): err is AgiError {
  if (!(err instanceof AgiError)) return false;
  if (PEER_ERROR_CODES.has(err.code)) return true;
  return err.code === 'AGI_CLOSED' && err.cause instanceof AgiError && PEER_ERROR_CODES.has(err.cause.code);
}

function normaliseScript(script: string): string {
  return script.replace(/^\/+|\/+$/g, '');
}

function validate(options: AgiServerOptions): void {
  const problems: string[] = [];
  const checkPositive = (name: keyof AgiServerOptions, integer: boolean): void => {
    const value = options[name];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      problems.push(`${name} must be a positive ${integer ? 'integer' : 'number'}`);
    }
  };
  checkPositive('maxConnections', true);
  checkPositive('headerTimeoutMs', false);
  checkPositive('commandTimeoutMs', false);
  checkPositive('handlerTimeoutMs', false);
  checkPositive('closeTimeoutMs', false);
  checkPositive('maxHeaderBytes', true);
  checkPositive('maxReplyBytes', true);
  if (options.allowFrom !== undefined) {
    const list = createAllowList(options.allowFrom);
    if ('problems' in list) problems.push(...list.problems);
  }
  if (typeof options.routes !== 'object' || options.routes === null) {
    problems.push('routes must be an object of script → handler');
  } else {
    for (const [script, handler] of Object.entries(options.routes)) {
      if (typeof handler !== 'function') problems.push(`route "${script}" is not a function`);
      if (normaliseScript(script) === '') problems.push(`route "${script}" has an empty script path`);
    }
  }
  if (problems.length > 0) {
    throw new AgiError('AGI_INVALID_OPTIONS', `invalid AGI server options: ${problems.join('; ')}`, { problems });
  }
}

export function createAgiServer(options: AgiServerOptions): AgiServer {
  validate(options);
  const logger = options.logger;
  const routes = new Map<string, AgiHandler>();
  for (const [script, handler] of Object.entries(options.routes)) routes.set(normaliseScript(script), handler);
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const handlerTimeoutMs = options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
  const drainTimeoutMs = options.closeTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const peerErrors = createPeerErrorLog({ logger, component: 'agi', ...(options.peerErrorIntervalMs === undefined ? {} : { intervalMs: options.peerErrorIntervalMs }) });
  const allowList = options.allowFrom === undefined ? undefined : createAllowList(options.allowFrom);
  const allowed = allowList && 'allowed' in allowList ? allowList.allowed : () => true;
  const sessionOptions: AgiSessionOptions = {
    logger,
    peerErrors,
    ...(options.headerTimeoutMs === undefined ? {} : { headerTimeoutMs: options.headerTimeoutMs }),
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
    ...(options.maxHeaderBytes === undefined ? {} : { maxHeaderBytes: options.maxHeaderBytes }),
    ...(options.maxReplyBytes === undefined ? {} : { maxReplyBytes: options.maxReplyBytes }),
  };

  const connections = new Set<Connection>();
  let state: 'idle' | 'listening' | 'closing' | 'destroyed' = 'idle';
  let closePromise: Promise<void> | null = null;
  let destroyPromise: Promise<void> | null = null;
  let serverClosed: Promise<void> | null = null;
  /** Resolved whenever the connection set becomes empty. */
  let drained: (() => void) | null = null;

  const server = net.createServer({ noDelay: true });

  server.on('connection', (socket) => {
    const refusal = state !== 'listening' ? `the server is ${state}` : !allowed(socket.remoteAddress) ? 'the address is not in agi.allow_from' : connections.size >= maxConnections ? `agi.max_connections (${maxConnections}) reached` : undefined;
    if (refusal) {
      peerErrors.report('AGI_REFUSED', { remote: socket.remoteAddress, message: `connection refused: ${refusal}`, connections: connections.size });
      socket.on('error', (err) => logger.debug({ err }, 'refused agi connection errored'));
      socket.destroy();
      return;
    }
    const conn: Connection = { socket, abort: new AbortController(), session: null, acceptedAt: performance.now() };
    connections.add(conn);
    socket.once('close', () => {
      connections.delete(conn);
      if (connections.size === 0 && drained) {
        const done = drained;
        drained = null;
        done();
      }
    });
    let session: AgiSession;
    try {
      session = new AgiSession(socket, sessionOptions);
    } catch (err) {
      logger.error({ err }, 'agi session setup failed');
      socket.destroy();
      return;
    }
    conn.session = session;
    session.ready.then(
      () =>
        runSession(conn, session).catch((err: unknown) => {
          session.logger.error({ err }, 'agi session runner failed');
          session.destroy();
        }),
      (err: unknown) => {
        const code = err instanceof AgiError ? err.code : undefined;
        // header timeouts and garbage are logged by the session; a reset before the
        // header is routine (Asterisk gave up) and only worth a debug line.
        if (code === 'AGI_CLOSED') logger.debug({ err }, 'agi connection closed before its environment');
      },
    );
  });

  server.on('error', (err) => {
    logger.error({ err }, 'agi server error');
  });

  async function runSession(conn: Connection, session: AgiSession): Promise<void> {
    const { script } = session.request;
    const handler = routes.get(script);
    const log = session.logger;
    if (!handler) {
      log.warn({ script, known: [...routes.keys()] }, 'agi request for an unknown script');
      await session.close();
      return;
    }
    if (conn.abort.signal.aborted) {
      session.destroy(new AgiError('AGI_SERVER_CLOSED', 'AGI server destroyed'));
      return;
    }
    const timer = setTimeout(() => {
      const err = new AgiError('AGI_HANDLER_TIMEOUT', `AGI handler "${script}" ran past ${handlerTimeoutMs} ms`, {
        script,
        timeoutMs: handlerTimeoutMs,
      });
      log.error({ err }, 'agi handler timed out');
      conn.abort.abort(err);
      session.destroy(err);
    }, handlerTimeoutMs);
    const started = performance.now();
    try {
      log.debug('agi handler start');
      await handler(session, { signal: conn.abort.signal, logger: log, acceptedAt: conn.acceptedAt });
      log.debug({ ms: Math.round(performance.now() - started) }, 'agi handler done');
    } catch (err) {
      if (conn.abort.signal.aborted) {
        log.debug({ err }, 'agi handler ended after abort');
      } else if (isPeerError(err)) {
        log.debug({ code: err.code }, 'agi handler stopped: the peer broke the protocol (counted by the session)');
      } else if (session.hungUp && err instanceof AgiError && (err.code === 'AGI_DEAD_CHANNEL' || err.code === 'AGI_CLOSED')) {
        log.info({ err }, 'agi handler stopped: caller hung up');
      } else {
        log.error({ err, ms: Math.round(performance.now() - started) }, 'agi handler failed');
      }
    } finally {
      clearTimeout(timer);
    }
    await session.close();
  }

  function waitDrained(): Promise<void> {
    if (connections.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const previous = drained;
      drained = () => {
        previous?.();
        resolve();
      };
    });
  }

  function stopAccepting(): Promise<void> {
    if (!serverClosed) {
      serverClosed = new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        // net.Server's callback waits for every socket; the drain is tracked here.
        server.close(() => resolve());
      });
    }
    return serverClosed;
  }

  function destroyAll(): void {
    for (const conn of connections) {
      if (!conn.abort.signal.aborted) conn.abort.abort(new AgiError('AGI_SERVER_CLOSED', 'AGI server destroyed'));
      if (conn.session) conn.session.destroy(new AgiError('AGI_SERVER_CLOSED', 'AGI server destroyed'));
      else conn.socket.destroy();
    }
  }

  return {
    listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
      if (state !== 'idle') {
        return Promise.reject(new AgiError('AGI_SERVER_CLOSED', `AGI server cannot listen: it is ${state}`));
      }
      return new Promise<AddressInfo>((resolve, reject) => {
        const onError = (err: Error): void => {
          server.off('listening', onListening);
          reject(err);
        };
        const onListening = (): void => {
          server.off('error', onError);
          state = 'listening';
          const address = server.address() as AddressInfo;
          logger.info({ address: address.address, port: address.port, routes: [...routes.keys()] }, 'agi server listening');
          resolve(address);
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, host);
      });
    },

    address(): AddressInfo | null {
      const address = server.address();
      return address !== null && typeof address === 'object' ? address : null;
    },

    get connections(): number {
      return connections.size;
    },

    close(closeOptions: { timeoutMs?: number } = {}): Promise<void> {
      if (closePromise) return closePromise;
      if (destroyPromise) {
        closePromise = destroyPromise;
        return closePromise;
      }
      const timeoutMs = closeOptions.timeoutMs ?? drainTimeoutMs;
      state = 'closing';
      closePromise = (async () => {
        const stopped = stopAccepting();
        logger.info({ connections: connections.size, timeoutMs }, 'agi server draining');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          waitDrained().then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut && connections.size > 0) {
          logger.warn({ connections: connections.size, timeoutMs }, 'agi drain deadline passed; destroying sessions');
          destroyAll();
          await waitDrained();
        }
        await stopped;
        peerErrors.close();
        logger.info('agi server closed');
      })();
      return closePromise;
    },

    destroy(): Promise<void> {
      if (destroyPromise) return destroyPromise;
      state = 'destroyed';
      destroyPromise = (async () => {
        const stopped = stopAccepting();
        destroyAll();
        await waitDrained();
        await stopped;
        peerErrors.close();
        logger.info('agi server destroyed');
      })();
      return destroyPromise;
    },

    peerErrors: () => peerErrors.totals(),
  };
}
