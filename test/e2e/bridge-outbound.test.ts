// End-to-end: outbound calls (an extension dials a client through the trunk) through a
// real Asterisk, registered by the real bridge: answered, and not answered (a task).
import t from 'tap';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { callsFor, contactsWith, placeCall, startRig, tasksOn, U, waitRegistered, type Rig } from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  let rig: Rig;
  t.before(async () => {
    rig = await startRig({ seed: { contacts: [{ id: 3_600_001, name: 'Known Supplier', responsible_user_id: U.maria, phones: ['+79990001122'] }] } });
  });
  t.teardown(() => rig?.close());

  t.test('outbound answered (101 → known client): one outbound call record, status 4, responsible 101', async (t) => {
    const phone = '79990001122';
    const res = await placeCall(rig, { from: '101', service: phone, durationMs: 3000, uas: [{ at: 'trunk', scenario: 'uas-answer', durationMs: 1000 }] });
    t.equal(res.caller.finalStatus, 200);
    await waitRegistered(rig, phone);
    const calls = callsFor(rig.sim, phone);
    t.equal(calls.length, 1, 'exactly one call record');
    const c = calls[0]!;
    t.equal(c.entity_id, 3_600_001);
    t.equal(c.body['direction'], 'outbound');
    t.equal(c.body['call_status'], 4);
    t.equal(c.body['responsible_user_id'], U.ivan, '101 talked: Ivan');
    const d = c.body['duration'] as number;
    t.ok(d >= 2 && d <= 5, `duration ${d} s ≈ 3 s`);
    t.equal(contactsWith(rig.sim, phone).length, 1, 'no contact created');
    t.equal(tasksOn(rig.sim, 'contacts', 3_600_001).length, 0, 'no task');
  });

  t.test('outbound not answered (101 → unknown number, rings out): contact, call record status 6, one task', async (t) => {
    const phone = '79990001133';
    await placeCall(rig, { from: '101', service: phone, uas: [{ at: 'trunk', scenario: 'uas-noanswer' }] });
    await waitRegistered(rig, phone);
    const contacts = contactsWith(rig.sim, phone);
    t.equal(contacts.length, 1, 'a contact for the dialled number');
    t.equal(contacts[0]!.responsible_user_id, U.ivan);
    const calls = callsFor(rig.sim, phone);
    t.equal(calls.length, 1);
    const c = calls[0]!;
    t.equal(c.body['direction'], 'outbound');
    t.equal(c.body['call_status'], 6);
    t.equal(c.body['duration'], 0);
    t.equal(c.body['responsible_user_id'], U.ivan);
    const tasks = tasksOn(rig.sim, 'contacts', contacts[0]!.id);
    t.equal(tasks.length, 1, 'one call-back task for the unanswered outgoing call');
    t.equal(tasks[0]!.responsible_user_id, U.ivan);
  });

  t.test('totals', async (t) => {
    t.equal(rig.bridge!.registrar.stats().failed, 0);
    t.equal(rig.bridge!.bridge.stats().submitted_total, 2);
  });
}
