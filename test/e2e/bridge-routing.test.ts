// End-to-end: inbound calls that reach several phones — ring group, queue, blind and
// attended transfer — through a real Asterisk, registered by the real bridge.
// Each results in exactly one call record with the right responsible user and duration.
import t, { type Test } from 'tap';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import {
  amiAction, bridgeEnterOf, callsFor, contactsWith, nextEvent, placeBlindTransfer, placeCall, sleep, startRig, tasksMentioning, U, waitRegistered, type Rig,
} from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  let rig: Rig;
  t.before(async () => {
    rig = await startRig();
  });
  t.teardown(() => rig?.close());

  function oneAnsweredCall(t: Test, phone: string, responsible: number, minDuration: number, maxDuration: number): void {
    const calls = callsFor(rig.sim, phone);
    t.equal(calls.length, 1, 'exactly one call record');
    const c = calls[0]!;
    t.equal(c.body['direction'], 'inbound');
    t.equal(c.body['call_status'], 4);
    t.equal(c.body['responsible_user_id'], responsible, 'responsible: the employee who talked last');
    const d = c.body['duration'] as number;
    t.ok(d >= minDuration && d <= maxDuration, `duration ${d} s in [${minDuration}, ${maxDuration}]`);
    t.equal(contactsWith(rig.sim, phone).length, 1, 'one contact');
    t.equal(tasksMentioning(rig.sim, phone).length, 0, 'no task');
  }

  t.test('ring group (202 → 102 & 103): 103 answers', async (t) => {
    const phone = '79995551001';
    await placeCall(rig, {
      from: 'trunk', service: '202', caller: phone, durationMs: 3000,
      uas: [{ at: '102', scenario: 'uas-noanswer' }, { at: '103', scenario: 'uas-answer', durationMs: 1500 }],
    });
    await waitRegistered(rig, phone);
    oneAnsweredCall(t, phone, U.olga, 2, 5);
  });

  t.test('queue (203, ring-all, Local members): 103 answers', async (t) => {
    const phone = '79995551002';
    await placeCall(rig, {
      from: 'trunk', service: '203', caller: phone, durationMs: 3000,
      uas: [{ at: '102', scenario: 'uas-noanswer' }, { at: '103', scenario: 'uas-answer', durationMs: 1500 }],
    });
    await waitRegistered(rig, phone);
    oneAnsweredCall(t, phone, U.olga, 2, 5);
  });

  t.test('blind transfer: 101 answers, transfers to 102, 102 answers', async (t) => {
    const phone = '79995551003';
    await placeBlindTransfer(rig, phone, { durationMs: 8000, transferAfterMs: 1000 });
    await waitRegistered(rig, phone);
    // 102 rings 1 s after the transfer and talks until the caller hangs up (~8 s after its answer).
    oneAnsweredCall(t, phone, U.maria, 3, 8);
  });

  t.test('attended transfer: 101 consults 102, then hangs up; the caller talks with 102', async (t) => {
    const phone = '79995551004';
    await placeCall(rig, {
      from: 'trunk', service: '201', caller: phone, durationMs: 10000,
      uas: [{ at: '101', scenario: 'uas-answer', durationMs: 500 }, { at: '102', scenario: 'uas-answer', durationMs: 1000 }],
      during: async (rig) => {
        const enter = await nextEvent(rig, bridgeEnterOf('101'), 'BridgeEnter of 101');
        const ch101 = String(enter['channel']);
        await sleep(1000);
        const consult = nextEvent(rig, bridgeEnterOf('102'), 'BridgeEnter of 102 (consultation)');
        await amiAction(rig, { action: 'Atxfer', channel: ch101, context: 'from-internal', exten: '102' });
        await consult;
        await sleep(1000);
        const done = nextEvent(rig, (e) => e['event'] === 'attendedtransfer', 'AttendedTransfer', 10_000);
        await amiAction(rig, { action: 'Hangup', channel: ch101 });
        await done;
      },
    });
    await waitRegistered(rig, phone);
    oneAnsweredCall(t, phone, U.maria, 2, 10);
    t.equal(rig.bridge!.bridge.stats().stages.call_ended, rig.bridge!.bridge.stats().submitted_total, 'the consultation call was not registered on its own');
  });

  t.test('totals', async (t) => {
    const s = rig.bridge!.registrar.stats();
    t.equal(s.failed, 0);
    t.equal(s.pending, 0);
    t.equal(rig.bridge!.bridge.stats().submitted_total, 4, 'four calls stored, one per scenario');
    t.comment(`Kommo requests: ${rig.sim.counters.total}, 429s: ${rig.sim.counters.rateLimited}`);
  });
}
