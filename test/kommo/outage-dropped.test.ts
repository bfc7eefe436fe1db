/**
 * Outages where the request reaches Kommo but no answer comes back (the simulator's
 * `faults.down`: socket destroyed after the request arrived; `faults.slow` past our
 * deadline: applied, then timed out). A create is then NOT retried by the client: it fails
 * with `maybeApplied: true`, and the durable layer looks before it creates again — played
 * here by `registerOnce`. Lookups (idempotent) ride out the 30 s outage by themselves.
 */
import t from 'tap';
import { isMaybeApplied, isTransient, type KommoClient } from '../../lib/adapters/kommo/index.js';
import { harness } from './helpers.js';

const PHONE = '+79990004040';
const body = { name: 'Dropped caller', custom_fields_values: [{ field_code: 'PHONE', values: [{ value: PHONE, enum_code: 'WORK' }] }] };

/** What the registration layer does: create; on "maybe applied" look first, then retry. */
async function registerOnce(client: KommoClient, events: string[]): Promise<number> {
  for (let round = 0; round < 10; round++) {
    const existing = await client.findContactsByPhone(PHONE);
    if (existing[0]) {
      events.push('found');
      return existing[0].id;
    }
    try {
      const { id } = await client.createContact(body, { requestId: 'call-42:contact' });
      events.push('created');
      return id;
    } catch (err) {
      if (!isTransient(err)) throw err;
      events.push(isMaybeApplied(err) ? 'maybe-applied' : 'not-applied');
    }
  }
  throw new Error('gave up');
}

t.test('faults.down(30 s): create dropped → maybeApplied; look-then-create lands once', async (t) => {
  const { client, sim } = await harness(t, {
    config: { retry: { max_attempts: 5, base_delay_ms: 250, max_delay_ms: 2000, max_elapsed_ms: 60_000 } },
  });
  await client.getAccount();
  sim.faults.down(30_000);
  const started = Date.now();
  const err = await client.createContact(body, { requestId: 'call-42:contact' }).catch((e: unknown) => e);
  t.match(err, { code: 'KOMMO_UNREACHABLE', maybeApplied: true }, 'a create that reached Kommo is not retried blindly');
  t.ok(Date.now() - started < 5000, 'and fails fast');
  t.equal(isTransient(err), true);

  const events: string[] = [];
  const id = await registerOnce(client, events);
  t.ok(Date.now() - started >= 30_000, 'the lookup waited out the outage');
  t.same(events, ['created']);
  t.equal([...sim.state.contacts.values()].filter((c) => c.name === 'Dropped caller').length, 1, 'exactly one contact');
  t.equal(sim.state.contacts.get(id)?.name, 'Dropped caller');
  t.ok(sim.counters.dropped > 2, `the simulator dropped ${sim.counters.dropped} request(s)`);
});

t.test('applied but answered too late: KOMMO_TIMEOUT maybeApplied; the lookup finds it', async (t) => {
  const { client, sim } = await harness(t, { config: { request_timeout_ms: 300 } });
  sim.faults.slow(1000);
  const err = await client.createContact(body).catch((e: unknown) => e);
  t.match(err, { code: 'KOMMO_TIMEOUT', maybeApplied: true });
  t.equal(sim.state.contacts.size, 1, 'Kommo did create it');
  sim.faults.clear();
  const events: string[] = [];
  await registerOnce(client, events);
  t.same(events, ['found']);
  t.equal(sim.state.contacts.size, 1, 'no duplicate');
});

t.test('a GET through a short drop-outage is retried (idempotent)', async (t) => {
  const { client, sim } = await harness(t, { config: { retry: { base_delay_ms: 100, max_delay_ms: 400, max_elapsed_ms: 10_000 } } });
  sim.faults.down(1500);
  t.ok((await client.getAccount()).id > 0);
  t.ok(sim.counters.dropped >= 1);
});
