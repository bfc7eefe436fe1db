import t from 'tap';
import { SEED_IDS } from '../../rig/simulator/index.js';
import { call, codes, withSim } from './helpers.js';

const U = SEED_IDS.users;
const popup = (phone: string, users?: unknown) => ({ add: [{ type: 'phone_call', phone_number: phone, ...(users === undefined ? {} : { users }) }] });

t.test('a phone_call event is accepted (202) and recorded: who saw it, and what it shows', async (t) => {
  const sim = await withSim(t, { seed: { contacts: [{ id: 41, name: 'Known Client', phones: ['+7 999 123-45-67'] }] } });
  const a = await call(sim, 'POST', '/api/v2/events', popup('+7 (999) 123-45-67', [U.maria, U.olga]));
  t.equal(a.status, 202);
  t.same(a.json, {});
  t.equal(sim.state.notifications.length, 1);
  t.match(sim.state.notifications[0], {
    id: 1, phone_number: '+7 (999) 123-45-67', users: [U.maria, U.olga], user_names: ['Maria Garcia', 'Ольга Smirnova'],
    to_everyone: false, shown: { entity_type: 'contacts', entity_id: 41, name: 'Known Client' },
  });
  const unknown = await call(sim, 'POST', '/api/v2/events', popup('89990000000', [U.maria]));
  t.equal(unknown.status, 202);
  t.equal(sim.state.notifications[1]?.shown, null, 'an unknown number: the popup offers to create a contact');
  const inspected = await fetch(`${sim.url}/__sim/notifications?since=1`).then((r) => r.json()) as unknown[];
  t.equal(inspected.length, 1, '/__sim/notifications?since= gives the tail');
});

t.test('without users Kommo shows it to every active user', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'POST', '/api/v2/events', popup('79991112233'));
  t.equal(a.status, 202);
  t.match(sim.state.notifications[0], { to_everyone: true, users: [U.ivan, U.maria, U.olga] });
});

t.test('strict validation, like Kommo: nothing is recorded from a bad batch', async (t) => {
  const sim = await withSim(t);
  t.equal((await call(sim, 'POST', '/api/v2/events', [{ type: 'phone_call' }])).status, 400, 'an array is not the v2 body');
  t.equal((await call(sim, 'POST', '/api/v2/events', { add: [] })).status, 400, 'empty add');
  t.equal((await call(sim, 'POST', '/api/v2/events')).status, 400, 'no body');
  const many = { add: Array.from({ length: 251 }, () => ({ type: 'phone_call', phone_number: '79990000001', users: [U.maria] })) };
  t.equal((await call(sim, 'POST', '/api/v2/events', many)).status, 422, 'more than 250 items');
  const bad = await call(sim, 'POST', '/api/v2/events', {
    add: [
      { type: 'sms', phone_number: '79990000001', users: [U.maria] },
      { phone_number: 7999, users: [U.deleted, 'x', U.inactive] },
      { type: 'phone_call', phone_number: 'abc', users: [] },
      { type: 'phone_call', phone_number: '79990000001', users: null },
    ],
  });
  t.equal(bad.status, 400);
  t.same(codes(bad).sort(), [
    'InvalidType phone_number', 'InvalidType phone_number', 'InvalidType users.1', 'NotBlank type', 'NotBlank users',
    'NotNullable users', 'NotSupportedChoice type', 'NotSupportedChoice users.0', 'NotSupportedChoice users.2',
  ].sort());
  t.equal(sim.state.notifications.length, 0);
});

t.test('Bearer auth applies to /api/v2 as to /api/v4', async (t) => {
  const sim = await withSim(t);
  const a = await call(sim, 'POST', '/api/v2/events', popup('79990000001', [U.maria]), null);
  t.equal(a.status, 401);
  const b = await call(sim, 'POST', '/api/v2/events', popup('79990000001', [U.maria]), 'wrong-token');
  t.equal(b.status, 401);
  t.equal(sim.state.notifications.length, 0);
});
