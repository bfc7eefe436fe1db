/**
 * The one backoff (lib/platform/backoff.ts) and the policies that use it: Kommo retries (full
 * jitter), registration pauses (equal jitter, Retry-After as a floor), AMI reconnects
 * (equal jitter, never below ami.reconnect_min_ms).
 */
import t from 'tap';
import { delay, type BackoffPolicy } from '../lib/platform/backoff.js';
import { pausePolicy } from '../lib/domain/registration/retry-schedule.js';
import { decideRetry, DEFAULT_RETRY_POLICY } from '../lib/adapters/kommo/retry.js';

const ALMOST_ONE = 1 - Number.EPSILON;
const RANDOMS = [0, 0.001, 0.25, 0.5, 0.75, 0.999, ALMOST_ONE];

t.test('full jitter: [0, step), capped, no overflow', async (t) => {
  const p: BackoffPolicy = { baseMs: 100, maxMs: 1000, jitter: 'full' };
  t.equal(delay(0, p, ALMOST_ONE), 99);
  t.equal(delay(1, p, ALMOST_ONE), 199);
  t.equal(delay(3, p, ALMOST_ONE), 799);
  t.equal(delay(4, p, ALMOST_ONE), 999, 'capped at maxMs');
  t.equal(delay(1e6, p, ALMOST_ONE), 999, 'no overflow on huge attempts');
  t.equal(delay(2, p, 0), 0, 'full jitter reaches zero');
  t.equal(delay(2, p, 1), 399, 'random 1 is treated as just under 1');
});

t.test('equal jitter: [step/2, step); none: the step', async (t) => {
  const p: BackoffPolicy = { baseMs: 100, maxMs: 1000, jitter: 'equal' };
  t.equal(delay(0, p, 0), 50);
  t.equal(delay(0, p, ALMOST_ONE), 99);
  t.equal(delay(2, p, 0), 200);
  t.equal(delay(30, p, 0), 500, 'capped, jittered into [max/2, max)');
  t.equal(delay(3, { ...p, jitter: 'none' }, 0.3), 800);
  t.equal(delay(-2, p, 0), 50, 'a negative attempt counts as the first');
});

t.test('a floor is never undercut by jitter (AMI reconnect_min_ms, Retry-After)', async (t) => {
  for (const [min, max] of [[200, 30_000], [500, 30_000], [10, 100], [1000, 1000]] as const) {
    const ami: BackoffPolicy = { baseMs: min, maxMs: max, jitter: 'equal', floorMs: min };
    let lowest = Infinity;
    let highest = 0;
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const r of RANDOMS) {
        const d = delay(attempt, ami, r);
        lowest = Math.min(lowest, d);
        highest = Math.max(highest, d);
      }
    }
    t.equal(lowest, min, `reconnect_min_ms ${min}: the first delay is the floor, never below (${lowest})`);
    t.ok(highest <= max, `reconnect_max_ms ${max}: never above (${highest})`);
  }
  t.equal(delay(0, { baseMs: 200, maxMs: 30_000, jitter: 'equal', floorMs: 200 }, 0.25), 200, 'the case of the report: 150 ms before, 200 now');
  t.equal(delay(0, pausePolicy(100, 1000, 5000), 0), 5000, 'a Retry-After above the cap wins');
  const d = decideRetry(1, { kind: 'status', status: 429, retryAfterMs: 2000 }, DEFAULT_RETRY_POLICY, { idempotent: true, elapsedMs: 0, answeredAttempts: 1, random: 0 });
  t.same([d.retry, d.delayMs], [true, 2000], 'Kommo: Retry-After is the floor of a full-jitter delay');
});
