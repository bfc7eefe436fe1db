import t from 'tap';
import {
  decideRetry, DEFAULT_RETRY_POLICY, parseRetryAfter, retryPolicyFromConfig, type AttemptOutcome, type RetryPolicy,
} from '../../lib/adapters/kommo/retry.js';

const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, maxElapsedMs: 10_000 };
const ctx = (over: Partial<{ idempotent: boolean; elapsedMs: number; answeredAttempts: number; random: number }> = {}) => ({
  idempotent: true, elapsedMs: 0, answeredAttempts: 1, random: 0.5, ...over,
});
const status = (s: number, retryAfterMs?: number): AttemptOutcome => ({ kind: 'status', status: s, retryAfterMs });
const refused: AttemptOutcome = { kind: 'network', sent: false, code: 'ECONNREFUSED' };
const resetAfterSend: AttemptOutcome = { kind: 'network', sent: true, code: 'UND_ERR_SOCKET' };
const headersTimeout: AttemptOutcome = { kind: 'timeout', sent: true, phase: 'headers' };
const connectTimeout: AttemptOutcome = { kind: 'timeout', sent: false, phase: 'connect' };

t.test('answers that are final are never retried', async (t) => {
  for (const s of [400, 401, 402, 403, 404, 422]) {
    const d = decideRetry(1, status(s), policy, ctx());
    t.equal(d.retry, false, `${s}`);
    t.equal(d.maybeApplied, false);
  }
});

t.test('429 is retried for creates too and waits at least retry_after', async (t) => {
  const d = decideRetry(1, status(429, 2000), policy, ctx({ idempotent: false, random: 0 }));
  t.equal(d.retry, true);
  t.equal(d.delayMs, 2000);
  const d2 = decideRetry(1, status(429), policy, ctx({ idempotent: false, random: 0.5 }));
  t.equal(d2.retry, true);
  t.equal(d2.delayMs, 50);
});

t.test('429 whose Retry-After is beyond the budget stops', async (t) => {
  const d = decideRetry(1, status(429, 60_000), policy, ctx({ elapsedMs: 1000 }));
  t.equal(d.retry, false);
});

t.test('503 is safe for creates; 500/502/504 only for idempotent requests', async (t) => {
  t.equal(decideRetry(1, status(503), policy, ctx({ idempotent: false })).retry, true);
  for (const s of [500, 502, 504]) {
    t.equal(decideRetry(1, status(s), policy, ctx({ idempotent: true })).retry, true, `${s} GET`);
    const d = decideRetry(1, status(s), policy, ctx({ idempotent: false }));
    t.equal(d.retry, false, `${s} create`);
    t.equal(d.maybeApplied, true, `${s} create may be applied`);
  }
  const d = decideRetry(1, status(501), policy, ctx({ idempotent: false }));
  t.same([d.retry, d.maybeApplied], [false, true]);
});

t.test('never-sent failures are retried for creates', async (t) => {
  t.equal(decideRetry(1, refused, policy, ctx({ idempotent: false, answeredAttempts: 0 })).retry, true);
  t.equal(decideRetry(1, connectTimeout, policy, ctx({ idempotent: false, answeredAttempts: 0 })).retry, true);
});

t.test('a reset or timeout after sending a create is not retried and may be applied', async (t) => {
  for (const o of [resetAfterSend, headersTimeout]) {
    const d = decideRetry(1, o, policy, ctx({ idempotent: false }));
    t.equal(d.retry, false);
    t.equal(d.maybeApplied, true);
    t.equal(decideRetry(1, o, policy, ctx({ idempotent: true })).retry, true, 'idempotent: retried');
  }
});

t.test('maxAttempts bounds attempts that Kommo answered', async (t) => {
  t.equal(decideRetry(3, status(503), policy, ctx({ answeredAttempts: 3 })).retry, false);
  t.equal(decideRetry(3, status(429, 10), policy, ctx({ answeredAttempts: 3 })).retry, false);
  t.equal(decideRetry(2, status(503), policy, ctx({ answeredAttempts: 2 })).retry, true);
  t.equal(decideRetry(9, headersTimeout, policy, ctx({ answeredAttempts: 0 })).retry, true, 'timeouts: budget only');
  t.equal(decideRetry(9, resetAfterSend, policy, ctx({ answeredAttempts: 3 })).retry, true, 'idempotent reset: budget only');
});

t.test('never-sent failures are bounded by the time budget only', async (t) => {
  const d = decideRetry(50, refused, policy, ctx({ idempotent: false, answeredAttempts: 0, elapsedMs: 5000 }));
  t.equal(d.retry, true);
  const end = decideRetry(50, refused, policy, ctx({ idempotent: false, answeredAttempts: 0, elapsedMs: 10_000 }));
  t.equal(end.retry, false);
  t.equal(end.maybeApplied, false);
});

t.test('the last delay is clamped to the budget left', async (t) => {
  const d = decideRetry(10, refused, policy, ctx({ answeredAttempts: 0, elapsedMs: 9_900, random: 0.99 }));
  t.equal(d.retry, true);
  t.equal(d.delayMs, 100);
});

t.test('a budget can span a 30 s outage', async (t) => {
  const p = retryPolicyFromConfig({ max_attempts: 5, base_delay_ms: 500, max_delay_ms: 5000, max_elapsed_ms: 45_000 });
  let elapsed = 0;
  let attempt = 0;
  // worst case jitter (always the cap): never stops before 30 s have passed
  for (;;) {
    attempt++;
    const d = decideRetry(attempt, refused, p, { idempotent: false, elapsedMs: elapsed, answeredAttempts: 0, random: 0.999 });
    if (!d.retry) break;
    elapsed += d.delayMs;
  }
  t.ok(elapsed >= 45_000 - 1, `kept retrying for ${elapsed} ms`);
});

t.test('parseRetryAfter: body field wins, header seconds or HTTP date', async (t) => {
  t.equal(parseRetryAfter('5', 2, 0), 2000);
  t.equal(parseRetryAfter('5', undefined, 0), 5000);
  t.equal(parseRetryAfter(['3'], 'x', 0), 3000);
  const now = Date.parse('2024-01-01T00:00:00Z');
  t.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', undefined, now), 10_000);
  t.equal(parseRetryAfter('Mon, 01 Jan 2023 00:00:10 GMT', undefined, now), 0, 'past date → 0');
  t.equal(parseRetryAfter('soon', undefined, now), undefined);
  t.equal(parseRetryAfter('-1', undefined, now), undefined);
  t.equal(parseRetryAfter(undefined, '1.5', now), 1500);
});

t.test('retryPolicyFromConfig fills defaults and clamps', async (t) => {
  const p = retryPolicyFromConfig(undefined);
  t.same(p, DEFAULT_RETRY_POLICY);
  t.equal(retryPolicyFromConfig({ max_attempts: 0 }).maxAttempts, 1);
  t.ok(Object.isFrozen(p));
});
