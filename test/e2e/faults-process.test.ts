// Faults of the process and of Asterisk, end to end, with the bridge as a child process
// (`node dist/bin/kommo-asterisk.js bridge -c <config>`; `npm test` builds it first and
// this test fails without it):
//  - no PHONE/WORK contact field → the bridge refuses to start (exit 3, clear message);
//  - the bridge killed with SIGKILL while calls are made and registered, then started
//    again → every call that had ended before the kill is registered exactly once;
//  - Asterisk restarted → the bridge reconnects and registers the next call;
//  - SIGTERM drains and exits 0.
import t from 'tap';
import { field, type AmiMessage } from '../../rig/sandbox/asterisk-ami.js';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import {
  callsFor, cliProblem, placeCall, sleep, spawnBridge, startRig, U, waitFor, waitNoChannels, type ChildBridge, type Rig,
} from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem();
const KNOWN = '79995553001';
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  t.test('the compiled CLI exists (build first)', async (t) => {
    t.equal(cliProblem(), null);
  });
  if (cliProblem() === null) {
    let rig: Rig;
    let child: ChildBridge | undefined;
    t.before(async () => {
      rig = await startRig({ inProcess: false, seed: { contacts: [{ id: 3_700_001, name: 'Steady Client', responsible_user_id: U.maria, phones: [`+${KNOWN}`] }] } });
    });
    t.teardown(async () => {
      if (child && child.proc.exitCode === null) child.proc.kill('SIGKILL');
      await rig?.close();
    });

    t.test('SIGKILL mid-stream, restart: every call ended before the kill is registered once', async (t) => {
      const ended = new Map<string, number>();
      const ami = await rig.ast.ami('on');
      t.teardown(() => ami.close());
      ami.on('event', (m: AmiMessage) => {
        if (m.Event === 'CEL' && field(m, 'EventName') === 'LINKEDID_END') ended.set(field(m, 'LinkedID') ?? '', Date.now());
      });
      rig.sim.faults.slow(2500); // a backlog of registrations in flight at the kill
      child = spawnBridge(rig.configPath);
      await Promise.race([child.ready, sleep(20_000).then(() => Promise.reject(new Error(`bridge not ready:\n${child!.output().slice(-3000)}`)))]);
      const calls = placeCall(rig, {
        from: 'trunk', service: '201', caller: KNOWN, durationMs: 800, calls: 20, rate: 2, limit: 10,
        uas: [{ at: '101', scenario: 'uas-answer', durationMs: 200 }],
      });
      await waitFor('6 ended calls', () => ended.size >= 6, 30_000);
      await sleep(1500);
      const killAt = Date.now();
      child.proc.kill('SIGKILL');
      await child.exited;
      const placed = await calls;
      t.equal(placed.caller.code, 0, 'SIPp placed the 20 calls');
      const before = [...ended].filter(([, at]) => at < killAt - 300).map(([id]) => id);
      const registeredAtKill = callsFor(rig.sim, KNOWN).length;
      rig.sim.faults.clear();

      const restartAt = Date.now();
      child = spawnBridge(rig.configPath);
      await Promise.race([child.ready, sleep(20_000).then(() => Promise.reject(new Error('bridge not ready after restart')))]);
      const uniqs = (): string[] => callsFor(rig.sim, KNOWN).map((c) => String(c.body['uniq']));
      await waitFor('every call ended before the kill registered', () => before.every((id) => uniqs().includes(id)), 60_000, 200);
      const drainedAt = Date.now();
      await sleep(3000);
      const all = uniqs();
      const dup = all.filter((u, i) => all.indexOf(u) !== i);
      for (const id of before) t.equal(all.filter((u) => u === id).length, 1, `call ${id} registered once`);
      t.same(dup, [], 'no call registered twice');
      t.comment(
        `SIGKILL: calls placed=20, ended before the kill=${before.length}, registered at the kill=${registeredAtKill}, ` +
          `registered after restart=${all.length} (calls that ended while the bridge was down are for re-processing), ` +
          `Kommo requests=${rig.sim.counters.total}, time to drain after restart=${((drainedAt - restartAt) / 1000).toFixed(1)} s`,
      );
    });

    t.test('Asterisk restarted: the bridge reconnects and registers the next call', async (t) => {
      t.ok(child && child.proc.exitCode === null, 'the bridge runs');
      const connectedBefore = (child!.output().match(/"msg":"AMI connected"/g) ?? []).length;
      await rig.ast.cli('core restart now').catch(() => ''); // the CLI connection drops with it
      const t0 = Date.now();
      await waitFor('the bridge reconnected', () => (child!.output().match(/"msg":"AMI connected"/g) ?? []).length > connectedBefore, 60_000, 200);
      const reconnectS = (Date.now() - t0) / 1000;
      await waitFor('Asterisk back', async () => /Endpoint:\s+101/.test(await rig.ast.cli('pjsip show endpoints').catch(() => '')), 30_000, 500);
      await waitNoChannels(rig);
      const phone = '79995553002';
      await placeCall(rig, { from: 'trunk', service: '201', caller: phone, durationMs: 1000, uas: [{ at: '101', scenario: 'uas-answer', durationMs: 300 }] });
      await waitFor('the call after the restart registered', () => callsFor(rig.sim, phone).length >= 1, 30_000);
      await sleep(1000);
      t.equal(callsFor(rig.sim, phone).length, 1, 'exactly one call record');
      t.comment(`Asterisk restart: bridge reconnected after ${reconnectS.toFixed(1)} s`);
    });

    t.test('SIGTERM drains and exits 0', async (t) => {
      child!.proc.kill('SIGTERM');
      const code = await Promise.race([child!.exited, sleep(20_000).then(() => 'timeout')]);
      t.equal(code, 0);
    });

    t.test('no PHONE/WORK contact field: the bridge refuses to start (exit 3)', async (t) => {
      rig.sim.seed({ contactCustomFields: [] });
      const c = spawnBridge(rig.configPath);
      const code = await Promise.race([c.exited, sleep(20_000).then(() => 'timeout')]);
      if (code === 'timeout') c.proc.kill('SIGKILL');
      t.equal(code, 3);
      t.match(c.output(), /PHONE/);
    });
  }
}
