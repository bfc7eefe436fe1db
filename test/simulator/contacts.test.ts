import t from 'tap';
import { SEED_IDS } from '../../rig/simulator/index.js';
import { call, withSim } from './helpers.js';

t.test('an empty search answers 204 with no body', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'GET', '/api/v4/contacts?query=79991234567');
  t.equal(a.status, 204);
  t.equal(a.text, '');
  t.equal((await call(sim, 'GET', '/api/v4/tasks')).status, 204);
  t.equal((await call(sim, 'GET', '/api/v4/leads?query=nobody')).status, 204);
});

t.test('full-text query returns a contact whose other field merely contains the digits', async (t) => {
  const sim = await withSim(t, {
    seed: {
      contacts: [
        { id: 11, name: 'Real caller', phones: ['+7 (999) 123-45-67'] },
        { id: 12, name: 'Eight prefix', phones: ['8 999 123 45 67'] },
        { id: 13, name: 'Comment only', phones: ['+7 495 000 00 00'], custom_fields_values: [{ field_code: 'POSITION', values: [{ value: 'ex 9991234567 desk' }] }] },
        { id: 14, name: 'Unrelated', phones: ['+7 495 111 22 33'] },
      ],
    },
  });
  const a = await call(sim, 'GET', '/api/v4/contacts?query=9991234567&with=leads');
  t.equal(a.status, 200);
  const ids = a.json._embedded.contacts.map((c: { id: number }) => c.id).sort();
  t.same(ids, [11, 12, 13], 'the comment-only contact is a false positive the client must filter');
  t.ok(a.json._embedded.contacts.every((c: { _embedded: { leads?: unknown[] } }) => Array.isArray(c._embedded.leads)), 'with=leads');
  const plus7 = await call(sim, 'GET', `/api/v4/contacts?query=${encodeURIComponent('+79991234567')}`);
  t.same(plus7.json._embedded.contacts.map((c: { id: number }) => c.id), [11], '+7… and 8… differ');
  const byName = await call(sim, 'GET', '/api/v4/contacts?query=caller');
  t.same(byName.json._embedded.contacts.map((c: { id: number }) => c.id), [11]);
  const noLeads = await call(sim, 'GET', '/api/v4/contacts?query=caller');
  t.equal(noLeads.json._embedded.contacts[0]._embedded.leads, undefined, 'leads only with with=leads');
});

t.test('contact create, get, patch, with=leads', async (t) => {
  const sim = await withSim(t);
  const c = await call(sim, 'POST', '/api/v4/contacts', [{
    name: 'Пётр Иванов', responsible_user_id: SEED_IDS.users.maria,
    custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '+79990001122', enum_code: 'WORK' }] }],
    _embedded: { tags: [{ name: 'kommo-asterisk' }] }, request_id: 'r1',
  }]);
  t.equal(c.status, 200);
  const id = c.json._embedded.contacts[0].id as number;
  const l = await call(sim, 'POST', '/api/v4/leads', [{ name: 'Deal', _embedded: { contacts: [{ id }] } }]);
  const leadId = l.json._embedded.leads[0].id as number;
  const got = await call(sim, 'GET', `/api/v4/contacts/${id}?with=leads`);
  t.equal(got.status, 200);
  t.match(got.json, {
    id, name: 'Пётр Иванов', responsible_user_id: SEED_IDS.users.maria, created_by: SEED_IDS.users.ivan,
    custom_fields_values: [{ field_id: SEED_IDS.contactFields.phone, field_code: 'PHONE', values: [{ value: '+79990001122', enum_code: 'WORK', enum_id: SEED_IDS.phoneEnums.WORK }] }],
    _embedded: { tags: [{ name: 'kommo-asterisk' }], leads: [{ id: leadId }] },
  });
  const p = await call(sim, 'PATCH', '/api/v4/contacts', [{ id, custom_fields_values: [{ field_code: 'EMAIL', values: [{ value: 'p@x.test' }] }], request_id: 'u' }]);
  t.equal(p.status, 200);
  t.equal(p.json._embedded.contacts[0].request_id, 'u');
  const after = sim.state.contacts.get(id);
  t.same(after?.custom_fields_values?.map((cf) => cf.field_code).sort(), ['EMAIL', 'PHONE'], 'a patch replaces only the fields it names');
  const unknown = await call(sim, 'PATCH', '/api/v4/contacts', [{ id: 1, name: 'x' }]);
  t.equal(unknown.status, 400);
  t.equal((await call(sim, 'GET', '/api/v4/contacts/123')).status, 204, 'unknown id answers 204 like Kommo');
});

t.test('pagination: page/limit and _links.next until the last page', async (t) => {
  const sim = await withSim(t, { seed: { contacts: Array.from({ length: 5 }, (_, i) => ({ name: `Client ${i}` })) } });
  const p1 = await call(sim, 'GET', '/api/v4/contacts?limit=2');
  t.equal(p1.json._embedded.contacts.length, 2);
  t.equal(p1.json._page, 1);
  const next = new URL(p1.json._links.next.href);
  t.equal(next.searchParams.get('page'), '2');
  const p3 = await call(sim, 'GET', '/api/v4/contacts?limit=2&page=3');
  t.equal(p3.json._embedded.contacts.length, 1);
  t.notOk(p3.json._links.next, 'no next on the last page');
  t.equal((await call(sim, 'GET', '/api/v4/contacts?limit=2&page=4')).status, 204);
  t.equal((await call(sim, 'GET', '/api/v4/contacts?limit=251')).status, 422);
  t.equal((await call(sim, 'GET', '/api/v4/contacts?limit=abc')).status, 400);
});

t.test('companies: search and get', async (t) => {
  const sim = await withSim(t, { seed: { companies: [{ id: 21, name: 'ООО Ромашка', phones: ['+74951234567'] }] } });
  const s = await call(sim, 'GET', '/api/v4/companies?query=4951234567');
  t.same(s.json._embedded.companies.map((c: { id: number }) => c.id), [21]);
  const g = await call(sim, 'GET', '/api/v4/companies/21');
  t.equal(g.json.name, 'ООО Ромашка');
  t.equal(g.json.custom_fields_values[0].field_id, SEED_IDS.companyFields.phone);
});

t.test('account, users, custom fields, pipelines', async (t) => {
  const sim = await withSim(t);
  const acc = await call(sim, 'GET', '/api/v4/account?with=users_groups,task_types');
  t.match(acc.json, { id: SEED_IDS.account, subdomain: 'sandbox', _embedded: { task_types: [{ id: 1 }, { id: 2 }, { id: 3 }] } });
  const users = await call(sim, 'GET', '/api/v4/users');
  t.same(users.json._embedded.users.map((u: { id: number }) => u.id), [5001, 5002, 5003, 5004]);
  t.equal(users.json._embedded.users[3].rights.is_active, false);
  t.equal((await call(sim, 'GET', '/api/v4/users/5002')).json.name, 'Maria Garcia');
  const cf = await call(sim, 'GET', '/api/v4/contacts/custom_fields');
  const ph = cf.json._embedded.custom_fields.find((f: { code: string }) => f.code === 'PHONE');
  t.match(ph, { id: SEED_IDS.contactFields.phone, type: 'multitext' });
  t.same(ph.enums.map((e: { value: string }) => e.value), ['WORK', 'WORKDD', 'MOB', 'FAX', 'HOME', 'OTHER']);
  const pl = await call(sim, 'GET', '/api/v4/leads/pipelines');
  const main = pl.json._embedded.pipelines.find((p: { is_main: boolean }) => p.is_main);
  t.ok(main._embedded.statuses.some((s: { id: number }) => s.id === 142));
  t.ok(main._embedded.statuses.some((s: { id: number }) => s.id === 143));
});
