// End-to-end: inbound calls through a real Asterisk, registered by the real bridge in
// this process against the Kommo simulator. One Asterisk for the file; each scenario
// uses its own caller number, so its Kommo state is read by that number.
import t from 'tap';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { callsFor, contactsWith, placeCall, startRig, tasksMentioning, tasksOn, U, waitRegistered, type Rig } from '../bridge/e2e-rig.js';

const KNOWN = '79991234567';
const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  let rig: Rig;
  t.before(async () => {
    rig = await startRig({ seed: { contacts: [{ id: 3_500_001, name: 'Known Client', responsible_user_id: U.maria, phones: [`+${KNOWN}`] }] } });
  });
  t.teardown(() => rig?.close());

  t.test('inbound answered by a known client: one call record on the contact, no new contact, no task', async (t) => {
    const contactsBefore = rig.sim.state.contacts.size;
    const res = await placeCall(rig, { from: 'trunk', service: '201', caller: KNOWN, durationMs: 3000, uas: [{ at: '101', scenario: 'uas-answer', durationMs: 1000 }] });
    t.equal(res.caller.finalStatus, 200);
    await waitRegistered(rig, KNOWN);
    const calls = callsFor(rig.sim, KNOWN);
    t.equal(calls.length, 1, 'exactly one call record');
    const c = calls[0]!;
    t.equal(c.entity_type, 'contacts');
    t.equal(c.entity_id, 3_500_001);
    t.equal(c.body['direction'], 'inbound');
    t.equal(c.body['call_status'], 4, 'had a conversation');
    t.equal(c.body['responsible_user_id'], U.ivan, '101 talked: Ivan');
    t.ok((c.body['duration'] as number) >= 2 && (c.body['duration'] as number) <= 5, `duration ${String(c.body['duration'])} s ≈ 3 s`);
    t.equal(rig.sim.state.contacts.size, contactsBefore, 'no contact created');
    t.equal(tasksOn(rig.sim, 'contacts', 3_500_001).length, 0, 'no task for an answered call');
  });

  t.test('inbound from an unknown number, answered: a contact is created, one call record', async (t) => {
    const phone = '79995550001';
    await placeCall(rig, { from: 'trunk', service: '201', caller: phone, durationMs: 2000, uas: [{ at: '101', scenario: 'uas-answer', durationMs: 500 }] });
    await waitRegistered(rig, phone);
    const contacts = contactsWith(rig.sim, phone);
    t.equal(contacts.length, 1, 'one contact created');
    t.equal(contacts[0]!.name, `Contact ${phone}`);
    t.equal(contacts[0]!.responsible_user_id, U.ivan, 'responsible: who talked');
    const calls = callsFor(rig.sim, phone);
    t.equal(calls.length, 1);
    t.equal(calls[0]!.entity_id, contacts[0]!.id);
    t.equal(calls[0]!.body['call_status'], 4);
    t.equal(tasksMentioning(rig.sim, phone).length, 0);
  });

  const missed: Array<{ name: string; phone: string; spec: Parameters<typeof placeCall>[1]; status: number; result: RegExp }> = [
    {
      name: 'inbound missed (no answer)',
      phone: '79995550002',
      spec: { from: 'trunk', service: '201', caller: '79995550002', uas: [{ at: '101', scenario: 'uas-noanswer' }] },
      status: 6,
      result: /^Missed$/,
    },
    {
      name: 'inbound busy',
      phone: '79995550003',
      spec: { from: 'trunk', service: '201', caller: '79995550003', uas: [{ at: '101', scenario: 'uas-busy' }] },
      status: 7,
      result: /^Busy$/,
    },
    {
      name: 'inbound, the caller cancels while it rings',
      phone: '79995550004',
      spec: { from: 'trunk', service: '201', caller: '79995550004', scenario: 'uac-cancel', durationMs: 2000, uas: [{ at: '101', scenario: 'uas-noanswer' }] },
      status: 6,
      result: /^Missed/,
    },
  ];
  for (const m of missed) {
    t.test(`${m.name}: contact, call record (status ${m.status}, duration 0), one call-back task`, async (t) => {
      await placeCall(rig, m.spec);
      await waitRegistered(rig, m.phone);
      const contacts = contactsWith(rig.sim, m.phone);
      t.equal(contacts.length, 1, 'one contact');
      const calls = callsFor(rig.sim, m.phone);
      t.equal(calls.length, 1, 'exactly one call record');
      const c = calls[0]!;
      t.equal(c.body['direction'], 'inbound');
      t.equal(c.body['call_status'], m.status);
      t.match(String(c.body['call_result']), m.result);
      t.equal(c.body['duration'], 0);
      t.equal(c.body['responsible_user_id'], U.ivan, "missed: the new contact's responsible (whose phone rang)");
      const tasks = tasksOn(rig.sim, 'contacts', contacts[0]!.id);
      t.equal(tasks.length, 1, 'one call-back task');
      t.match(tasks[0]!.text, new RegExp(`missed call from ${m.phone}`));
      t.equal(tasks[0]!.responsible_user_id, U.ivan);
    });
  }

  t.test('every ended call was stored once; nothing failed', async (t) => {
    const s = rig.bridge!.registrar.stats();
    t.equal(s.failed, 0);
    t.equal(s.pending, 0);
    t.equal(rig.bridge!.bridge.stats().submitted_total, 5);
    t.comment(`Kommo requests: ${rig.sim.counters.total}, 429s: ${rig.sim.counters.rateLimited}`);
  });
}
