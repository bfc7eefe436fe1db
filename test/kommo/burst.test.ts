/** A burst of 200 concurrent calls never exceeds 7 requests in any sliding second. */
import t from 'tap';
import { harness, maxPerWindow } from './helpers.js';

t.test('200 concurrent requests: zero 429s at the simulator\'s 7 req/s', async (t) => {
  const { client, sim } = await harness(t, { sim: { rateLimitPerSecond: 7 }, config: { request_timeout_ms: 5000 } });
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, client.rateStats().sentLastSecond); }, 20);
  t.teardown(() => clearInterval(sampler));
  const started = Date.now();
  const calls = Array.from({ length: 200 }, (_, i) => (i % 10 === 0
    ? client.createContact({ name: `Burst ${i}` }, { requestId: `burst-${i}` })
    : client.getAccount()));
  const results = await Promise.allSettled(calls);
  clearInterval(sampler);
  const failed = results.filter((r) => r.status === 'rejected');
  t.equal(failed.length, 0, `all succeeded ${failed.map((f) => String((f as PromiseRejectedResult).reason)).slice(0, 3).join('; ')}`);
  t.equal(sim.counters.rateLimited, 0, 'the simulator answered no 429');
  t.equal(sim.counters.blocked, 0);
  t.equal(sim.counters.total, 200, 'no retries were needed');
  const windowMax = maxPerWindow(sim.requests.map((r) => r.at));
  t.ok(windowMax <= 7, `max requests in any 1 s window at the simulator: ${windowMax}`);
  t.ok(peak <= 7, `client-side sentLastSecond peak ${peak}`);
  const stats = client.rateStats();
  t.equal(stats.limit, 7);
  t.equal(stats.total, 200);
  t.ok(stats.throttledWaits >= 190);
  t.equal(sim.state.contacts.size, 20, 'each create exactly once');
  t.comment(`200 requests in ${Date.now() - started} ms`);
});

t.test('two clients of the same account share one limiter', async (t) => {
  const { createKommoClient, createLimiterRegistry } = await import('../../lib/adapters/kommo/index.js');
  const { memoryLogger, kommoConfig } = await import('./helpers.js');
  const h = await harness(t, { sim: { rateLimitPerSecond: 7 } });
  const registry = createLimiterRegistry();
  const mk = () => createKommoClient(kommoConfig(h.sim.url, { long_lived_token: h.sim.longLivedToken }), {
    logger: memoryLogger().logger, dataDir: h.dataDir, limiters: registry,
  });
  const a = mk();
  const b = mk();
  t.teardown(async () => { await a.destroy(); await b.destroy(); });
  await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).getAccount()));
  t.equal(h.sim.counters.rateLimited, 0);
  t.ok(maxPerWindow(h.sim.requests.map((r) => r.at)) <= 7);
});
