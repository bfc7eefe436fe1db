/** 429 recovery: Retry-After / retry_after honoured, creates neither lost nor duplicated. */
import t from 'tap';
import { KommoApiError, isTransient } from '../../lib/adapters/kommo/index.js';
import { harness } from './helpers.js';

for (const body of ['json', 'text'] as const) {
  t.test(`a Kommo stricter than us (3 req/s), 429 with ${body} body: every create lands once`, async (t) => {
    const { client, sim, log } = await harness(t, {
      sim: { rateLimitPerSecond: 3, rateLimitBody: body },
      config: { retry: { max_attempts: 6, base_delay_ms: 50, max_delay_ms: 500, max_elapsed_ms: 30_000 } },
    });
    const created = await Promise.all(Array.from({ length: 10 }, (_, i) => client.createContact({ name: `RL ${i}` }, { requestId: `rl-${i}` })));
    t.equal(new Set(created.map((c) => c.id)).size, 10);
    t.ok(sim.counters.rateLimited > 0, `the simulator rate-limited ${sim.counters.rateLimited} request(s)`);
    t.equal(client.rateStats().rateLimited, sim.counters.rateLimited, 'the client counted every 429 it received');
    t.equal(sim.counters.blocked, 0, 'never blocked');
    const names = [...sim.state.contacts.values()].map((c) => c.name).sort();
    t.same(names, Array.from({ length: 10 }, (_, i) => `RL ${i}`).sort(), 'each contact exactly once');
    const waits = log.lines.filter((l) => l['status'] === 429 && typeof l['delayMs'] === 'number');
    t.ok(waits.length > 0 && waits.every((l) => (l['delayMs'] as number) >= 1000), 'waited at least Retry-After (1 s)');
  });
}

t.test('429 retries exhausted → KOMMO_RATE_LIMITED, transient', async (t) => {
  const { client, sim } = await harness(t, { config: { retry: { max_attempts: 2, base_delay_ms: 10 } } });
  sim.faults.fail(2, 429);
  const err = await client.createContact({ name: 'x' }).catch((e: unknown) => e);
  t.ok(err instanceof KommoApiError);
  t.match(err, { code: 'KOMMO_RATE_LIMITED', status: 429, maybeApplied: false });
  t.equal(isTransient(err), true);
  t.equal(sim.state.contacts.size, 0);
});

t.test('503 before processing: a create is retried and lands once', async (t) => {
  const { client, sim } = await harness(t);
  sim.faults.fail(2, 503);
  const c = await client.createContact({ name: 'after 503' });
  t.ok(c.id > 0);
  t.equal(sim.state.contacts.size, 1);
});

t.test('blocked account (403 HTML) → KOMMO_BLOCKED', async (t) => {
  const { client, sim } = await harness(t, { sim: { rateLimitPerSecond: 1, blockAfter429s: 1 }, config: { retry: { max_attempts: 1 } } });
  await client.getAccount();
  await client.getAccount().catch(() => undefined); // 429 → the simulator blocks the account
  const err = await client.getAccount().catch((e: unknown) => e);
  t.match(err, { code: 'KOMMO_BLOCKED', status: 403 });
  t.ok(sim.counters.blocked >= 1);
});
