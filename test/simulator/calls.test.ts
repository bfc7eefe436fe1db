import t from 'tap';
import { SEED_IDS } from '../../rig/simulator/index.js';
import { call, codes, withSim } from './helpers.js';

const callBody = (phone: string, extra: Record<string, unknown> = {}) => ({
  direction: 'inbound', duration: 42, source: 'kommo-asterisk', phone, uniq: `u-${phone}`, call_status: 4, ...extra,
});

t.test('calls match by the last 10 digits and land on the contact', async (t) => {
  const sim = await withSim(t, { seed: { contacts: [{ id: 31, name: 'Caller', phones: ['8 (999) 123-45-67'] }] } });
  const a = await call(sim, 'POST', '/api/v4/calls', [callBody('+79991234567', { request_id: 'c1' })]);
  t.equal(a.status, 200);
  t.match(a.type, /hal\+json/);
  t.match(a.json, { _total_items: 1, errors: [], _embedded: { calls: [{ id: Number, entity_id: 31, entity_type: 'contacts', request_id: 'c1' }] } });
  const noteId = a.json._embedded.calls[0].id as number;
  t.match(sim.state.notes.get(noteId), { note_type: 'call_in', entity_id: 31, params: { duration: 42, phone: '+79991234567' } });
  t.equal(sim.state.calls.length, 1);
  const nine = await call(sim, 'POST', '/api/v4/calls', [callBody('999123456')]);
  t.equal(nine.status, 400, '9 digits do not match 10');
});

t.test('no match → 400 with errors [{title: "Entity not found"}]', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'POST', '/api/v4/calls', [callBody('+15550001111')]);
  t.equal(a.status, 400);
  t.match(a.json, { _total_items: 0, errors: [{ title: 'Entity not found', request_id: '0' }], _embedded: { calls: [] } });
  t.equal(sim.state.calls.length, 0);
});

t.test('a batch with matched and unmatched calls: matched in _embedded.calls, unmatched in errors', async (t) => {
  const sim = await withSim(t, { seed: { contacts: [{ id: 32, name: 'Known', phones: ['+7 999 000 11 22'] }] } });
  const a = await call(sim, 'POST', '/api/v4/calls', [callBody('89990001122', { request_id: 'hit' }), callBody('89990009999', { request_id: 'miss' })]);
  t.equal(a.status, 200);
  t.equal(a.json._total_items, 1);
  t.same(a.json._embedded.calls.map((c: { request_id: string }) => c.request_id), ['hit']);
  t.same(a.json.errors.map((e: { request_id: string; title: string }) => `${e.request_id} ${e.title}`), ['miss Entity not found']);
});

t.test('the single active lead takes the call; two active leads or only closed ones → the contact', async (t) => {
  const s = SEED_IDS.statuses;
  const sim = await withSim(t, {
    seed: {
      contacts: [
        { id: 41, name: 'One lead', phones: ['+79990000041'] },
        { id: 42, name: 'Two leads', phones: ['+79990000042'] },
        { id: 43, name: 'Closed lead', phones: ['+79990000043'] },
      ],
      leads: [
        { id: 141, name: 'active', contact_ids: [41] },
        { id: 142_000, name: 'won', contact_ids: [41], status_id: s.won },
        { id: 142_001, name: 'a', contact_ids: [42] },
        { id: 142_002, name: 'b', contact_ids: [42] },
        { id: 143_000, name: 'lost', contact_ids: [43], status_id: s.lost },
      ],
    },
  });
  const a = await call(sim, 'POST', '/api/v4/calls', [callBody('+79990000041'), callBody('+79990000042'), callBody('+79990000043')]);
  t.same(a.json._embedded.calls.map((c: { entity_type: string; entity_id: number }) => `${c.entity_type}:${c.entity_id}`),
    ['leads:141', 'contacts:42', 'contacts:43']);
});

t.test('companies match too', async (t) => {
  const sim = await withSim(t, { seed: { companies: [{ id: 51, name: 'Firm', phones: ['+7 495 765-43-21'] }] } });
  const a = await call(sim, 'POST', '/api/v4/calls', [callBody('84957654321', { direction: 'outbound' })]);
  t.match(a.json._embedded.calls[0], { entity_type: 'companies', entity_id: 51 });
  t.equal(sim.state.notes.get(a.json._embedded.calls[0].id)?.note_type, 'call_out');
});

t.test('required fields and choices', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'POST', '/api/v4/calls', [{ phone: '+79990000000' }]);
  t.same(codes(a).sort(), ['NotBlank direction', 'NotBlank duration', 'NotBlank source']);
  const b = await call(sim, 'POST', '/api/v4/calls', [callBody('1', { direction: 'in', call_status: 9, responsible_user_id: 77 })]);
  t.same(codes(b).sort(), ['NotSupportedChoice call_status', 'NotSupportedChoice direction', 'NotSupportedChoice responsible_user_id']);
  const c = await call(sim, 'POST', '/api/v4/calls', [callBody('1', { link: null })]);
  t.same(codes(c), ['NotNullable link']);
});

t.test('calls are not de-duplicated by uniq', async (t) => {
  const sim = await withSim(t, { seed: { contacts: [{ id: 61, name: 'Dup', phones: ['+79990000061'] }] } });
  const body = [callBody('+79990000061', { uniq: 'same' })];
  const a = await call(sim, 'POST', '/api/v4/calls', body);
  const b = await call(sim, 'POST', '/api/v4/calls', body);
  t.not(a.json._embedded.calls[0].id, b.json._embedded.calls[0].id);
  t.equal(sim.state.calls.length, 2);
});
