// End-to-end: the popup in Kommo while a phone rings — the real Asterisk, real SIP calls
// (SIPp), the real bridge and the strict simulator, which records every popup
// (`POST /api/v2/events`) with its arrival time.
import t from 'tap';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import type { CallNotificationRecord } from '../../rig/simulator/types.js';
import { bridgeEnterOf, callsFor, nextEvent, placeBlindTransfer, placeCall, startRig, U, waitFor, waitRegistered, type Rig } from '../bridge/e2e-rig.js';

const KNOWN = '79995553001';
const digits = (s: string): string => s.replace(/\D/g, '');

const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  let rig: Rig;
  t.before(async () => {
    rig = await startRig({
      // Test-only: 205 rings extension 102 alone (appended to the sandbox's from-trunk context).
      asterisk: { extraDialplan: '[from-trunk](+)\nexten => 205,1,Dial(PJSIP/102,${TEST_DIAL_TIMEOUT},tT)\n same => n,Hangup()\n' },
      seed: { contacts: [{ id: 3_500_101, name: 'Known Client', responsible_user_id: U.maria, phones: [`+${KNOWN}`] }] },
    });
  });
  t.teardown(() => rig?.close());

  const popupsFor = (phone: string): CallNotificationRecord[] => rig.sim.state.notifications.filter((n) => digits(n.phone_number).endsWith(phone.slice(-10)));
  /** When the bridge's AMI client saw `ext`'s channel start ringing (DialBegin), and its answer (BridgeEnter). */
  const watch = (ext: string) => ({
    ring: nextEvent(rig, (e) => e['event'] === 'dialbegin' && String(e['destchannel'] ?? '').startsWith(`PJSIP/${ext}-`), `DialBegin to ${ext}`, 20_000).then(() => Date.now()),
    answer: nextEvent(rig, bridgeEnterOf(ext), `BridgeEnter of ${ext}`, 20_000).then(() => Date.now()),
  });

  t.test('a known client rings 102: exactly one popup, for 102\'s user, before the answer', async (t) => {
    const w = watch('102');
    const placed = await placeCall(rig, { from: 'trunk', service: '205', caller: KNOWN, durationMs: 2000, uas: [{ at: '102', scenario: 'uas-answer', durationMs: 1500 }] });
    t.equal(placed.caller.finalStatus, 200, 'the call was answered');
    const [ringAt, answerAt] = await Promise.all([w.ring, w.answer]);
    const popups = popupsFor(KNOWN);
    t.equal(popups.length, 1, 'exactly one notification');
    const p = popups[0]!;
    t.same(p.users, [U.maria], 'for Maria (extension 102) only');
    t.equal(p.to_everyone, false);
    t.match(p.shown, { entity_type: 'contacts', entity_id: 3_500_101, name: 'Known Client' }, 'Kommo shows the known contact');
    t.ok(p.at < answerAt, `before the answer (${answerAt - p.at} ms before)`);
    t.comment(`ring → Kommo request: ${p.at - ringAt} ms (DialBegin seen → request arrived)`);
    await waitRegistered(rig, KNOWN);
    t.equal(callsFor(rig.sim, KNOWN).length, 1, 'and the call is registered once, as before');
  });

  t.test('ring group (202 → 102 & 103): both users notified, each once', async (t) => {
    const phone = '79995553002';
    await placeCall(rig, {
      from: 'trunk', service: '202', caller: phone, durationMs: 2000,
      uas: [{ at: '102', scenario: 'uas-noanswer' }, { at: '103', scenario: 'uas-answer', durationMs: 1500 }],
    });
    const popups = popupsFor(phone);
    const users = popups.flatMap((p) => p.users).sort();
    t.same(users, [U.maria, U.olga].sort(), 'Maria and Olga, once each');
    t.equal(popups.length, 1, 'in one request (the two rings fall within notifications.batch_ms)');
    t.equal(popups[0]?.shown, null, 'an unknown number: the popup offers to create a contact');
    await waitRegistered(rig, phone);
  });

  t.test('queue (203, ring-all, Local members): both ringing users notified', async (t) => {
    const phone = '79995553003';
    await placeCall(rig, {
      from: 'trunk', service: '203', caller: phone, durationMs: 2000,
      uas: [{ at: '102', scenario: 'uas-noanswer' }, { at: '103', scenario: 'uas-answer', durationMs: 1500 }],
    });
    const users = new Set(popupsFor(phone).flatMap((p) => p.users));
    t.same([...users].sort(), [U.maria, U.olga].sort());
    await waitRegistered(rig, phone);
  });

  t.test('blind transfer 101 → 102: the target is notified when its phone rings', async (t) => {
    const phone = '79995553004';
    await placeBlindTransfer(rig, phone, { durationMs: 6000, transferAfterMs: 500 });
    t.same(popupsFor(phone).map((p) => p.users), [[U.ivan], [U.maria]], 'Ivan when 101 rang, then Maria when the transfer rang 102');
    await waitRegistered(rig, phone);
  });

  t.test('outbound and internal calls show no popup', async (t) => {
    const before = rig.sim.state.notifications.length;
    const phone = '79995553005';
    await placeCall(rig, { from: '101', service: phone, durationMs: 1000, uas: [{ at: 'trunk', scenario: 'uas-answer', durationMs: 500 }] });
    await placeCall(rig, { from: '101', service: '102', durationMs: 1000, uas: [{ at: '102', scenario: 'uas-answer', durationMs: 500 }] });
    await waitRegistered(rig, phone);
    t.equal(rig.sim.state.notifications.length, before);
  });

  t.test('Kommo down: the call is unaffected, the popup is given up, the call is registered after recovery', async (t) => {
    const phone = '79995553006';
    const stats0 = rig.bridge!.notifier.stats();
    const dropped0 = rig.sim.counters.dropped;
    const w = watch('102');
    rig.sim.faults.down(10_000);
    const placed = await placeCall(rig, { from: 'trunk', service: '205', caller: phone, durationMs: 2000, uas: [{ at: '102', scenario: 'uas-answer', durationMs: 1000 }] });
    t.equal(placed.caller.finalStatus, 200, 'answered');
    t.equal(placed.caller.code, 0, 'the caller\'s SIPp completed the call normally');
    t.equal(placed.phones[0]?.code, 0, '102\'s SIPp rang, answered and hung up normally');
    const [ringAt, answerAt] = await Promise.all([w.ring, w.answer]);
    t.comment(`102 rang ${answerAt - ringAt} ms (its scenario rings 1000 ms) while Kommo was down`);
    t.ok(rig.sim.counters.dropped > dropped0, 'the popup request met a Kommo that was down');
    await waitFor('the popup settled', () => rig.bridge!.notifier.stats().in_flight === 0, 10_000);
    const s = rig.bridge!.notifier.stats();
    t.equal(s.sent_total, stats0.sent_total, 'no popup reached Kommo');
    t.equal(s.late_total + s.failed_total, stats0.late_total + stats0.failed_total + 1, 'given up (the phone stopped ringing) or failed, counted');
    t.equal(popupsFor(phone).length, 0);
    await waitRegistered(rig, phone, 1, 40_000);
    t.equal(popupsFor(phone).length, 0, 'never retried after the call stopped ringing, even once Kommo was back');
  });
}
