/**
 * One HTTP exchange with Kommo over undici, with explicit deadlines and an AbortSignal.
 * It never throws for network trouble: the result says what happened, including whether
 * the request bytes were written (`sent`), which the retry policy needs to know whether a
 * create could have reached Kommo.
 *
 * `sent` comes from undici's `onRequestSent` handler callback, observed by an interceptor
 * composed onto the client's own Agent (no global dispatcher). Errors of the connect phase
 * (DNS, refused, unreachable, connect timeout) are never-sent whatever the hook says.
 */
import { Agent, type Dispatcher, request } from 'undici';
import type { AttemptOutcome } from './retry.js';
import { parseBody, type ParsedBody } from './json.js';

/** Per-attempt marker passed as undici `opaque`, flipped when the request was written. */
export class SendTracker {
  hooked = false;
  sent = false;
}

/** Wraps the handler of requests that carry a SendTracker so `onRequestSent` flips it. */
const trackSent: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const tracker = (handler as { opaque?: unknown }).opaque;
  if (!(tracker instanceof SendTracker)) return dispatch(opts, handler);
  tracker.hooked = true;
  const wrapped = new Proxy(handler, {
    get(target, prop) {
      if (prop === 'onRequestSent') {
        return () => {
          tracker.sent = true;
          const fn = (target as { onRequestSent?: () => void }).onRequestSent;
          return typeof fn === 'function' ? fn.call(target) : undefined;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return dispatch(opts, wrapped);
};

export interface TransportOptions {
  connectTimeoutMs: number;
  /** Deadline for the answer's headers and, separately, between body chunks. */
  requestTimeoutMs: number;
}

export interface Transport {
  readonly dispatcher: Dispatcher;
  exchange(req: ExchangeRequest): Promise<ExchangeResult>;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

export interface ExchangeRequest {
  url: string;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Called once the answer's headers arrived or the attempt failed. */
  onSettled?: ((sent: boolean) => void) | undefined;
}

export type ExchangeResult =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined>; body: ParsedBody }
  | { kind: 'failure'; outcome: AttemptOutcome & { kind: 'network' | 'timeout' }; error: Error; aborted: boolean };

/** Codes of failures before any byte of the request could be written. */
const CONNECT_PHASE_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EHOSTUNREACH', 'ENETUNREACH',
  'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
]);

/** Every `code` on the error, its causes and (AggregateError) its parts. */
function errorCodes(err: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const stack: unknown[] = [err];
  while (stack.length > 0 && seen.size < 16) {
    const e = stack.pop();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const { code, cause, errors } = e as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string') out.push(code);
    if (cause !== undefined) stack.push(cause);
    if (Array.isArray(errors)) stack.push(...(errors as unknown[]));
  }
  return out;
}

export function classifyFailure(err: unknown, tracker: SendTracker): AttemptOutcome & { kind: 'network' | 'timeout' } {
  const codes = errorCodes(err);
  if (codes.includes('UND_ERR_HEADERS_TIMEOUT')) return { kind: 'timeout', sent: true, phase: 'headers' };
  if (codes.includes('UND_ERR_BODY_TIMEOUT')) return { kind: 'timeout', sent: true, phase: 'body' };
  if (!tracker.sent && codes.includes('UND_ERR_CONNECT_TIMEOUT')) return { kind: 'timeout', sent: false, phase: 'connect' };
  const connectCode = codes.find((c) => CONNECT_PHASE_CODES.has(c));
  if (!tracker.sent && connectCode !== undefined) return { kind: 'network', sent: false, code: connectCode };
  const code = codes[0] ?? 'UNKNOWN';
  // A reset/close: never-sent only when the hook ran and saw no write.
  const sent = tracker.sent || !tracker.hooked;
  return { kind: 'network', sent, code };
}

export function createTransport(options: TransportOptions): Transport {
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 30_000,
  });
  const dispatcher = agent.compose(trackSent);

  return {
    dispatcher,
    async exchange(req) {
      const tracker = new SendTracker();
      let settled = false;
      const settle = (sent: boolean): void => {
        if (settled) return;
        settled = true;
        req.onSettled?.(sent);
      };
      try {
        const res = await request(req.url, {
          dispatcher,
          method: req.method,
          headers: req.headers,
          body: req.body,
          signal: req.signal,
          opaque: tracker,
          headersTimeout: options.requestTimeoutMs,
          bodyTimeout: options.requestTimeoutMs,
        });
        settle(true);
        const text = await res.body.text();
        const ct = res.headers['content-type'];
        return {
          kind: 'response',
          status: res.statusCode,
          headers: res.headers,
          body: parseBody(text, Array.isArray(ct) ? ct[0] : ct),
        };
      } catch (err) {
        const outcome = classifyFailure(err, tracker);
        settle(outcome.sent);
        const aborted = req.signal?.aborted === true;
        return { kind: 'failure', outcome, error: err as Error, aborted };
      }
    },
    close: () => agent.close(),
    destroy: () => agent.destroy(),
  };
}
