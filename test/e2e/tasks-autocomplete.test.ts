// End-to-end (issue 12, part 2): missed-call tasks that close themselves, on the real
// Asterisk with SIPp and the strict Kommo simulator. A missed call → a call-back task; a
// second missed call → still one open task; the employee calls the client back and is
// answered → the task is completed ("Reached on … by …"), once.
import t from 'tap';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { callsFor, placeCall, startRig, tasksMentioning, U, waitRegistered, type Rig } from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem();
const CLIENT = '79995553001';

if (problem) {
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  let rig: Rig;
  t.before(async () => {
    rig = await startRig();
  });
  t.teardown(() => rig?.close());

  const missedCall = (): Promise<unknown> =>
    placeCall(rig, { from: 'trunk', service: '201', caller: CLIENT, scenario: 'uac-cancel', durationMs: 1500, uas: [{ at: '101', scenario: 'uas-noanswer' }] });

  t.test('missed → task; missed again → still one open task; called back → completed', async (t) => {
    await missedCall();
    await waitRegistered(rig, CLIENT, 1);
    let tasks = tasksMentioning(rig.sim, CLIENT);
    t.equal(tasks.length, 1, 'a call-back task for the missed call');
    const id = tasks[0]!.id;
    t.equal(rig.sim.state.tasks.get(id)?.is_completed, false, 'open');

    await missedCall();
    await waitRegistered(rig, CLIENT, 2);
    tasks = tasksMentioning(rig.sim, CLIENT);
    t.equal(tasks.length, 1, 'the second missed call added no second task');
    t.equal(rig.sim.state.tasks.get(id)?.is_completed, false, 'still open');

    // 101 calls the client back through the trunk; the client answers
    await placeCall(rig, { from: '101', service: CLIENT, durationMs: 1500, uas: [{ at: 'trunk', scenario: 'uas-answer', durationMs: 500 }] });
    await waitRegistered(rig, CLIENT, 3);
    const calls = callsFor(rig.sim, CLIENT);
    t.same(calls.map((c) => c.body['direction']), ['inbound', 'inbound', 'outbound'], 'three calls registered');
    t.equal(calls[2]!.body['call_status'], 4, 'the call back had a conversation');
    const task = rig.sim.state.tasks.get(id)!;
    t.equal(task.is_completed, true, 'the call-back task is completed');
    t.match(task.result, { text: new RegExp(`^Reached on \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} by user ${U.ivan} \\(extension 101\\)$`) });
    t.equal(tasksMentioning(rig.sim, CLIENT).length, 1, 'and no other task appeared');
    t.equal([...rig.sim.state.tasks.values()].filter((x) => x.is_completed).length, 1, 'exactly one task completed');
  });

  t.test('totals', async (t) => {
    const s = rig.bridge!.registrar.stats();
    t.equal(s.failed, 0);
    t.equal(s.pending, 0);
  });
}
