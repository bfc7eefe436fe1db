import t from 'tap';
import { SEED_IDS } from '../../rig/simulator/index.js';
import { parseSimulatorArgs, runSimulatorCli } from '../../rig/simulator/cli.js';
import { call, codes, withSim } from './helpers.js';

t.test('leads: create, get with=contacts, patch status, link', async (t) => {
  const sim = await withSim(t, { seed: { contacts: [{ id: 1, name: 'A' }, { id: 2, name: 'B' }], companies: [{ id: 9, name: 'Co' }] } });
  const c = await call(sim, 'POST', '/api/v4/leads', [{ name: 'Deal', price: 100, responsible_user_id: SEED_IDS.users.maria, _embedded: { contacts: [{ id: 1 }], tags: [{ name: 'call' }] } }]);
  const id = c.json._embedded.leads[0].id as number;
  const g = await call(sim, 'GET', `/api/v4/leads/${id}?with=contacts`);
  t.match(g.json, { id, price: 100, pipeline_id: SEED_IDS.pipelines.sales, status_id: SEED_IDS.statuses.salesNew, _embedded: { contacts: [{ id: 1, is_main: true }], tags: [{ name: 'call' }] } });
  const p = await call(sim, 'PATCH', `/api/v4/leads/${id}`, { status_id: SEED_IDS.statuses.won });
  t.equal(p.status, 200);
  t.equal(sim.state.leads.get(id)?.closed_at !== null, true);
  const l = await call(sim, 'POST', `/api/v4/leads/${id}/link`, [{ to_entity_id: 2, to_entity_type: 'contacts' }, { to_entity_id: 9, to_entity_type: 'companies' }]);
  t.equal(l.status, 200);
  t.equal(l.json._embedded.links.length, 2);
  t.same(sim.state.leads.get(id)?.contact_ids, [1, 2]);
  t.equal(sim.state.leads.get(id)?.company_id, 9);
  const bad = await call(sim, 'POST', `/api/v4/leads/${id}/link`, [{ to_entity_id: 3, to_entity_type: 'contacts' }, { to_entity_id: 1, to_entity_type: 'tasks' }]);
  t.same(codes(bad), ['NotSupportedChoice to_entity_id', 'NotSupportedChoice to_entity_type']);
  const many = await call(sim, 'PATCH', '/api/v4/leads', [{ id, name: 'Renamed', request_id: 'p' }]);
  t.equal(many.json._embedded.leads[0].request_id, 'p');
  t.equal(sim.state.leads.get(id)?.name, 'Renamed');
});

t.test('leads/complex answers a bare array and creates lead + contact + company', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'POST', '/api/v4/leads/complex', [{
    name: 'Complex', request_id: 'cx',
    _embedded: {
      contacts: [{ first_name: 'Anna', custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '+79995550000' }] }] }],
      companies: [{ name: 'Firm' }],
    },
  }]);
  t.equal(a.status, 200);
  t.ok(Array.isArray(a.json));
  t.match(a.json[0], { id: Number, contact_id: Number, company_id: Number, request_id: 'cx', merged: false });
  const contact = sim.state.contacts.get(a.json[0].contact_id);
  t.equal(contact?.name, 'Anna');
  t.same(contact?.company_ids, [a.json[0].company_id]);
  t.same(sim.state.leads.get(a.json[0].id)?.contact_ids, [a.json[0].contact_id]);
  const bad = await call(sim, 'POST', '/api/v4/leads/complex', [{ name: 'x', _embedded: { contacts: [{ name: 'y', responsible_user_id: 1 }] } }]);
  t.same(codes(bad), ['NotSupportedChoice _embedded.contacts.0.responsible_user_id']);
});

t.test('tasks: create, filter, complete', async (t) => {
  const sim = await withSim(t, { seed: { contacts: [{ id: 5, name: 'C' }], leads: [{ id: 6, name: 'L' }] } });
  const c = await call(sim, 'POST', '/api/v4/tasks', [
    { text: 'Call back', complete_till: 1_800_000_000, task_type_id: 1, entity_id: 5, entity_type: 'contacts', responsible_user_id: SEED_IDS.users.olga, request_id: 't1' },
    { text: 'Meet', complete_till: 1_800_000_000, task_type_id: 2, entity_id: 6, entity_type: 'leads' },
  ]);
  t.equal(c.status, 200);
  t.equal(c.json._embedded.tasks[0].request_id, 't1');
  const tid = c.json._embedded.tasks[0].id as number;
  const f = await call(sim, 'GET', '/api/v4/tasks?filter[entity_type]=contacts&filter[entity_id]=5&filter[is_completed]=0');
  t.same(f.json._embedded.tasks.map((x: { id: number }) => x.id), [tid]);
  const done = await call(sim, 'PATCH', `/api/v4/tasks/${tid}`, { is_completed: true, result: { text: 'Talked' } });
  t.equal(done.status, 200);
  t.match(sim.state.tasks.get(tid), { is_completed: true, result: { text: 'Talked' } });
  t.equal((await call(sim, 'GET', '/api/v4/tasks?filter[entity_id]=5&filter[is_completed]=0')).status, 204);
  const batch = await call(sim, 'PATCH', '/api/v4/tasks', [{ id: c.json._embedded.tasks[1].id, is_completed: true, result: { text: 'x' } }]);
  t.equal(batch.status, 200);
  const bad = await call(sim, 'POST', '/api/v4/tasks', [{ text: 'x', complete_till: '2024-01-01', task_type_id: 99, entity_id: 12345, entity_type: 'contacts' }]);
  t.same(codes(bad).sort(), ['InvalidType complete_till', 'NotSupportedChoice entity_id', 'NotSupportedChoice task_type_id']);
  t.equal((await call(sim, 'PATCH', '/api/v4/tasks/1', { is_completed: true })).status, 404);
});

t.test('notes on leads/contacts/companies', async (t) => {
  const sim = await withSim(t, { seed: { contacts: [{ id: 5, name: 'C' }] } });
  const a = await call(sim, 'POST', '/api/v4/contacts/5/notes', [
    { note_type: 'call_in', params: { uniq: 'u1', duration: 5, source: 's', link: 'https://x.test/r.mp3', phone: '+7999', call_status: 4 }, request_id: 'n' },
  ]);
  t.equal(a.status, 200);
  t.match(a.json._embedded.notes[0], { id: Number, entity_id: 5, request_id: 'n' });
  const list = await call(sim, 'GET', '/api/v4/contacts/5/notes');
  t.equal(list.json._embedded.notes[0].params.link, 'https://x.test/r.mp3');
  const bad = await call(sim, 'POST', '/api/v4/contacts/5/notes', [{ note_type: 'call_out', params: { duration: 'long' } }]);
  t.same(codes(bad).sort(), ['InvalidType params.duration', 'NotBlank params.phone', 'NotBlank params.source', 'NotBlank params.uniq']);
  t.equal((await call(sim, 'POST', '/api/v4/leads/5/notes', [{ note_type: 'common', params: { text: 'x' } }])).status, 404, 'no such lead');
});

t.test('CLI: argument parsing and startup banner', async (t) => {
  t.same(parseSimulatorArgs(['--port', '8091', '--host=0.0.0.0', '--rate-limit', '0', '--unsorted-duplicates', 'reject']),
    { port: 8091, host: '0.0.0.0', rateLimit: 0, unsortedDuplicates: 'reject' });
  t.throws(() => parseSimulatorArgs(['--port', 'x', '--bogus']), /--port must be a non-negative integer[\s\S]*unknown option --bogus/);
  let printed = '';
  const sim = await runSimulatorCli({ port: 0, token: 'cli-token' }, { write: (s) => { printed += s; } });
  t.teardown(() => sim.close());
  t.match(printed, sim.url);
  t.match(printed, 'long-lived token: cli-token');
  t.equal((await call(sim, 'GET', '/api/v4/account', undefined, 'cli-token')).status, 200);
});

t.test('batch notes: POST /api/v4/{entity}/notes with entity_id per item', async (t) => {
  const sim = await withSim(t, { seed: { leads: [{ id: 8, name: 'L' }] } });
  const a = await call(sim, 'POST', '/api/v4/leads/notes', [{ entity_id: 8, note_type: 'common', params: { text: 'hi' } }]);
  t.equal(a.status, 200);
  t.equal(a.json._embedded.notes[0].entity_id, 8);
  const bad = await call(sim, 'POST', '/api/v4/leads/notes', [{ note_type: 'common' }, { entity_id: 99, note_type: 'common' }]);
  t.same(codes(bad), ['NotBlank entity_id', 'NotSupportedChoice entity_id']);
});
