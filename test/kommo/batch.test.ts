/**
 * The coalescer (lib/adapters/kommo/batch.ts) through the real client against the strict
 * simulator: creates made while one of their kind waits for a rate-limit slot leave as one
 * array; each caller gets its own item's answer or error; a refused item never fails the
 * others; a lost answer leaves every item `maybeApplied`.
 */
import t from 'tap';
import { KommoApiError, KommoError, type CallCreate, type KommoClient } from '../../lib/adapters/kommo/index.js';
import type { KommoSimulator } from '../../rig/simulator/index.js';
import { SEED_IDS } from '../../rig/simulator/index.js';
import { createCoalescer } from '../../lib/adapters/kommo/batch.js';
import { harness } from './helpers.js';

const U = SEED_IDS.users;
const phone = (i: number): string => `7999300${String(i).padStart(4, '0')}`;

function callBody(i: number): CallCreate {
  return { direction: 'inbound', duration: 30, source: 'test', phone: phone(i), uniq: `u${i}` };
}

const posts = (sim: KommoSimulator, path: string): Array<Array<Record<string, unknown>>> =>
  sim.requests.filter((r) => r.method === 'POST' && r.path === path).map((r) => r.body as Array<Record<string, unknown>>);

async function slowHarness(t: Parameters<typeof harness>[0], maxItems = 50, seedPhones = 20): Promise<{ client: KommoClient; sim: KommoSimulator }> {
  // One request per second: everything after the first create waits for a slot.
  const h = await harness(t, { config: { rate_limit_per_second: 1 }, deps: { batchMaxItems: maxItems } });
  h.sim.seed({ contacts: Array.from({ length: seedPhones }, (_, i) => ({ name: `Known ${i}`, phones: [`+${phone(i)}`], responsible_user_id: U.maria })) });
  return { client: h.client, sim: h.sim };
}

t.test('a lone create leaves at once, alone', async (t) => {
  const h = await harness(t, { deps: { batchMaxItems: 50 } });
  h.sim.seed({ contacts: [{ name: 'Known', phones: [`+${phone(1)}`] }] });
  const t0 = Date.now();
  const r = await h.client.createCall(callBody(1), { requestId: 'lone:call' });
  t.ok(Date.now() - t0 < 1000, 'no linger');
  t.ok(r.id > 0);
  t.same(posts(h.sim, '/api/v4/calls').map((b) => b.length), [1]);
  t.equal(posts(h.sim, '/api/v4/calls')[0]?.[0]?.['request_id'], 'lone:call');
});

t.test('calls made while one waits for a slot leave together; each caller gets its own answer', async (t) => {
  const { client, sim } = await slowHarness(t);
  const first = await client.createCall(callBody(0), { requestId: 'c0:call' });
  // The first took the only slot of this second: the next ten wait for one, together.
  const rest = await Promise.all(Array.from({ length: 10 }, (_, i) => client.createCall(callBody(i + 1), { requestId: `c${i + 1}:call` })));
  const results = [first, ...rest];
  t.same(posts(sim, '/api/v4/calls').map((b) => b.length), [1, 10], 'the first alone, the ten that waited in one request');
  for (const [i, r] of results.entries()) {
    const stored = sim.state.calls.find((c) => c.request_id === `c${i}:call`);
    t.equal(r.id, stored?.id, `call ${i} got its own id`);
  }
  t.equal(new Set(results.map((r) => r.id)).size, 11);
  t.same(client.batchStats().calls, { requests: 2, items: 11, largest: 10 });
});

t.test('at most max_items per request', async (t) => {
  const { client, sim } = await slowHarness(t, 4);
  await Promise.all(Array.from({ length: 11 }, (_, i) => client.createCall(callBody(i), { requestId: `m${i}:call` })));
  const sizes = posts(sim, '/api/v4/calls').map((b) => b.length);
  t.equal(sizes.reduce((a, b) => a + b, 0), 11);
  t.ok(sizes.every((n) => n <= 4), `sizes ${sizes.join(',')}`);
  t.equal(sim.state.calls.length, 11, 'each call once');
});

t.test('400 naming one item: it fails with its own error, the others are sent again and created once', async (t) => {
  const { client, sim } = await slowHarness(t);
  const task = (i: number, responsible: number) => ({
    text: `call back ${i}`, complete_till: 2_000_000_000, task_type_id: 1, entity_type: 'contacts', entity_id: [...sim.state.contacts.keys()][0] as number,
    responsible_user_id: responsible,
  });
  const settled = await Promise.allSettled(
    Array.from({ length: 6 }, (_, i) => client.createTask(task(i, i === 3 ? U.deleted : U.maria), { requestId: `t${i}:task` })),
  );
  const bad = settled[3];
  t.equal(bad?.status, 'rejected');
  const err = (bad as PromiseRejectedResult).reason as KommoApiError;
  t.ok(err instanceof KommoApiError);
  t.equal(err.code, 'KOMMO_VALIDATION');
  t.same(err.validationErrors.map((v) => v.request_id), ['t3:task'], 'only its own validation errors');
  t.equal(err.maybeApplied, false);
  t.ok(settled.every((s, i) => i === 3 || s.status === 'fulfilled'), 'the others succeed');
  const texts = [...sim.state.tasks.values()].map((x) => x.text).sort();
  t.same(texts, ['call back 0', 'call back 1', 'call back 2', 'call back 4', 'call back 5'], 'each good task exactly once');
  const sizes = posts(sim, '/api/v4/tasks').map((b) => b.length);
  t.same(sizes, [6, 5], 'the refused batch, then the same without the bad item');
});

t.test('calls: 200 with a per-item "Entity not found" fails only that item', async (t) => {
  const { client, sim } = await slowHarness(t, 50, 5);
  const settled = await Promise.allSettled([0, 1, 2, 99, 3].map((i) => client.createCall(callBody(i), { requestId: `e${i}:call` })));
  const unknown = settled[3] as PromiseRejectedResult;
  t.equal(unknown.status, 'rejected');
  t.match(unknown.reason, { code: 'KOMMO_ENTITY_NOT_FOUND', maybeApplied: false, requestId: 'e99:call' });
  t.ok(settled.every((s, i) => i === 3 || s.status === 'fulfilled'));
  t.equal(sim.state.calls.length, 4);
  t.equal(posts(sim, '/api/v4/calls').length, 1, 'one request, no re-send: Kommo created the others');
});

t.test('calls: 400 when no item matched → each item KOMMO_ENTITY_NOT_FOUND', async (t) => {
  const { client, sim } = await slowHarness(t, 50, 1);
  await client.createCall(callBody(0), { requestId: 'k0:call' });
  const settled = await Promise.allSettled([97, 98, 99].map((i) => client.createCall(callBody(i), { requestId: `n${i}:call` })));
  for (const s of settled) t.match((s as PromiseRejectedResult).reason, { code: 'KOMMO_ENTITY_NOT_FOUND' });
  t.same(posts(sim, '/api/v4/calls').map((b) => b.length), [1, 3]);
  t.equal(sim.state.calls.length, 1);
});

t.test('an answer lost after sending: every item fails maybeApplied (its intent must stay)', async (t) => {
  const h = await harness(t, { config: { rate_limit_per_second: 1, request_timeout_ms: 1500 }, deps: { batchMaxItems: 50 } });
  const { client, sim } = h;
  sim.seed({ contacts: [{ name: 'Known', phones: [`+${phone(0)}`] }] });
  const entity = [...sim.state.contacts.keys()][0] as number;
  sim.faults.hang();
  const task = (i: number) => client.createTask({ text: `lost ${i}`, complete_till: 2_000_000_000, entity_type: 'contacts', entity_id: entity }, { requestId: `l${i}:task` });
  const settled = await Promise.allSettled([0, 1, 2, 3].map(task));
  sim.faults.clear();
  for (const s of settled) {
    t.equal(s.status, 'rejected');
    const reason = (s as PromiseRejectedResult).reason as KommoError;
    t.ok(reason instanceof KommoError && reason.maybeApplied, `${reason.code} maybeApplied`);
  }
  t.same(posts(sim, '/api/v4/tasks').map((b) => b.length), [4]);
  t.equal(sim.state.tasks.size, 4, 'Kommo did the work: the durable layer must look before creating again');
});

t.test('a create with its own signal, retry budget or the realtime priority goes alone', async (t) => {
  const { client, sim } = await slowHarness(t);
  const signal = new AbortController().signal;
  await Promise.all([
    client.createCall(callBody(0)),
    client.createCall(callBody(1), { signal }),
    client.createCall(callBody(2), { priority: 'realtime' }),
    client.createCall(callBody(3), { retryBudgetMs: 5000 }),
  ]);
  t.same(posts(sim, '/api/v4/calls').map((b) => b.length), [1, 1, 1, 1]);
});

t.test('batching off (max 1): every create alone, as before', async (t) => {
  const { client, sim } = await slowHarness(t, 1);
  await Promise.all([0, 1, 2].map((i) => client.createCall(callBody(i))));
  t.same(posts(sim, '/api/v4/calls').map((b) => b.length), [1, 1, 1]);
  t.same(client.batchStats().calls, { requests: 0, items: 0, largest: 0 });
});

t.test('the simulator refuses more than 250 items like Kommo (422), for calls and tasks too', async (t) => {
  const h = await harness(t);
  for (const path of ['/api/v4/calls', '/api/v4/tasks', '/api/v4/leads']) {
    const res = await fetch(`${h.sim.url}${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${h.sim.longLivedToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 251 }, (_, i) => ({ ...callBody(i), text: 'x', complete_till: 1, name: 'x' }))),
    });
    t.equal(res.status, 422, path);
  }
});

t.test('linger: during a backlog a kind sends at most one request per lingerMs; without one nothing waits', async (t) => {
  const sent: Array<{ at: number; items: number }> = [];
  const http = {
    async send(req: { bodyAtSend?: () => unknown }) {
      const body = req.bodyAtSend?.() as Array<Record<string, unknown>>;
      sent.push({ at: Date.now(), items: body.length });
      return { status: 200, body: { _embedded: { tasks: body.map((b, i) => ({ id: sent.length * 100 + i, request_id: b['request_id'] })) } } };
    },
  };
  let busy = false;
  const co = createCoalescer({ http } as never, { path: '/api/v4/tasks', key: 'tasks', maxItems: 50, lingerMs: 300, busy: () => busy });
  await co.submit({ text: 'a' }, 'a');
  await co.submit({ text: 'b' }, 'b');
  t.same(sent.map((s) => s.items), [1, 1], 'no backlog: each at once');
  t.ok(sent[1]!.at - sent[0]!.at < 200, 'no added latency');
  busy = true;
  const t0 = Date.now();
  const answers = await Promise.all(['c', 'd', 'e'].map((id) => co.submit({ text: id }, id)));
  t.same(sent.map((s) => s.items), [1, 1, 3], 'backlog: the three wait and leave together');
  t.ok(sent[2]!.at - sent[1]!.at >= 290, `one request per linger (${sent[2]!.at - sent[1]!.at} ms after the previous)`);
  t.ok(Date.now() - t0 < 1000);
  t.same(answers.map((a) => a['request_id']), ['c', 'd', 'e'], 'each its own answer');
});
