/**
 * What happens to one Kommo API request before its handler runs, in order:
 * block (403 HTML) → rate limit (429) → injected failure → route (404/405) →
 * Bearer auth for /api/v4 and /api/v2 (401) → body parse errors (400) → handler.
 * Pure of sockets: takes the parsed request, returns a Reply and what to record.
 */
import type { AuthStore } from './auth.js';
import type { FaultState } from './faults.js';
import { problem, SimHttpError, TITLES, type Ctx, type ResolvedOptions, type Reply, type Router } from './http.js';
import type { RateLimiter } from './ratelimit.js';
import type { SimState } from './state.js';
import type { SimCounters, SimLogger } from './types.js';

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body: unknown;
  /** Why the body could not be parsed (invalid JSON, too large), if so. */
  bodyError: Reply | undefined;
}

export interface ApiDeps {
  state: SimState;
  opts: ResolvedOptions;
  router: Router;
  auth: AuthStore;
  limiter: RateLimiter;
  faults: FaultState;
  counters: SimCounters;
  baseUrl: string;
  logger: SimLogger | undefined;
}

export interface ApiOutcome {
  reply: Reply;
  route: string;
  auth: 'ok' | 'none' | 'bad';
}

const BLOCKED_HTML = '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n'
  + '<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

function rateLimited(opts: ResolvedOptions, retryAfter: number): Reply {
  const headers = { 'Retry-After': String(retryAfter) };
  const variant = opts.rateLimitBody === 'random' ? (Math.random() < 0.5 ? 'json' : 'text') : opts.rateLimitBody;
  if (variant === 'text') return { status: 429, text: 'Too Many Requests', contentType: 'text/plain', headers };
  return { ...problem(429, 'Too many requests', { retry_after: retryAfter }), headers };
}

export function handleApi(deps: ApiDeps, req: ApiRequest): ApiOutcome {
  const { counters, faults, limiter, opts } = deps;
  if (limiter.isBlocked()) {
    counters.blocked += 1;
    return { reply: { status: 403, text: BLOCKED_HTML, contentType: 'text/html' }, route: 'blocked', auth: 'none' };
  }
  const admission = limiter.take();
  if (!admission.ok) {
    counters.rateLimited += 1;
    return { reply: rateLimited(opts, admission.retryAfterSeconds), route: 'rate-limited', auth: 'none' };
  }
  const match = deps.router.match(req.method, req.path);
  const failStatus = faults.takeFailure(routeKey(req, match));
  if (failStatus !== undefined) {
    return { reply: problem(failStatus, `Injected failure (${TITLES[failStatus] ?? failStatus})`), route: 'fault', auth: 'none' };
  }
  const isApi = /^\/api\/v[24](?:\/|$)/.test(req.path);
  let auth: ApiOutcome['auth'] = 'none';
  if (isApi) {
    const checked = deps.auth.check(req.authorization);
    auth = checked.auth;
    if (checked.auth !== 'ok') return { reply: problem(401, checked.detail), route: routeKey(req, match), auth };
  }
  if (match === undefined) return { reply: problem(404, `No route ${req.method} ${req.path}`), route: 'unmatched', auth };
  if (match === 'method') return { reply: problem(405, `Method ${req.method} is not allowed here`), route: 'unmatched', auth };
  const route = `${match.route.method} ${match.route.pattern}`;
  if (req.bodyError) return { reply: req.bodyError, route, auth };
  const ctx: Ctx = {
    method: req.method, path: req.path, params: match.params, query: req.query, body: req.body,
    state: deps.state, opts, baseUrl: deps.baseUrl, userId: deps.state.account.current_user_id,
  };
  try {
    return { reply: match.route.handler(ctx), route, auth };
  } catch (err) {
    if (err instanceof SimHttpError) return { reply: err.reply, route, auth };
    deps.logger?.error({ err, route }, 'simulator handler failed');
    return { reply: problem(500, 'Simulator internal error'), route, auth };
  }
}

function routeKey(req: ApiRequest, match: ReturnType<Router['match']>): string {
  return match && match !== 'method' ? `${match.route.method} ${match.route.pattern}` : 'unmatched';
}
