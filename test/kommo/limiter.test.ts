import t from 'tap';
import { createLimiterRegistry, createRateLimiter, type Permit } from '../../lib/adapters/kommo/limiter.js';
import { KommoError } from '../../lib/adapters/kommo/errors.js';
import { FakeClock, flush } from './fake-clock.js';
import { maxPerWindow } from './helpers.js';


/** Deterministic pseudo-random numbers. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

t.test('admits up to the limit at once, then waits', async (t) => {
  const clock = new FakeClock();
  const lim = createRateLimiter({ limit: 3, clock, marginMs: 0 });
  const permits: Permit[] = [];
  for (let i = 0; i < 3; i++) permits.push(await lim.acquire());
  let fourth: Permit | undefined;
  void lim.acquire().then((p) => { fourth = p; });
  await flush();
  t.equal(fourth, undefined, 'fourth waits while three are in flight');
  t.equal(lim.stats().queued, 1);
  permits[0]?.release();
  await clock.advance(999);
  t.equal(fourth, undefined, 'a settled request holds its slot for the window');
  await clock.advance(1);
  t.ok(fourth, 'admitted once the window passed');
  t.same({ ...lim.stats(), queued: 0 }, { sentLastSecond: 1, limit: 3, total: 4, throttledWaits: 1, queued: 0, realtimeTotal: 0, realtimeWaits: 0 });
});

t.test('a request that never left frees its slot at once', async (t) => {
  const clock = new FakeClock();
  const lim = createRateLimiter({ limit: 1, clock });
  const p = await lim.acquire();
  let next: Permit | undefined;
  void lim.acquire().then((x) => { next = x; });
  p.release({ sent: false });
  p.release(); // idempotent
  await flush();
  t.ok(next);
});

t.test('burst of 200 with random latency: never more than 7 arrivals in any 1 s window', async (t) => {
  const clock = new FakeClock();
  const lim = createRateLimiter({ limit: 7, clock, marginMs: 0 });
  const rand = rng(42);
  const arrivals: number[] = [];
  const admissions: number[] = [];
  let done = 0;
  for (let i = 0; i < 200; i++) {
    void lim.acquire().then((permit) => {
      const start = clock.now();
      admissions.push(start);
      const latency = Math.floor(rand() * 400);
      // Kommo sees the request at any instant between send and answer.
      arrivals.push(start + Math.floor(rand() * (latency + 1)));
      clock.setTimeout(() => { permit.release(); done++; }, latency);
    });
  }
  for (let i = 0; i < 400 && done < 200; i++) await clock.advance(250);
  t.equal(done, 200, 'all completed');
  t.ok(maxPerWindow(arrivals, 1000) <= 7, `max arrivals per 1 s window: ${maxPerWindow(arrivals, 1000)}`);
  t.ok(maxPerWindow(admissions, 1000) <= 7, 'max admissions per window ≤ 7');
  t.equal(lim.stats().throttledWaits, 193);
  t.ok(clock.t < 200 / 7 * 1400 + 2000, `throughput stays reasonable (${clock.t} ms)`);
});

t.test('FIFO order', async (t) => {
  const clock = new FakeClock();
  const lim = createRateLimiter({ limit: 1, clock, marginMs: 0, windowMs: 100 });
  const order: number[] = [];
  for (let i = 0; i < 5; i++) {
    void lim.acquire().then((p) => { order.push(i); p.release(); });
  }
  await clock.advance(1000);
  t.same(order, [0, 1, 2, 3, 4]);
});

t.test('pause holds everyone, then resumes', async (t) => {
  const clock = new FakeClock();
  const lim = createRateLimiter({ limit: 7, clock });
  lim.pause(2000);
  let got = false;
  void lim.acquire().then((p) => { got = true; p.release(); });
  await clock.advance(1999);
  t.equal(got, false);
  await clock.advance(1);
  t.equal(got, true);
  lim.pause(0);
  lim.pause(-5);
  t.equal((await lim.acquire()) !== undefined, true, 'zero/negative pause is ignored');
});

t.test('abort while waiting rejects with KOMMO_ABORTED and leaves the queue', async (t) => {
  const clock = new FakeClock();
  const lim = createRateLimiter({ limit: 1, clock });
  const held = await lim.acquire();
  const ac = new AbortController();
  const waiting = lim.acquire(ac.signal);
  ac.abort(new Error('budget'));
  await t.rejects(waiting, { code: 'KOMMO_ABORTED' });
  t.equal(lim.stats().queued, 0);
  await t.rejects(lim.acquire(ac.signal), { code: 'KOMMO_ABORTED' }, 'already aborted');
  held.release();
});

t.test('the queue is bounded', async (t) => {
  const clock = new FakeClock();
  const lim = createRateLimiter({ limit: 1, clock, maxQueue: 2 });
  await lim.acquire();
  void lim.acquire();
  void lim.acquire();
  const err = await lim.acquire().catch((e: unknown) => e);
  t.ok(err instanceof KommoError);
  t.equal((err as KommoError).code, 'KOMMO_RATE_LIMITED');
});

t.test('registry: one limiter per account origin', async (t) => {
  const reg = createLimiterRegistry(new FakeClock());
  const a = reg.get('https://acme.kommo.com', 7);
  t.equal(reg.get('https://ACME.kommo.com/', 3), a, 'same origin, same limiter (first limit wins)');
  t.not(reg.get('https://other.kommo.com', 7), a);
  t.equal(a.limit, 7);
  t.equal(reg.get('not a url', 7), reg.get('NOT A URL', 7));
});

t.test('priority lanes: realtime waiters go before a backlog of normal ones; the reserve is never taken by normal work', async (t) => {
  const clock = new FakeClock();
  const lim = createRateLimiter({ limit: 2, clock, marginMs: 0 });
  const held = [await lim.acquire(), await lim.acquire()];
  const order: string[] = [];
  for (let i = 0; i < 5; i++) void lim.acquire(undefined, 'normal').then((p) => { order.push(`normal${i}`); p.release(); });
  void lim.acquire(undefined, 'realtime').then((p) => { order.push('realtime'); p.release(); });
  await flush();
  t.same(order, [], 'all wait while the limit is used');
  held[0]?.release();
  await clock.advance(1000);
  t.equal(order[0], 'realtime', 'the realtime waiter came in ahead of the five normal ones');
  t.match(lim.stats(), { realtimeTotal: 1, realtimeWaits: 1 });
  held[1]?.release();
  for (let s = 0; s < 6; s++) await clock.advance(1000);
  t.same(order, ['realtime', 'normal0', 'normal1', 'normal2', 'normal3', 'normal4'], 'normal work keeps its FIFO order');

  const reserved = createRateLimiter({ limit: 3, clock, marginMs: 0, realtimeReserve: 1 });
  const normal = [await reserved.acquire(), await reserved.acquire()];
  let third: Permit | undefined;
  void reserved.acquire().then((p) => { third = p; });
  await flush();
  t.equal(third, undefined, 'normal work stops at limit - reserve');
  const rt = await Promise.race([reserved.acquire(undefined, 'realtime'), clock.advance(0).then(() => undefined)]);
  t.ok(rt, 'a realtime request takes the reserved slot at once');
  t.equal(reserved.stats().realtimeWaits, 0, 'without waiting');
  for (const p of normal) p.release();
  rt?.release();
  await clock.advance(1000);
  t.ok(third, 'the normal waiter is admitted when a non-reserved slot frees');
  const capped = createRateLimiter({ limit: 1, clock, realtimeReserve: 5 });
  t.ok(await capped.acquire(), 'a reserve is never the whole limit');
});
