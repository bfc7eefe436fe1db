/**
 * The one backoff of the connector: capped exponential delays with jitter, as data
 * plus a pure function. Kommo request retries, registration pauses and AMI
 * reconnects each name a policy; nothing else computes a delay.
 *
 *   delay(0, { baseMs: 500, maxMs: 30_000, jitter: 'equal', floorMs: 500 }, Math.random())
 *
 * `attempt` counts from 0 (the first retry). The exponential step is
 * `min(maxMs, baseMs · 2^attempt)`; jitter spreads it:
 *   - `full`  — [0, step): the most spread (many clients after one outage);
 *   - `equal` — [step/2, step): spread, but never much shorter than the step;
 *   - `none`  — exactly the step.
 * The result is never below `floorMs` (the configured minimum, or a server's
 * Retry-After) — jitter never undercuts a floor — and never above `maxMs` unless the
 * floor is higher.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter: 'full' | 'equal' | 'none';
  /** Never wait less than this. */
  readonly floorMs?: number;
}

/** Exponents beyond this add nothing but overflow risk (2^30 · 1 ms is 12 days). */
const MAX_EXPONENT = 30;

export function delay(attempt: number, policy: BackoffPolicy, random: number): number {
  const base = Math.max(0, policy.baseMs);
  const cap = Math.max(base, policy.maxMs);
  const n = Math.min(MAX_EXPONENT, Math.max(0, Math.floor(attempt)));
  const step = Math.min(cap, base * 2 ** n);
  const r = Math.min(Math.max(random, 0), 1 - Number.EPSILON);
  const jittered = policy.jitter === 'full' ? step * r : policy.jitter === 'equal' ? step / 2 + (step / 2) * r : step;
  return Math.max(policy.floorMs ?? 0, Math.floor(jittered));
}
