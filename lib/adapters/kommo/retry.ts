/**
 * Retry policy as data plus one pure function, `decideRetry`.
 *
 * What an attempt can end in (`AttemptOutcome`):
 * - an HTTP answer (`status`), possibly with a `retryAfterMs` from the `Retry-After` header
 *   or the `retry_after` body field;
 * - a network failure or a timeout, with `sent` telling whether the request bytes were
 *   written to a socket. `sent: false` means Kommo provably never saw the request (DNS
 *   failure, connection refused, connect timeout, reset before writing).
 *
 * Rules:
 * - 429 and 503 are retried for every request: Kommo refused before processing.
 *   429 waits at least `retryAfterMs`.
 * - Other retryable 5xx (500, 502, 504), a reset after sending and a headers/body timeout
 *   are retried only for idempotent requests (GET, PATCH with absolute values, link).
 *   For a create they are final, with `maybeApplied: true`: the durable layer must look
 *   before it creates again.
 * - Never-sent failures are retried for every request.
 * - `maxAttempts` bounds the attempts Kommo **answered** (429, 5xx): it is what keeps us
 *   from hammering a struggling or rate-limiting Kommo. Failures without an answer
 *   (refused, reset, timeouts) are bounded by the `maxElapsedMs` budget (and the caller's
 *   AbortSignal), so a create survives an outage of tens of seconds — never-sent requests
 *   only, so without risking a duplicate — and a lookup rides out a flapping network.
 * - Delays: the connector's one backoff (../backoff.ts) with full jitter,
 *   `random(0, min(maxDelayMs, baseDelayMs * 2^(attempt-1)))`, never below a Retry-After,
 *   clamped to what is left of `maxElapsedMs` (the last try happens at the edge of the
 *   budget, not before it).
 */
import { delay } from '../../platform/backoff.js';

export interface RetryPolicy {
  /** Attempts (first one included) that Kommo answered (429/5xx), before giving up. >= 1. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Total budget from the first attempt; no retry starts after it. */
  readonly maxElapsedMs: number;
  /** Statuses retried for every request (Kommo did not process the request). */
  readonly safeStatuses: readonly number[];
  /** Statuses retried only for idempotent requests. */
  readonly idempotentStatuses: readonly number[];
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxElapsedMs: 90_000,
  safeStatuses: Object.freeze([429, 503]),
  idempotentStatuses: Object.freeze([500, 502, 504]),
});

export type AttemptOutcome =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterMs?: number | undefined }
  | { readonly kind: 'network'; readonly sent: boolean; readonly code: string }
  | { readonly kind: 'timeout'; readonly sent: boolean; readonly phase: 'connect' | 'headers' | 'body' };

export interface RetryContext {
  /** Can the request be repeated without a second effect? */
  readonly idempotent: boolean;
  /** Milliseconds since the first attempt started. */
  readonly elapsedMs: number;
  /** Attempts so far that Kommo answered (including this one, when it did). */
  readonly answeredAttempts: number;
  /** A number in [0, 1): the jitter source, injected so the function stays pure. */
  readonly random: number;
}

export interface RetryDecision {
  readonly retry: boolean;
  readonly delayMs: number;
  /** True when this outcome means a non-idempotent request may have been applied. */
  readonly maybeApplied: boolean;
  readonly reason: string;
}

/**
 * Decide whether to retry after `attempt` attempts (1-based) ended in `outcome`.
 * Pure: no clock, no randomness of its own.
 */
export function decideRetry(
  attempt: number,
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  ctx: RetryContext,
): RetryDecision {
  const stop = (reason: string, maybeApplied = false): RetryDecision => ({ retry: false, delayMs: 0, maybeApplied, reason });

  let minDelay = 0;
  if (outcome.kind === 'status') {
    const { status } = outcome;
    if (status < 500 && status !== 429) return stop(`status ${status} is final`);
    if (policy.safeStatuses.includes(status)) {
      minDelay = outcome.retryAfterMs ?? 0;
    } else if (policy.idempotentStatuses.includes(status)) {
      if (!ctx.idempotent) return stop(`status ${status} after a create may have applied it`, true);
    } else {
      return stop(`status ${status} is not retryable`, status >= 500 && !ctx.idempotent);
    }
  } else if (outcome.sent && !ctx.idempotent) {
    return stop(`${outcome.kind} after sending a create may have applied it`, true);
  }

  if (outcome.kind === 'status' && ctx.answeredAttempts >= policy.maxAttempts) {
    return stop(`gave up after ${ctx.answeredAttempts} answered attempts`);
  }
  const left = policy.maxElapsedMs - ctx.elapsedMs;
  if (left <= 0) return stop(`retry budget of ${policy.maxElapsedMs} ms spent`);
  const wait = delay(attempt - 1, { baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, jitter: 'full', floorMs: minDelay }, ctx.random);
  if (minDelay > left) return stop(`Retry-After of ${minDelay} ms is beyond the retry budget`);
  return { retry: true, delayMs: Math.min(wait, left), maybeApplied: false, reason: 'retryable' };
}

/**
 * Parse a `Retry-After` header (seconds or an HTTP date) or a `retry_after` body field
 * (seconds) into milliseconds. Garbage and negative values give undefined.
 */
export function parseRetryAfter(header: string | string[] | undefined, bodyField: unknown, nowMs: number): number | undefined {
  const fromBody = typeof bodyField === 'number' ? bodyField : typeof bodyField === 'string' ? Number(bodyField) : NaN;
  if (Number.isFinite(fromBody) && fromBody >= 0) return Math.round(fromBody * 1000);
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw.trim());
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** The policy from `kommo.retry` (snake_case config), defaults for missing keys. */
export function retryPolicyFromConfig(retry: {
  readonly max_attempts?: number;
  readonly base_delay_ms?: number;
  readonly max_delay_ms?: number;
  readonly max_elapsed_ms?: number;
} | undefined): RetryPolicy {
  const d = DEFAULT_RETRY_POLICY;
  return Object.freeze({
    ...d,
    maxAttempts: Math.max(1, retry?.max_attempts ?? d.maxAttempts),
    baseDelayMs: Math.max(0, retry?.base_delay_ms ?? d.baseDelayMs),
    maxDelayMs: Math.max(0, retry?.max_delay_ms ?? d.maxDelayMs),
    maxElapsedMs: Math.max(0, retry?.max_elapsed_ms ?? d.maxElapsedMs),
  });
}
