import t from 'tap';
import { call, withSim } from './helpers.js';

t.test('down: requests get no HTTP answer until up()', async (t) => {
  const sim = await withSim(t);
  sim.faults.down();
  await t.rejects(call(sim, 'GET', '/api/v4/account'), 'fetch fails (connection reset)');
  t.equal(sim.counters.dropped, 1);
  t.equal(sim.requests.at(-1)?.status, 0);
  sim.faults.up();
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 200);
});

t.test('down(ms) recovers by itself', async (t) => {
  const sim = await withSim(t);
  sim.faults.down(100);
  await t.rejects(call(sim, 'GET', '/api/v4/account'));
  await new Promise((r) => setTimeout(r, 150));
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 200);
});

t.test('fail(count, status) answers problem+json for the next count requests', async (t) => {
  const sim = await withSim(t);
  sim.faults.fail(2, 503);
  const a = await call(sim, 'GET', '/api/v4/account');
  t.equal(a.status, 503);
  t.match(a.json, { status: 503, title: 'Service Unavailable' });
  t.equal((await call(sim, 'POST', '/api/v4/contacts', [{ name: 'x' }])).status, 503);
  t.equal(sim.state.contacts.size, 0, 'a failed request changes nothing');
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 200);
  sim.faults.fail(1);
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 500, 'default 500');
});

t.test('fail(count, status, route) fails only that route: other requests pass and do not use it up', async (t) => {
  const sim = await withSim(t);
  sim.faults.fail(1, 400, 'POST /api/v4/contacts');
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 200, 'another route answers');
  t.equal((await call(sim, 'POST', '/api/v4/contacts', [{ name: 'x' }])).status, 400, 'the route fails');
  t.equal(sim.state.contacts.size, 0, 'and changes nothing');
  t.equal((await call(sim, 'POST', '/api/v4/contacts', [{ name: 'x' }])).status, 200, 'once');
});

t.test('slow(ms) delays answers', async (t) => {
  const sim = await withSim(t);
  sim.faults.slow(200);
  const started = Date.now();
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 200);
  t.ok(Date.now() - started >= 190, `took ${Date.now() - started} ms`);
  sim.faults.clear();
  const again = Date.now();
  await call(sim, 'GET', '/api/v4/account');
  t.ok(Date.now() - again < 150);
});

t.test('latencyMs is added to every answer', async (t) => {
  const sim = await withSim(t, { latencyMs: 120 });
  const started = Date.now();
  await call(sim, 'GET', '/api/v4/account');
  t.ok(Date.now() - started >= 110);
});

t.test('hang: no answer until cleared, but the work is done', async (t) => {
  const sim = await withSim(t);
  sim.faults.hang();
  const timedOut = fetch(`${sim.url}/api/v4/contacts`, {
    method: 'POST', headers: { authorization: `Bearer ${sim.longLivedToken}`, 'content-type': 'application/json' },
    body: JSON.stringify([{ name: 'Created anyway' }]), signal: AbortSignal.timeout(150),
  });
  await t.rejects(timedOut, { name: 'TimeoutError' });
  t.equal(sim.state.contacts.size, 1, 'the create happened although the client gave up');
  const held = call(sim, 'GET', '/api/v4/account');
  await new Promise((r) => setTimeout(r, 50));
  sim.faults.clear();
  t.equal((await held).status, 200, 'held answers are sent on clear');
});

t.test('close() ends hung requests and is idempotent', async (t) => {
  const sim = await withSim(t);
  sim.faults.hang();
  const pending = call(sim, 'GET', '/api/v4/account');
  await new Promise((r) => setTimeout(r, 30));
  await Promise.all([sim.close(), sim.close()]);
  await t.rejects(pending);
  await t.rejects(call(sim, 'GET', '/api/v4/account'), 'closed');
});

t.test('the /__sim HTTP API: faults, counters, requests, state, seed, reset', async (t) => {
  const sim = await withSim(t);
  const post = (path: string, body: unknown) => fetch(`${sim.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  t.equal((await post('/__sim/faults', { fail: 1, status: 502 })).status, 200);
  t.equal((await call(sim, 'GET', '/api/v4/account')).status, 502);
  t.equal((await post('/__sim/faults', { nonsense: 1 })).status, 400);
  const seeded = await post('/__sim/seed', { contacts: [{ id: 77, name: 'Seeded', phones: ['+79990000077'] }] });
  t.equal(seeded.status, 200);
  t.equal((await call(sim, 'GET', '/api/v4/contacts/77')).json.name, 'Seeded');
  const counters = await fetch(`${sim.url}/__sim/counters`).then((r) => r.json()) as { total: number; byStatus: Record<string, number> };
  t.equal(counters.total, 2);
  t.equal(counters.byStatus['502'], 1);
  const reqs = await fetch(`${sim.url}/__sim/requests?since=1`).then((r) => r.json()) as Array<{ path: string; route: string }>;
  t.same(reqs.map((r) => r.route), ['GET /api/v4/contacts/{id}']);
  const state = await fetch(`${sim.url}/__sim/state`).then((r) => r.json()) as { contacts: Array<{ id: number }>; users: unknown[] };
  t.same(state.contacts.map((c) => c.id), [77]);
  const tok = await post('/__sim/access-token', {}).then((r) => r.json()) as { access_token: string };
  t.equal((await call(sim, 'GET', '/api/v4/account', undefined, tok.access_token)).status, 200);
  t.equal((await post('/__sim/reset', {})).status, 200);
  t.equal(sim.state.contacts.size, 0);
  t.equal(sim.requests.length, 0);
  t.equal(sim.counters.total, 0);
  t.equal(sim.state.users.length, 4, 'seed users kept');
  t.equal((await post('/__sim/faults', { down: 100 })).status, 200, 'answered before going down');
  await t.rejects(call(sim, 'GET', '/api/v4/account'));
  t.equal((await fetch(`${sim.url}/__sim/counters`)).status, 200, '/__sim stays up while the API is down');
});
