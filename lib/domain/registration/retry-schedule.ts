/**
 * When to try again after a failure: data plus pure functions.
 *
 * Transient (Kommo unreachable, 429, 5xx, expired token that could not be refreshed
 * for network reasons, store I/O): the worker pauses **all** registration for a
 * capped exponential backoff with equal jitter (../backoff.ts), at least a Retry-After,
 * then lets one call through as a probe.
 * Anything else (Kommo said no, a bug): the record is `failed` until `retryFailed`.
 */
import { isTransient } from '../../adapters/kommo/errors.js';
import { KaError } from '../../platform/errors.js';
import type { BackoffPolicy } from '../../platform/backoff.js';

/** The registration pause: the connector's one backoff (../backoff.ts) with equal jitter. */
export function pausePolicy(baseMs: number, maxMs: number, retryAfterMs?: number): BackoffPolicy {
  return { baseMs: Math.max(1, baseMs), maxMs, jitter: 'equal', ...(retryAfterMs === undefined ? {} : { floorMs: retryAfterMs }) };
}

export type FailureKind = 'transient' | 'permanent';

/**
 * Failures of the account or of the connector, not of this call: a bad or expired
 * token, an unpaid or blocked account, a missing PHONE field, a closed client, the
 * journal's disk. Marking calls failed for them would need a manual retry of every
 * call once the administrator fixes the cause, so the worker waits instead.
 */
const ACCOUNT_LEVEL_CODES: ReadonlySet<string> = new Set([
  'KOMMO_AUTH_FAILED',
  'KOMMO_REFRESH_FAILED',
  'KOMMO_NO_CREDENTIALS',
  'KOMMO_TOKEN_STORE',
  'KOMMO_PAYMENT_REQUIRED',
  'KOMMO_BLOCKED',
  'KOMMO_PHONE_FIELD_MISSING',
  'KOMMO_CLOSED',
  'REGISTRATION_STORE_IO',
]);

export function classifyFailure(err: unknown): FailureKind {
  if (isTransient(err)) return 'transient';
  if (err instanceof KaError && ACCOUNT_LEVEL_CODES.has(err.code)) return 'transient';
  return 'permanent';
}

/** A Retry-After hint carried by an error (ms), if any. */
export function retryAfterOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const v = (err as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

export function errorSummary(err: unknown): { code: string; message: string; status?: number } {
  const code = err instanceof KaError ? err.code : 'INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? { code, message, status } : { code, message };
}
