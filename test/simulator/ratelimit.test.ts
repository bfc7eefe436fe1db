import t from 'tap';
import { RateLimiter } from '../../rig/simulator/ratelimit.js';
import { call, withSim } from './helpers.js';

t.test('more than N requests in a 1 s window → 429 problem+json with retry_after and Retry-After', async (t) => {
  const sim = await withSim(t, { rateLimitPerSecond: 3 });
  const answers = await Promise.all(Array.from({ length: 5 }, () => call(sim, 'GET', '/api/v4/account')));
  const statuses = answers.map((a) => a.status).sort();
  t.same(statuses, [200, 200, 200, 429, 429]);
  const limited = answers.find((a) => a.status === 429)!;
  t.match(limited.type, /problem\+json/);
  t.match(limited.json, { status: 429, retry_after: Number });
  t.ok(Number(limited.headers.get('retry-after')) >= 1);
  t.equal(sim.counters.rateLimited, 2);
  t.equal(sim.counters.byStatus[429], 2);
});

t.test('the 429 body can be plain text (not JSON)', async (t) => {
  const sim = await withSim(t, { rateLimitPerSecond: 1, rateLimitBody: 'text' });
  await call(sim, 'GET', '/api/v4/account');
  const a = await call(sim, 'GET', '/api/v4/account');
  t.equal(a.status, 429);
  t.match(a.type, /^text\/plain/);
  t.throws(() => JSON.parse(a.text));
  t.ok(a.headers.get('retry-after'));
});

t.test('requests are admitted again once the window slides', async (t) => {
  let now = 1_000_000;
  const sim = await withSim(t, { rateLimitPerSecond: 2, now: () => now });
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 200);
  now += 500;
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 200);
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 429);
  now += 501;
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 200, 'the first request left the window');
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 429);
});

t.test('repeated 429s block the account: 403 HTML for every call until blockMs passes', async (t) => {
  let now = 5_000_000;
  const sim = await withSim(t, { rateLimitPerSecond: 1, blockAfter429s: 3, blockMs: 60_000, now: () => now });
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 200);
  for (let i = 0; i < 3; i += 1) t.equal((await call(sim, 'GET', '/api/v4/account')).status, 429);
  now += 5_000;
  const blocked = await call(sim, 'GET', '/api/v4/account');
  t.equal(blocked.status, 403);
  t.match(blocked.type, /^text\/html/);
  t.match(blocked.text, /<html>/);
  t.equal((await call(sim, 'POST', '/oauth2/access_token', {}, null)).status, 403, 'every call, even the token endpoint');
  t.equal(sim.counters.blocked, 2);
  const state = await fetch(`${sim.url}/__sim/faults`).then((r) => r.json()) as { blocked: boolean };
  t.equal(state.blocked, true, '/__sim stays reachable');
  now += 60_000;
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 200, 'unblocked after blockMs');
});

t.test('429s spread over more than 10 s do not block', async (t) => {
  let now = 0;
  const limiter = new RateLimiter(1, 3, 60_000, () => now);
  for (let i = 0; i < 6; i += 1) {
    now += 6_000;
    t.ok(limiter.take().ok);
    t.notOk(limiter.take().ok);
  }
  t.notOk(limiter.isBlocked());
  now += 1_000;
  limiter.take();
  limiter.take();
  limiter.take();
  t.ok(limiter.isBlocked(), 'three quick 429s do');
  limiter.reset();
  t.notOk(limiter.isBlocked());
});
