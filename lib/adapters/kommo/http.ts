/**
 * The request pipeline every endpoint goes through:
 *   token → rate-limit slot → one exchange (deadlines, AbortSignal) → classify →
 *   401: refresh once (single flight) and retry once →
 *   `decideRetry` (pure policy) → sleep (cancellable) or a coded error.
 *
 * Bodies are encoded without JSON null. 204 gives `null`. Logs carry method, path,
 * status, attempt and delay — never tokens, never bodies.
 */
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { AuthProvider } from './auth.js';
import { KommoAuthError, KommoError, KommoUnreachableError } from './errors.js';
import { encodeJson, isRecord } from './json.js';
import type { Priority, RateLimiter } from './limiter.js';
import { problemToError } from './problem.js';
import { type AttemptOutcome, decideRetry, parseRetryAfter, type RetryPolicy } from './retry.js';
import type { ExchangeResult, Transport } from './transport.js';

export interface RequestOptions {
  /** Cancels the request, its waits and its retries (KOMMO_ABORTED). */
  signal?: AbortSignal | undefined;
  /** The create's `request_id`, and a log field. Give a stable one for durable work. */
  requestId?: string | undefined;
  /** Cap the retry budget of this call below `kommo.retry.max_elapsed_ms` (e.g. the CLI). */
  retryBudgetMs?: number | undefined;
  /** `realtime`: a caller is waiting (autodistribution look-ups): served before everything else. */
  priority?: Priority | undefined;
}

export interface HttpRequest {
  method: Dispatcher.HttpMethod;
  /** Path below the base URL, e.g. `/api/v4/contacts`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  /**
   * The body, made when the first rate-limit slot is granted (instead of `body`): a
   * coalescer (batch.ts) adds items to a request until the moment it can leave. Called
   * once; retries send the same bytes.
   */
  bodyAtSend?: (() => unknown) | undefined;
  /** Can the request be repeated without a second effect? */
  idempotent: boolean;
  /** Send the bearer token (false only for the OAuth grant itself). */
  auth?: boolean;
  signal?: AbortSignal | undefined;
  requestId?: string | undefined;
  retryBudgetMs?: number | undefined;
  priority?: Priority | undefined;
}

export interface HttpResponse {
  status: number;
  /** Parsed JSON; null for 204 or an empty body. */
  body: unknown;
}

export interface HttpClientOptions {
  baseUrl: string;
  transport: Transport;
  limiter: RateLimiter;
  policy: RetryPolicy;
  logger: Logger;
  now: () => number;
  random: () => number;
  userAgent?: string;
  /** Aborts waits (limiter, backoff, refresh) when the client closes. */
  closing: AbortSignal;
  /** Aborts exchanges in flight when the client is destroyed. */
  destroying: AbortSignal;
}

export interface HttpClient {
  send(req: HttpRequest): Promise<HttpResponse>;
  setAuth(auth: AuthProvider): void;
  /** Answers received, by kind: every HTTP answer, 429s, 5xx; and requests that got no answer. */
  counters(): { answered: number; rateLimited: number; serverErrors: number; unanswered: number };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function buildUrl(baseUrl: string, path: string, query?: HttpRequest['query']): string {
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  if (query) {
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  }
  return url.toString();
}

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const counts = { answered: 0, rateLimited: 0, serverErrors: 0, unanswered: 0 };
  const log = opts.logger;
  let auth: AuthProvider | undefined;
  const ua = opts.userAgent ?? 'kommo-asterisk';

  const stopped = (req: HttpRequest, callerSignal: AbortSignal | undefined, maybeApplied: boolean): KommoError => {
    if (callerSignal?.aborted) {
      return new KommoError('KOMMO_ABORTED', `${req.method} ${req.path} was aborted by the caller`, {
        cause: callerSignal.reason, maybeApplied,
      });
    }
    return new KommoError('KOMMO_CLOSED', `${req.method} ${req.path} was cancelled: the Kommo client is closing`, { maybeApplied });
  };

  async function send(req: HttpRequest): Promise<HttpResponse> {
    const useAuth = req.auth !== false;
    const callerSignal = req.signal;
    const waitSignal = AbortSignal.any([opts.closing, ...(callerSignal ? [callerSignal] : [])]);
    const fetchSignal = AbortSignal.any([opts.destroying, ...(callerSignal ? [callerSignal] : [])]);
    const url = buildUrl(opts.baseUrl, req.path, req.query);
    let payload = req.body === undefined ? undefined : encodeJson(req.body);
    const start = opts.now();
    let attempt = 0;
    let answered = 0;
    let authRetried = false;
    const meta = { method: req.method, path: req.path, requestId: req.requestId };
    const policy = req.retryBudgetMs !== undefined && req.retryBudgetMs < opts.policy.maxElapsedMs
      ? { ...opts.policy, maxElapsedMs: Math.max(0, req.retryBudgetMs) } : opts.policy;

    for (;;) {
      if (waitSignal.aborted) throw stopped(req, callerSignal, false);
      attempt++;
      let token: string | undefined;
      try {
        token = useAuth ? await auth?.token(waitSignal) : undefined;
      } catch (err) {
        if (waitSignal.aborted) throw stopped(req, callerSignal, false);
        throw err;
      }
      if (useAuth && token === undefined) {
        throw new KommoAuthError('KOMMO_NO_CREDENTIALS', 'no Kommo credentials are configured');
      }
      let permit;
      try {
        permit = await opts.limiter.acquire(waitSignal, req.priority);
      } catch (err) {
        if (waitSignal.aborted) throw stopped(req, callerSignal, false);
        throw err;
      }
      if (useAuth) token = auth?.peek() ?? token;
      if (payload === undefined && req.bodyAtSend) {
        try {
          payload = encodeJson(req.bodyAtSend());
        } catch (err) {
          permit.release({ sent: false });
          throw err;
        }
      }
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': ua };
      if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
      if (payload !== undefined) headers['content-type'] = 'application/json';

      let result: ExchangeResult;
      try {
        result = await opts.transport.exchange({
          url, method: req.method, headers, body: payload, signal: fetchSignal,
          onSettled: (sent) => permit.release({ sent }),
        });
      } finally {
        permit.release();
      }

      let outcome: AttemptOutcome;
      if (result.kind === 'failure') {
        if (result.aborted || fetchSignal.aborted) {
          throw stopped(req, callerSignal, !req.idempotent && result.outcome.sent);
        }
        outcome = result.outcome;
      } else {
        const { status } = result;
        if (status >= 200 && status < 300) {
          if (status === 204 || result.body.text === '') return { status, body: null };
          if (!result.body.isJson) {
            throw new KommoError('KOMMO_BAD_RESPONSE', `Kommo answered ${status} to ${req.method} ${req.path} with a body that is not JSON`, {
              status, method: req.method, path: req.path, maybeApplied: !req.idempotent,
            });
          }
          return { status, body: result.body.json };
        }
        if (status === 401 && useAuth && auth && token !== undefined) {
          if (authRetried) {
            throw new KommoAuthError('KOMMO_AUTH_FAILED',
              `Kommo answered 401 to ${req.method} ${req.path} again after a token refresh`, { status, path: req.path });
          }
          authRetried = true;
          log.info({ ...meta, status, attempt }, 'kommo answered 401; refreshing the token');
          try {
            await auth.unauthorized(token, waitSignal);
          } catch (err) {
            if (waitSignal.aborted) throw stopped(req, callerSignal, false);
            throw err;
          }
          attempt--; // the auth retry does not count against the policy
          continue;
        }
        const retryField = isRecord(result.body.json) ? result.body.json['retry_after'] : undefined;
        const retryAfterMs = parseRetryAfter(result.headers['retry-after'], retryField, opts.now());
        outcome = { kind: 'status', status, retryAfterMs };
      }
      if (outcome.kind === 'status') {
        answered++;
        counts.answered++;
        if (outcome.status === 429) counts.rateLimited++;
        else if (outcome.status >= 500) counts.serverErrors++;
      } else {
        counts.unanswered++;
      }

      const decision = decideRetry(attempt, outcome, policy, {
        idempotent: req.idempotent,
        elapsedMs: opts.now() - start,
        answeredAttempts: answered,
        random: opts.random(),
      });
      if (outcome.kind === 'status' && outcome.status === 429) {
        // Everyone sharing the account's limiter backs off, not only this caller.
        opts.limiter.pause(outcome.retryAfterMs ?? Math.max(decision.delayMs, 1000));
      }
      const what = outcome.kind === 'status' ? { status: outcome.status } : { error: outcome.kind === 'network' ? outcome.code : `${outcome.phase} timeout`, sent: outcome.sent };
      if (!decision.retry) {
        // A plain "no" (400/404 …) is the caller's to report; outages and rate limits are ours.
        const answeredNo = outcome.kind === 'status' && outcome.status < 500 && outcome.status !== 429;
        log[answeredNo ? 'debug' : 'warn']({ ...meta, ...what, attempt, reason: decision.reason }, 'kommo request failed');
        throw finalError(req, result, outcome, attempt, decision.maybeApplied);
      }
      log.warn({ ...meta, ...what, attempt, delayMs: decision.delayMs }, 'kommo request failed; retrying');
      try {
        await sleep(decision.delayMs, waitSignal);
      } catch {
        throw stopped(req, callerSignal, false);
      }
    }
  }

  return {
    send,
    setAuth(a) {
      auth = a;
    },
    counters: () => ({ ...counts }),
  };
}

function finalError(req: HttpRequest, result: ExchangeResult, outcome: AttemptOutcome, attempts: number, maybeApplied: boolean): KommoError {
  const fields = { method: req.method, path: req.path, attempts, maybeApplied };
  if (result.kind === 'response') {
    if (result.status >= 500) {
      return new KommoUnreachableError('KOMMO_SERVER_ERROR',
        `Kommo answered ${result.status} to ${req.method} ${req.path} (after ${attempts} attempt(s))`,
        { ...fields, status: result.status });
    }
    return problemToError(result.status, result.body, { method: req.method, path: req.path, requestId: req.requestId });
  }
  if (outcome.kind === 'timeout') {
    return new KommoUnreachableError('KOMMO_TIMEOUT',
      `Kommo did not answer ${req.method} ${req.path} in time (${outcome.phase}, after ${attempts} attempt(s))`,
      { ...fields, cause: result.error });
  }
  return new KommoUnreachableError('KOMMO_UNREACHABLE',
    `cannot reach Kommo for ${req.method} ${req.path}: ${outcome.kind === 'network' ? outcome.code : 'failure'} (after ${attempts} attempt(s))`,
    { ...fields, cause: result.error });
}
