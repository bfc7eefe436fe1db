import t from 'tap';
import { SEED_IDS } from '../../rig/simulator/index.js';
import { call, codes, withSim } from './helpers.js';

const phone = (value: string) => ({ field_code: 'PHONE', values: [{ value, enum_code: 'WORK' }] });

t.test('JSON null anywhere in a create body → 400 NotNullable naming the path; nothing created', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'POST', '/api/v4/contacts', [
    { name: 'Ok', request_id: 'a' },
    { name: 'Bad', responsible_user_id: null, custom_fields_values: [{ field_code: 'PHONE', values: [{ value: null }] }], request_id: 'b' },
  ]);
  t.equal(a.status, 400);
  t.match(a.type, /^application\/problem\+json/);
  t.equal(a.json['validation-errors'].length, 1, 'only the bad item is listed');
  t.equal(a.json['validation-errors'][0].request_id, 'b');
  t.same(codes(a).sort(), ['NotNullable custom_fields_values.0.values.0.value', 'NotNullable responsible_user_id']);
  t.equal(sim.state.contacts.size, 0, 'the batch is atomic');
});

t.test('wrong types → 400 InvalidType', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'POST', '/api/v4/leads', [{ name: 'L', responsible_user_id: '5001', pipeline_id: '7001', price: 9.5 }]);
  t.equal(a.status, 400);
  t.same(codes(a).sort(), ['InvalidType pipeline_id', 'InvalidType price', 'InvalidType responsible_user_id']);
  t.equal(a.json['validation-errors'][0].request_id, '0', 'index when no request_id');
  const c = await call(sim, 'POST', '/api/v4/calls', [{ direction: 'inbound', duration: '12', source: 's', phone: '79990000000' }]);
  t.same(codes(c), ['InvalidType duration']);
  const r = await call(sim, 'POST', '/api/v4/contacts', [{ name: 'x', request_id: 7 }]);
  t.same(codes(r), ['InvalidType request_id']);
});

t.test('unknown, deleted and deactivated users → 400 NotSupportedChoice', async (t) => {
  const sim = await withSim(t);
  for (const id of [424242, SEED_IDS.users.deleted, SEED_IDS.users.inactive]) {
    const a = await call(sim, 'POST', '/api/v4/contacts', [{ name: 'x', responsible_user_id: id }]);
    t.equal(a.status, 400, `user ${id}`);
    t.same(codes(a), ['NotSupportedChoice responsible_user_id']);
  }
  const cb = await call(sim, 'POST', '/api/v4/tasks', [{ text: 't', complete_till: 1, created_by: 999 }]);
  t.same(codes(cb), ['NotSupportedChoice created_by']);
  const robot = await call(sim, 'POST', '/api/v4/tasks', [{ text: 't', complete_till: 1, created_by: 0 }]);
  t.equal(robot.status, 200, 'created_by 0 is the robot');
});

t.test('echoing a deleted user of a stored contact fails; a minimal diff passes', async (t) => {
  const sim = await withSim(t, { seed: { contacts: [{ id: 1, name: 'Old', responsible_user_id: SEED_IDS.users.deleted }] } });
  const got = await call(sim, 'GET', '/api/v4/contacts/1');
  t.equal(got.json.responsible_user_id, SEED_IDS.users.deleted);
  const echo = await call(sim, 'PATCH', '/api/v4/contacts/1', { name: 'New', responsible_user_id: got.json.responsible_user_id });
  t.equal(echo.status, 400);
  const diff = await call(sim, 'PATCH', '/api/v4/contacts/1', { name: 'New' });
  t.equal(diff.status, 200);
  t.equal(sim.state.contacts.get(1)?.name, 'New');
});

t.test('custom field checks: unknown field, unknown enum, non-string phone', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'POST', '/api/v4/contacts', [{
    name: 'x',
    custom_fields_values: [
      { field_id: 999999, values: [{ value: 'a' }] },
      { field_code: 'PHONE', values: [{ value: '1', enum_code: 'CELL' }, { value: 79991234567 }] },
    ],
  }]);
  t.same(codes(a).sort(), [
    'InvalidType custom_fields_values.1.values.1.value',
    'NotSupportedChoice custom_fields_values.0.field_id',
    'NotSupportedChoice custom_fields_values.1.values.0.enum_code',
  ]);
});

t.test('pipeline and status must exist and belong together', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'POST', '/api/v4/leads', [
    { name: 'a', pipeline_id: 1 },
    { name: 'b', pipeline_id: SEED_IDS.pipelines.support, status_id: SEED_IDS.statuses.salesNew },
    { name: 'c', status_id: SEED_IDS.statuses.salesIncoming },
  ]);
  t.same(codes(a), ['NotSupportedChoice pipeline_id', 'NotSupportedChoice status_id', 'NotSupportedChoice status_id']);
  const ok = await call(sim, 'POST', '/api/v4/leads', [{ name: 'd', pipeline_id: SEED_IDS.pipelines.support, status_id: SEED_IDS.statuses.won }]);
  t.equal(ok.status, 200);
});

t.test('body shape: not an array → 400, empty → 400, > 250 items → 422, invalid JSON → 400', async (t) => {
  const sim = await withSim(t);
  const obj = await call(sim, 'POST', '/api/v4/contacts', { name: 'x' });
  t.equal(obj.status, 400);
  t.match(obj.json.detail, /array/);
  t.equal((await call(sim, 'POST', '/api/v4/contacts', [])).status, 400);
  t.equal((await call(sim, 'POST', '/api/v4/contacts', [1])).status, 400);
  const many = await call(sim, 'POST', '/api/v4/contacts', Array.from({ length: 251 }, (_, i) => ({ name: `c${i}` })));
  t.equal(many.status, 422);
  t.match(many.type, /problem\+json/);
  const exactly = await call(sim, 'POST', '/api/v4/contacts', Array.from({ length: 250 }, (_, i) => ({ name: `c${i}` })));
  t.equal(exactly.status, 200);
  t.equal(exactly.json._embedded.contacts.length, 250);
  const broken = await call(sim, 'POST', '/api/v4/contacts', '[{"name": "x",]');
  t.equal(broken.status, 400);
  t.match(broken.json.detail, /Invalid JSON/);
  const patchArr = await call(sim, 'PATCH', '/api/v4/leads/1', [{ name: 'x' }]);
  t.equal(patchArr.status, 404, 'unknown lead in path');
});

t.test('routes: unknown → 404, wrong method → 405, both problem+json', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'GET', '/api/v4/nothing-here');
  t.equal(a.status, 404);
  t.match(a.json, { title: 'Not Found', status: 404 });
  const b = await call(sim, 'DELETE', '/api/v4/contacts');
  t.equal(b.status, 405);
  const c = await call(sim, 'GET', '/elsewhere', undefined, null);
  t.equal(c.status, 404);
  t.equal(sim.counters.byStatus[404], 2);
});

t.test('every create echoes request_id; ids are unique integers per type', async (t) => {
  const sim = await withSim(t);
  const c = await call(sim, 'POST', '/api/v4/contacts', [{ name: 'A', request_id: 'x1', custom_fields_values: [phone('+7 999 000-00-01')] }, { name: 'B' }]);
  t.same(c.json._embedded.contacts.map((x: { request_id: string }) => x.request_id), ['x1', '1']);
  const ids = c.json._embedded.contacts.map((x: { id: number }) => x.id);
  t.ok(ids.every(Number.isInteger));
  t.not(ids[0], ids[1]);
  const l = await call(sim, 'POST', '/api/v4/leads', [{ name: 'L', request_id: 'r', _embedded: { contacts: [{ id: ids[0] }] } }]);
  t.equal(l.json._embedded.leads[0].request_id, 'r');
  t.not(l.json._embedded.leads[0].id, ids[0]);
  const stored = sim.state.contacts.get(ids[0]);
  t.ok(stored && Number.isInteger(stored.created_at) && stored.created_at < 1e11, 'Unix seconds');
  const bad = await call(sim, 'POST', '/api/v4/leads', [{ name: 'L', _embedded: { contacts: [{ id: l.json._embedded.leads[0].id }] } }]);
  t.same(codes(bad), ['NotSupportedChoice _embedded.contacts.0.id'], 'a lead id is not a contact id');
});
