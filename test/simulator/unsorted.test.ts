import t from 'tap';
import { SEED_IDS } from '../../rig/simulator/index.js';
import { call, codes, withSim } from './helpers.js';

const sip = (phone: string, uniq: string) => ({
  source_uid: uniq, source_name: 'kommo-asterisk', request_id: `r-${uniq}`,
  metadata: { uniq, duration: 10, service_code: 'kommo-asterisk', link: '', phone, called_at: 1_700_000_000, from: phone, is_call_event_needed: true },
  _embedded: {
    leads: [{ name: `${phone} - incoming` }],
    contacts: [{ name: `Contact ${phone}`, custom_fields_values: [{ field_code: 'PHONE', values: [{ value: phone, enum_code: 'WORK' }] }] }],
  },
});

t.test('contacts of an incoming lead stay hidden until it is accepted', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'POST', '/api/v4/leads/unsorted/sip', [sip('+79997776655', 'a1')]);
  t.equal(a.status, 200);
  const u = a.json._embedded.unsorted[0];
  t.match(u, { uid: String, request_id: 'r-a1', _embedded: { leads: [{ id: Number }], contacts: [{ id: Number }] } });
  const contactId = u._embedded.contacts[0].id as number;
  const leadId = u._embedded.leads[0].id as number;
  t.equal((await call(sim, 'GET', '/api/v4/contacts?query=9997776655')).status, 204, 'hidden from search');
  t.equal((await call(sim, 'GET', `/api/v4/contacts/${contactId}`)).status, 204, 'hidden from GET');
  t.equal((await call(sim, 'GET', `/api/v4/leads/${leadId}`)).status, 204);
  const miss = await call(sim, 'POST', '/api/v4/calls', [{ direction: 'inbound', duration: 1, source: 's', phone: '+79997776655' }]);
  t.equal(miss.status, 400, 'calls do not match hidden contacts');
  t.equal(sim.state.leads.get(leadId)?.status_id, SEED_IDS.statuses.salesIncoming);

  const acc = await call(sim, 'POST', `/api/v4/leads/unsorted/${u.uid}/accept`, { user_id: SEED_IDS.users.olga, status_id: SEED_IDS.statuses.salesContacted });
  t.equal(acc.status, 200);
  t.same(acc.json._embedded.contacts.map((c: { id: number }) => c.id), [contactId]);
  const found = await call(sim, 'GET', '/api/v4/contacts?query=9997776655&with=leads');
  t.same(found.json._embedded.contacts.map((c: { id: number }) => c.id), [contactId]);
  t.same(found.json._embedded.contacts[0]._embedded.leads.map((l: { id: number }) => l.id), [leadId]);
  t.match(sim.state.leads.get(leadId), { status_id: SEED_IDS.statuses.salesContacted, responsible_user_id: SEED_IDS.users.olga });
  const hit = await call(sim, 'POST', '/api/v4/calls', [{ direction: 'inbound', duration: 1, source: 's', phone: '89997776655' }]);
  t.match(hit.json._embedded.calls[0], { entity_type: 'leads', entity_id: leadId });
  t.equal((await call(sim, 'POST', `/api/v4/leads/unsorted/${u.uid}/accept`, {})).status, 400, 'accept twice');
});

t.test('duplicates are tagged by default', async (t) => {
  const sim = await withSim(t);
  await call(sim, 'POST', '/api/v4/leads/unsorted/sip', [sip('+79990000001', 'd1')]);
  const b = await call(sim, 'POST', '/api/v4/leads/unsorted/sip', [sip('89990000001', 'd2')]);
  t.equal(b.status, 200);
  const leadId = b.json._embedded.unsorted[0]._embedded.leads[0].id as number;
  t.same(sim.state.leads.get(leadId)?.tags.map((x) => x.name), ['duplicate']);
});

t.test('duplicates are rejected with unsortedDuplicates: reject', async (t) => {
  const sim = await withSim(t, { unsortedDuplicates: 'reject' });
  t.equal((await call(sim, 'POST', '/api/v4/leads/unsorted/sip', [sip('+79990000002', 'x1')])).status, 200);
  const again = await call(sim, 'POST', '/api/v4/leads/unsorted/sip', [sip('+79990000003', 'x1')]);
  t.equal(again.status, 400);
  t.same(codes(again), ['Duplicate metadata.uniq']);
  const samePhone = await call(sim, 'POST', '/api/v4/leads/unsorted/sip', [sip('+79990000002', 'x2')]);
  t.same(codes(samePhone), ['Duplicate _embedded.contacts.0.custom_fields_values']);
});

t.test('incoming lead body is validated', async (t) => {
  const sim = await withSim(t);
  const body = sip('+79990000004', 'v1');
  const a = await call(sim, 'POST', '/api/v4/leads/unsorted/sip', [{ ...body, metadata: { ...body.metadata, duration: '10', called_at: undefined } }]);
  t.same(codes(a).sort(), ['InvalidType metadata.duration', 'NotBlank metadata.called_at']);
  t.equal(sim.state.unsorted.size, 0);
  const decl = await call(sim, 'POST', '/api/v4/leads/unsorted/sip', [body]);
  const uid = decl.json._embedded.unsorted[0].uid as string;
  t.equal((await call(sim, 'POST', `/api/v4/leads/unsorted/${uid}/decline`)).status, 200);
  t.equal(sim.state.contacts.size, 0, 'declined: its contact is gone');
});
