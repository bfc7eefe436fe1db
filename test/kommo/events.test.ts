import t from 'tap';
import { KommoError } from '../../lib/adapters/kommo/index.js';
import { SEED_IDS } from '../../rig/simulator/index.js';
import { harness } from './helpers.js';

const U = SEED_IDS.users;

t.test('addCallNotifications posts {add:[{type:"phone_call", phone_number, users}]} to /api/v2/events', async (t) => {
  const { sim, client } = await harness(t);
  await client.addCallNotifications([{ phone: '79991234567', users: [U.maria, U.maria, U.olga] }], { priority: 'realtime' });
  const req = sim.requests.find((r) => r.path === '/api/v2/events');
  t.ok(req, 'one request to /api/v2/events');
  t.equal(req?.method, 'POST');
  t.equal(req?.auth, 'ok', 'the same Bearer token as API v4');
  t.same(req?.body, { add: [{ type: 'phone_call', phone_number: '79991234567', users: [U.maria, U.olga] }] }, 'users de-duplicated');
  t.equal(req?.status, 202);
  t.match(sim.state.notifications, [{ users: [U.maria, U.olga], to_everyone: false }]);
});

t.test('never "everyone": no users, a bad user id or a number without digits is refused before any request', async (t) => {
  const { sim, client } = await harness(t);
  for (const bad of [
    { phone: '79991234567', users: [] },
    { phone: '79991234567', users: [0] },
    { phone: '79991234567', users: [1.5] },
    { phone: 'anonymous', users: [U.maria] },
  ]) {
    const err = await client.addCallNotifications([bad]).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof KommoError && err.code === 'KOMMO_INVALID_ARGUMENT', `${JSON.stringify(bad)}: KOMMO_INVALID_ARGUMENT`);
  }
  await client.addCallNotifications([]);
  t.equal(sim.requests.length, 0, 'nothing was sent');
});

t.test('a 503 is retried while the caller lets it; its abort stops the retries at once', async (t) => {
  const { sim, client } = await harness(t, { config: { retry: { max_attempts: 20, base_delay_ms: 100, max_delay_ms: 100 } } });
  sim.faults.fail(1, 503);
  await client.addCallNotifications([{ phone: '79991234567', users: [U.maria] }]);
  t.equal(sim.requests.filter((r) => r.path === '/api/v2/events').length, 2, 'one 503, then accepted');
  t.equal(sim.state.notifications.length, 1);

  sim.faults.fail(1000, 503);
  const stop = new AbortController();
  const started = Date.now();
  setTimeout(() => stop.abort(new Error('answered')), 250);
  await t.rejects(client.addCallNotifications([{ phone: '79991234567', users: [U.maria] }], { signal: stop.signal }), { code: 'KOMMO_ABORTED' });
  t.ok(Date.now() - started < 1500, 'gave up when aborted, not after the retry budget');
  const tries = sim.requests.filter((r) => r.path === '/api/v2/events').length - 2;
  t.ok(tries >= 1 && tries <= 5, `retried ${tries} time(s) while it rang`);
  const settled = sim.requests.length;
  await new Promise((r) => setTimeout(r, 400));
  t.equal(sim.requests.length, settled, 'no attempt after the abort');
});
