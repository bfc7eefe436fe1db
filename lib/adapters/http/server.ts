/**
 * The connector's HTTP server (node:http). Every endpoint is authenticated — the
 * shared secret or Kommo's widget token — except the recording links, which are
 * signed and are their own authentication, and the CORS preflight of click-to-call,
 * which does nothing but answer which headers a browser may send.
 *
 * | method       | path                       | auth            |
 * |--------------|----------------------------|-----------------|
 * | POST         | /api/v1/click-to-call      | secret, widget  |
 * | OPTIONS      | /api/v1/click-to-call      | (CORS preflight, allowed origins only) |
 * | GET          | /api/v1/status             | secret          |
 * | GET          | /metrics                   | secret          |
 * | GET, HEAD    | /recordings/<token>[.ext]  | the signed link |
 * | GET, POST    | /admin, /admin/…           | the panel's session (./admin/) |
 *
 * Errors are `{"error": {"code", "message"}}` (./errors.ts). Request paths are
 * matched raw (no decoding, no dot-segment folding): a path with `%`, `..`, `//` or
 * `\` matches nothing and answers 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { DeepReadonly, HttpConfig } from '../../platform/config/types.js';
import { redact } from '../../platform/log.js';
import { authenticate, type AuthContext, type AuthKind } from './auth.js';
import { CLICK_TO_CALL_FIELDS, clickToCallStatus, readClickToCall, type ClickToCall } from './click-to-call.js';
import { HttpError } from './errors.js';
import { createPeerErrorLog } from '../../platform/log-throttle.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import { defaultOpenFile, serveRecording, type LinkResolver, type OpenFile } from './recordings-route.js';
import { sendError, sendJson, sendText } from './respond.js';
import { DEFAULT_THRESHOLDS, overallStatus, uptimeSeconds, type StatusSnapshot, type StatusThresholds } from './status.js';
import { TOKEN_SEGMENT } from '../../domain/recordings/links.js';
import type { AdminPanel } from './admin/panel.js';

export interface HttpServerOptions {
  config: DeepReadonly<HttpConfig>;
  logger: Logger;
  /** The originate service (lib/domain/originate). Absent → the route answers 404. */
  clickToCall?: ClickToCall;
  /** The status snapshot (assembled in bin/). Absent → /api/v1/status and /metrics answer 404. */
  status?: () => StatusSnapshot | Promise<StatusSnapshot>;
  /** Recording links (lib/domain/recordings). Absent → /recordings/* answers 404. */
  links?: LinkResolver;
  /** How a resolved recording is opened (tests spy on it). Default: O_RDONLY | O_NOFOLLOW. */
  openFile?: OpenFile;
  /** Whole request (headers + body) must arrive within this (default 15 s; Node answers 408). */
  requestTimeoutMs?: number;
  /** An API handler (click-to-call, status) must answer within this (default 30 s → 504). */
  handlerTimeoutMs?: number;
  /** `close()` waits this long for requests in flight before cutting them (default 5 s). */
  drainTimeoutMs?: number;
  /** Browser origins allowed to call click-to-call directly (the widget). Default Kommo's domains. */
  corsOrigins?: ReadonlyArray<string | RegExp>;
  statusThresholds?: StatusThresholds;
  /** Wall clock (ms), for tests. */
  now?: () => number;
  /** The admin panel (./admin/): answers /admin and everything under it. Absent → 404. */
  admin?: Pick<AdminPanel, 'handle'>;
}

export interface HttpServer {
  /** Start listening on `config.host:config.port` (port 0 → any); resolves to the bound address. */
  listen(): Promise<{ host: string; port: number }>;
  address(): { host: string; port: number } | undefined;
  /** Stop accepting, let requests in flight finish (up to drainTimeoutMs), then cut the rest. Idempotent. */
  close(): Promise<void>;
  /** Stop now: abort handlers, cut every connection. Idempotent. */
  destroy(): Promise<void>;
  readonly server: Server;
}

export const DEFAULT_CORS_ORIGINS: ReadonlyArray<RegExp> = [/^https:\/\/[a-z0-9-]+\.(?:kommo\.com|amocrm\.ru|amocrm\.com)$/];

interface Route {
  methods: readonly string[];
  auth: readonly AuthKind[] | null;
  api: boolean;
  /** Browsers call it from other origins (the widget): every answer, errors too, carries the CORS headers. */
  cors?: boolean;
  handle(ctx: RequestContext): Promise<void>;
}

interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  auth: AuthContext | null;
  signal: AbortSignal;
  log: Logger;
  /** The token segment of /recordings/<token>. */
  token?: string;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
  const handlerTimeoutMs = options.handlerTimeoutMs ?? 30_000;
  const drainTimeoutMs = options.drainTimeoutMs ?? 5_000;
  const corsOrigins = options.corsOrigins ?? DEFAULT_CORS_ORIGINS;
  const thresholds = options.statusThresholds ?? DEFAULT_THRESHOLDS;
  const openFile = options.openFile ?? defaultOpenFile;
  const authOptions = { config, now: () => Math.floor(now() / 1000) };

  const inFlight = new Set<AbortController>();
  const idleWaiters = new Set<() => void>();
  // Clients' mistakes (wrong secret, bad JSON, unknown paths, malformed HTTP): counted, logged once per code per 10 s.
  const peerErrors = createPeerErrorLog({ logger, component: 'http', level: 'info' });
  let closing = false;
  let closed: Promise<void> | undefined;

  const originAllowed = (origin: string | undefined): origin is string =>
    origin !== undefined && corsOrigins.some((o) => (typeof o === 'string' ? o === origin : o.test(origin)));

  const corsHeaders = (req: IncomingMessage): Record<string, string> => {
    const origin = header(req, 'origin');
    return originAllowed(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
  };

  const routes = new Map<string, Route>();
  if (options.clickToCall) {
    const clickToCall = options.clickToCall;
    routes.set('/api/v1/click-to-call', {
      methods: ['POST', 'OPTIONS'],
      auth: ['secret', 'widget'],
      api: true,
      cors: true,
      async handle({ req, res, auth, signal, log }) {
        const request = await readClickToCall(req, auth as AuthContext, config.max_body_bytes);
        const cors = corsHeaders(req);
        log.info({ userId: request.userId, phone: request.phone, auth: auth?.kind }, 'click-to-call requested');
        const result = await clickToCall({ ...request, signal });
        if (signal.aborted) return;
        if (result.placed) {
          const answer = Object.fromEntries(CLICK_TO_CALL_FIELDS.filter((k) => result[k] !== undefined).map((k) => [k, result[k]]));
          sendJson(res, 200, answer, cors);
          return;
        }
        const status = clickToCallStatus(result);
        const error = { code: result.error?.code ?? 'ORIGINATE_FAILED', message: result.error?.message ?? 'the call could not be placed' };
        log.warn({ userId: request.userId, code: error.code, status }, 'click-to-call not placed');
        sendJson(res, status, { placed: false, error }, cors);
      },
    });
  }
  if (options.status) {
    const status = options.status;
    routes.set('/api/v1/status', {
      methods: ['GET'],
      auth: ['secret'],
      api: true,
      async handle({ res }) {
        const snapshot = await status();
        const t = now();
        const overall = overallStatus(snapshot, t, thresholds);
        sendJson(res, 200, redact({ app: overall.app, reasons: overall.reasons, uptime_seconds: uptimeSeconds(snapshot, t), ...snapshot }));
      },
    });
    routes.set('/metrics', {
      methods: ['GET'],
      auth: ['secret'],
      api: true,
      async handle({ res }) {
        const snapshot = await status();
        const peer = { ...snapshot.peer_errors, http: peerErrors.totals() };
        sendText(res, 200, renderMetrics({ ...snapshot, peer_errors: peer }, now(), thresholds), METRICS_CONTENT_TYPE);
      },
    });
  }
  const recordingsRoute: Route | undefined = options.links
    ? {
        methods: ['GET', 'HEAD'],
        auth: null,
        api: false,
        async handle({ req, res, log, token }) {
          await serveRecording(req, res, token as string, { links: options.links as LinkResolver, open: openFile, logger: log });
        },
      }
    : undefined;

  // --- admin panel (lib/adapters/http/admin): its own sign-in, sessions and CSRF ---
  const adminRoute: Route | undefined = options.admin
    ? { methods: ['GET', 'HEAD', 'POST'], auth: null, api: false, handle: ({ req, res }) => (options.admin as Pick<AdminPanel, 'handle'>).handle(req, res, (req.url ?? '/').split('?', 1)[0] ?? '/') }
    : undefined;

  function match(path: string): { route: Route; token?: string } | undefined {
    if (/%|\.\.|\/\/|\\/.test(path)) return undefined;
    const route = routes.get(path);
    if (route) return { route };
    if (adminRoute && (path === '/admin' || path.startsWith('/admin/'))) return { route: adminRoute };
    if (recordingsRoute && path.startsWith('/recordings/')) {
      const m = TOKEN_SEGMENT.exec(path.slice('/recordings/'.length));
      if (m?.[1]) return { route: recordingsRoute, token: m[1] };
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = now();
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0] ?? '/';
    const found = url.startsWith('/') ? match(path) : undefined;
    // Never log a recording token: it is a credential.
    const logPath = found?.token !== undefined ? '/recordings/…' : found ? path : '(unmatched)';
    const log = logger.child({ http: { method: req.method, path: logPath } });
    const controller = new AbortController();
    inFlight.add(controller);
    res.on('close', () => {
      inFlight.delete(controller);
      log.debug({ status: res.statusCode, ms: now() - started }, 'http request');
      if (inFlight.size === 0) for (const w of idleWaiters) w();
    });
    if (closing) res.setHeader('connection', 'close');
    try {
      if (closing) throw HttpError.of('HTTP_SHUTTING_DOWN', 'the server is shutting down');
      if (!found) throw HttpError.of('HTTP_NOT_FOUND', 'not found');
      const { route, token } = found;
      const method = req.method ?? 'GET';
      if (!route.methods.includes(method)) {
        throw HttpError.of('HTTP_METHOD_NOT_ALLOWED', `method ${method} is not allowed here`, { headers: { allow: route.methods.join(', ') } });
      }
      if (method === 'OPTIONS') {
        preflight(req, res, route);
        return;
      }
      const auth = route.auth ? authenticate(req, route.auth, authOptions) : null;
      const ctx: RequestContext = { req, res, auth, signal: controller.signal, log, ...(token !== undefined ? { token } : {}) };
      if (route.api) await withDeadline(route.handle(ctx), controller, handlerTimeoutMs);
      else await route.handle(ctx);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const httpErr = err instanceof HttpError ? err : HttpError.of('HTTP_INTERNAL', 'internal error');
      if (!(err instanceof HttpError)) log.error({ err }, 'http handler failed');
      else if (httpErr.status >= 500) log.warn({ code: httpErr.code }, 'http request failed');
      else peerErrors.report(httpErr.code, { remote: req.socket?.remoteAddress, message: `${req.method ?? '?'} ${logPath}: ${httpErr.status} ${httpErr.message}` });
      // A body not read yet must not be parsed as the next request: close the connection.
      if (!req.complete) res.setHeader('connection', 'close');
      // The widget must be able to read why it was refused (401, 400 …), not see a bare CORS failure.
      sendError(res, httpErr, found?.route.cors ? corsHeaders(req) : {});
      if (!req.complete) req.resume();
    }
  }

  function preflight(req: IncomingMessage, res: ServerResponse, route: Route): void {
    const origin = header(req, 'origin');
    if (!originAllowed(origin)) throw HttpError.of('HTTP_FORBIDDEN', 'origin not allowed');
    res.writeHead(204, {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': route.methods.filter((m) => m !== 'OPTIONS').join(', '),
      'access-control-allow-headers': 'Content-Type, X-Auth-Token, Authorization',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
    res.end();
  }

  const server = createServer({
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(requestTimeoutMs, 10_000),
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(requestTimeoutMs / 4))),
    keepAliveTimeout: 5_000,
  });
  server.on('request', (req, res) => {
    void handle(req, res);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, code, message] =
      err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'HTTP_BAD_REQUEST', 'request headers too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'HTTP_REQUEST_TIMEOUT', 'request timed out']
      : [400, 'HTTP_BAD_REQUEST', 'malformed HTTP request'];
    peerErrors.report(code, { remote: socket.remoteAddress, message: `${status} ${message}` });
    const body = JSON.stringify({ error: { code, message } });
    socket.end(`HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  function waitIdle(ms: number): Promise<boolean> {
    if (inFlight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), ms);
      const finish = (idle: boolean): void => {
        clearTimeout(timer);
        idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = (): void => finish(true);
      idleWaiters.add(onIdle);
    });
  }

  function stopListening(): Promise<void> {
    return new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
    });
  }

  return {
    server,
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(config.port, config.host, () => {
          server.off('error', onError);
          const a = server.address() as AddressInfo;
          logger.info({ host: a.address, port: a.port }, 'http server listening');
          resolve({ host: a.address, port: a.port });
        });
      });
    },
    address() {
      const a = server.address();
      return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
    },
    close() {
      if (closed) return closed;
      closing = true;
      closed = (async () => {
        const stopped = stopListening();
        server.closeIdleConnections();
        const idle = await waitIdle(drainTimeoutMs);
        if (!idle) {
          for (const c of inFlight) c.abort(new Error('server closing'));
          logger.warn({ inFlight: inFlight.size }, 'http requests cut at close');
        }
        server.closeAllConnections();
        await stopped;
        peerErrors.close();
      })();
      return closed;
    },
    destroy() {
      closing = true;
      for (const c of inFlight) c.abort(new Error('server destroyed'));
      const stopped = stopListening();
      server.closeAllConnections();
      peerErrors.close();
      closed ??= stopped;
      return stopped;
    },
  };
}

async function withDeadline(work: Promise<void>, controller: AbortController, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(HttpError.of('HTTP_HANDLER_TIMEOUT', 'the request took too long')); // settles first
      controller.abort(new Error('handler timeout'));
    }, ms);
    // close()/destroy() abort the handler: stop waiting for it (its connection is cut).
    onAbort = () => reject(HttpError.of('HTTP_SHUTTING_DOWN', 'the server is shutting down'));
    controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort) controller.signal.removeEventListener('abort', onAbort);
    work.catch(() => undefined); // a late rejection after the deadline is not unhandled
    deadline.catch(() => undefined);
  }
}
