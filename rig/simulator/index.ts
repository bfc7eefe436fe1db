/**
 * A strict local stand-in for the Kommo REST API v4, for tests and manual runs.
 *
 *   const sim = await startSimulator({ rateLimitPerSecond: 7 });
 *   fetch(`${sim.url}/api/v4/account`, { headers: { authorization: `Bearer ${sim.longLivedToken}` } });
 *   sim.faults.fail(2, 503); sim.state.contacts; sim.requests; await sim.close();
 *
 * `sim.state` holds live objects: `users`, `customFields.{contacts,companies,leads}`,
 * `pipelines`, `taskTypes` (arrays); `contacts`, `companies`, `leads`, `notes`, `tasks`
 * (Map id → entity); `unsorted` (Map uid → record); `calls` (array, creation order).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AuthStore, mintToken } from './auth.js';
import { FaultState } from './faults.js';
import { problem, Router, type ResolvedOptions, type Reply } from './http.js';
import { inspect, type InspectTarget } from './inspect.js';
import { handleApi, type ApiRequest } from './pipeline.js';
import { RateLimiter } from './ratelimit.js';
import { callRoutes } from './routes/calls.js';
import { eventRoutes } from './routes/events.js';
import { leadRoutes } from './routes/leads.js';
import { metaRoutes } from './routes/meta.js';
import { noteRoutes } from './routes/notes.js';
import { oauthRoutes } from './routes/oauth.js';
import { partyRoutes } from './routes/parties.js';
import { taskRoutes } from './routes/tasks.js';
import { unsortedRoutes } from './routes/unsorted.js';
import { SimState } from './state.js';
import type { OAuthOptions, RequestLogEntry, SeedData, SimCounters, SimLogger, SimulatorOptions } from './types.js';

export { SEED_IDS, defaultSeed } from './seed.js';
export { SimState } from './state.js';
export type * from './types.js';

export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface SimulatorFaults {
  /** Requests are dropped (socket destroyed, no HTTP answer) until up() or `ms` elapse. */
  down(ms?: number): void;
  up(): void;
  /** Delay every answer by `ms` (on top of latencyMs). */
  slow(ms: number): void;
  /** Hold every answer (or only `route`'s, e.g. `POST /api/v4/calls`) until clear(); the work itself is done. */
  hang(route?: string): void;
  /** The next `count` requests (or only `route`'s, e.g. `GET /api/v4/contacts`) answer `status` (default 500) problem+json. */
  fail(count: number, status?: number, route?: string): void;
  /** OAuth access tokens issued so far answer 401 from now on. */
  expireAccessTokens(): void;
  /** Undo down/slow/hang/fail (held answers are sent). */
  clear(): void;
}

export interface KommoSimulator {
  readonly url: string;
  readonly state: SimState;
  readonly requests: RequestLogEntry[];
  readonly counters: SimCounters;
  readonly faults: SimulatorFaults;
  /** The long-lived Bearer token (accepted forever). */
  readonly longLivedToken: string;
  /** The OAuth integration the token endpoint accepts. */
  readonly oauth: Readonly<Required<OAuthOptions>>;
  issueAccessToken(): string;
  currentRefreshToken(): string | undefined;
  seed(data: Partial<SeedData>): void;
  /** Clear entities, request log, counters, faults, rate windows and blocks; keep the seed. */
  reset(): void;
  close(): Promise<void>;
}

function zeroCounters(c: SimCounters): void {
  c.total = 0;
  c.rateLimited = 0;
  c.refreshes = 0;
  c.dropped = 0;
  c.blocked = 0;
  for (const k of Object.keys(c.byStatus)) delete c.byStatus[Number(k)];
  for (const k of Object.keys(c.byRoute)) delete c.byRoute[k];
}

const REDACT = new Set(['client_secret', 'refresh_token', 'access_token', 'code']);

function redact(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, REDACT.has(k) ? '[redacted]' : v]));
}

function queryRecord(q: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(q.keys())) {
    const all = q.getAll(key);
    out[key] = all.length === 1 ? (all[0] ?? '') : all;
  }
  return out;
}

class Simulator implements KommoSimulator, InspectTarget {
  readonly state: SimState;
  readonly requests: RequestLogEntry[] = [];
  readonly counters: SimCounters = { total: 0, byStatus: {}, rateLimited: 0, byRoute: {}, refreshes: 0, dropped: 0, blocked: 0 };
  readonly faults: SimulatorFaults;
  readonly longLivedToken: string;
  readonly oauth: Required<OAuthOptions>;
  url = '';

  private readonly opts: ResolvedOptions;
  private readonly auth: AuthStore;
  private readonly limiter: RateLimiter;
  private readonly faultState: FaultState;
  private readonly router = new Router();
  private readonly server = createServer({ keepAlive: true });
  private readonly sockets = new Set<Socket>();
  private readonly sleeps = new Set<() => void>();
  private readonly logger: SimLogger | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: SimulatorOptions) {
    const now = options.now ?? Date.now;
    this.state = new SimState(options.seed, now);
    const accountId = this.state.account.id;
    this.opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      rateLimitPerSecond: options.rateLimitPerSecond ?? 7,
      blockAfter429s: options.blockAfter429s ?? 20,
      blockMs: options.blockMs ?? 60_000,
      rateLimitBody: options.rateLimitBody ?? 'json',
      latencyMs: options.latencyMs ?? 0,
      unsortedDuplicates: options.unsortedDuplicates ?? 'tag',
      missingEntityStatus: options.missingEntityStatus ?? 204,
      rejectInactiveUsers: options.rejectInactiveUsers ?? true,
      maxLogEntries: options.maxLogEntries ?? 10_000,
      now,
      longLivedToken: options.longLivedToken ?? mintToken(accountId, 5 * 365 * 86400, now(), 'long-lived'),
    };
    this.longLivedToken = this.opts.longLivedToken;
    this.oauth = {
      clientId: 'sim-client-id',
      clientSecret: 'sim-client-secret',
      redirectUri: 'https://connector.example.test/oauth/callback',
      authorizationCode: 'sim-authorization-code',
      accessTokenTtlSeconds: 86_400,
      revokeOldAccessToken: true,
      ...options.oauth,
      refreshToken: options.oauth?.refreshToken ?? mintToken(accountId, 90 * 86400, now(), 'refresh'),
    };
    this.logger = options.logger;
    this.auth = new AuthStore(this.longLivedToken, this.oauth, accountId, now);
    this.limiter = new RateLimiter(this.opts.rateLimitPerSecond, this.opts.blockAfter429s, this.opts.blockMs, now);
    this.faultState = new FaultState(now, () => this.destroySockets());
    const fs = this.faultState;
    this.faults = {
      down: (ms) => fs.down(ms),
      up: () => fs.up(),
      slow: (ms) => fs.slow(ms),
      hang: (route) => fs.hang(route),
      fail: (count, status, route) => fs.fail(count, status, route),
      expireAccessTokens: () => this.auth.expireAccessTokens(),
      clear: () => fs.clear(),
    };
    this.router.add(metaRoutes).add(unsortedRoutes).add(leadRoutes).add(partyRoutes).add(callRoutes)
      .add(eventRoutes).add(taskRoutes).add(noteRoutes).add(oauthRoutes(this.auth, this.counters));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.onRequest(req, res).catch((err: unknown) => {
        this.logger?.error({ err }, 'simulator request failed');
        if (!res.headersSent && !res.destroyed) this.send(res, problem(500, 'Simulator internal error'));
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('simulator: no TCP address');
    const host = addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1'
      : addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.url = `http://${host}:${addr.port}`;
  }

  issueAccessToken(): string {
    return this.auth.issueAccessToken();
  }

  currentRefreshToken(): string | undefined {
    return this.auth.currentRefreshToken();
  }

  faultSnapshot(): Record<string, unknown> {
    return { ...this.faultState.snapshot(), blocked: this.limiter.isBlocked(), blockRemainingMs: this.limiter.blockRemainingMs() };
  }

  seed(data: Partial<SeedData>): void {
    this.state.applySeed(data);
  }

  reset(): void {
    this.state.clearEntities();
    this.requests.length = 0;
    zeroCounters(this.counters);
    this.limiter.reset();
    this.faultState.clear();
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.faultState.release();
      for (const wake of this.sleeps) wake();
      this.server.close(() => resolve());
      this.destroySockets();
    });
    return this.closing;
  }

  private destroySockets(): void {
    for (const s of this.sockets) s.destroy();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeps.add(wake);
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = this.opts.now();
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    if (path === '/__sim' || path.startsWith('/__sim/')) {
      const { body, bodyError } = await this.readBody(req);
      let reply: Reply;
      try {
        reply = bodyError ?? inspect(this, method, path, url.searchParams, body);
      } catch (err) {
        reply = (err as { reply?: Reply }).reply ?? problem(500, String(err));
      }
      this.send(res, reply);
      return;
    }
    this.counters.total += 1;
    if (this.faultState.isDown()) {
      this.counters.dropped += 1;
      this.log({ at, method, path, query: queryRecord(url.searchParams), body: undefined, status: 0, auth: 'none', route: 'down' });
      req.socket.destroy();
      return;
    }
    const { body, bodyError } = await this.readBody(req);
    const apiReq: ApiRequest = { method, path, query: url.searchParams, authorization: req.headers.authorization, body, bodyError };
    const outcome = handleApi({
      state: this.state, opts: this.opts, router: this.router, auth: this.auth, limiter: this.limiter,
      faults: this.faultState, counters: this.counters, baseUrl: this.url, logger: this.logger,
    }, apiReq);
    const { reply } = outcome;
    this.counters.byStatus[reply.status] = (this.counters.byStatus[reply.status] ?? 0) + 1;
    this.counters.byRoute[outcome.route] = (this.counters.byRoute[outcome.route] ?? 0) + 1;
    const entry: RequestLogEntry = {
      at, method, path, query: queryRecord(url.searchParams), body: redact(body), status: reply.status,
      auth: outcome.auth, route: outcome.route,
    };
    this.log(entry);
    const delay = this.opts.latencyMs + this.faultState.delayMs();
    if (delay > 0) await this.sleep(delay);
    const held = this.faultState.waitWhileHung(outcome.route);
    if (held) await held;
    if (res.destroyed || this.closing) {
      entry.status = 0;
      return;
    }
    this.send(res, reply);
  }

  private log(entry: RequestLogEntry): void {
    this.requests.push(entry);
    const excess = this.requests.length - this.opts.maxLogEntries;
    if (excess > 0) this.requests.splice(0, excess);
  }

  private async readBody(req: IncomingMessage): Promise<{ body: unknown; bodyError: Reply | undefined }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > MAX_BODY_BYTES) return { body: undefined, bodyError: problem(413, `Body larger than ${MAX_BODY_BYTES} bytes`) };
      chunks.push(buf);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    if (raw.trim() === '') return { body: undefined, bodyError: undefined };
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (type.startsWith('application/x-www-form-urlencoded')) {
      return { body: Object.fromEntries(new URLSearchParams(raw)), bodyError: undefined };
    }
    try {
      return { body: JSON.parse(raw) as unknown, bodyError: undefined };
    } catch (err) {
      return { body: raw.slice(0, 10_000), bodyError: problem(400, `Invalid JSON: ${(err as Error).message}`) };
    }
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed || res.headersSent) return;
    const headers: Record<string, string> = { ...reply.headers };
    let payload: string | undefined;
    if (reply.status !== 204) {
      if (reply.text !== undefined) payload = reply.text;
      else if (reply.body !== undefined) payload = JSON.stringify(reply.body);
      if (payload !== undefined) {
        headers['Content-Type'] = reply.contentType ?? 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(payload));
      }
    }
    res.writeHead(reply.status, headers);
    if (reply.after) res.once('finish', reply.after);
    res.end(payload);
  }
}

/** Start a simulator listening on `host:port` (default 127.0.0.1, a free port). */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<KommoSimulator> {
  const sim = new Simulator(opts);
  await sim.listen();
  return sim;
}

export { runSimulatorCli, parseSimulatorArgs } from './cli.js';
