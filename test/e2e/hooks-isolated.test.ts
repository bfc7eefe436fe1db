/**
 * Nothing an administrator writes can freeze a call: `kommo-asterisk start` as a child
 * process, with hooks 9 (autodistribution), 1 (need_registration) and 2
 * (process_call_params) that are `while (true) {}`. A known client calls: the FastAGI
 * server still answers within its budget (the call takes the fallback route), the call
 * is registered once with the defaults, and a second call right after is handled too.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { freeTcpPort } from '../../rig/sandbox/ports.js';
import { callsFor, cliProblem, placeCall, sleep, spawnBridge, startRig, U, waitRegistered } from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem() ?? cliProblem();
const KNOWN = '79995557101';
const OTHER = '79995557102';
const BUDGET_MS = 1000;
const SPIN = 'export default () => { while (true) {} };\n';

if (problem) {
  // npm test builds the root and the CLI first: a missing one is a failure, never a skip.
  t.fail(problem);
} else {
  t.test('spinning hooks 1, 2 and 9: AGI answers within its budget, the call registers once with the defaults', { timeout: 180_000 }, async (t) => {
    const agiPort = await freeTcpPort();
    const rig = await startRig({
      inProcess: false,
      asterisk: { globals: { KOMMO_AGI_HOST: '127.0.0.1', KOMMO_AGI_PORT: String(agiPort), KOMMO_FALLBACK: 'test-fallback,s,1', KOMMO_DIAL_TIMEOUT: '8', KOMMO_RECORD: 'no' } },
      seed: {
        contacts: [
          { name: 'Spin Client', responsible_user_id: U.maria, phones: [`+${KNOWN}`] },
          { name: 'Other Client', responsible_user_id: U.maria, phones: [`+${OTHER}`] },
        ],
      },
      config: {
        agi: { host: '127.0.0.1', port: agiPort, budget_ms: BUDGET_MS },
        // hook 9's own limit is past the budget: the budget is what cuts it off
        customizations: { timeout_ms: 500, timeouts: { process_autodistribution: 5000 }, workers: 1 },
      },
    });
    const hooksDir = path.join(rig.dataDir, 'customizations');
    for (const hook of ['process_autodistribution', 'need_registration', 'process_call_params']) {
      await writeFile(path.join(hooksDir, `${hook}.mjs`), SPIN);
    }
    const child = spawnBridge(rig.configPath, 'start');
    t.teardown(async () => {
      if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
      await rig.close();
    });
    await Promise.race([child.ready, sleep(20_000).then(() => Promise.reject(new Error(`start not ready:\n${child.output().slice(-3000)}`)))]);

    for (const caller of [KNOWN, OTHER]) {
      const placed = await placeCall(rig, {
        from: 'trunk', service: '200', caller, durationMs: 1000, timeoutMs: 20_000,
        uas: [{ at: '102', scenario: 'uas-answer', durationMs: 200 }, { at: '103', scenario: 'uas-answer', durationMs: 200 }],
      });
      const invited = (i: number) => placed.phones[i]?.received.some((m) => m.method === 'INVITE') ?? false;
      t.equal(placed.caller.finalStatus, 200, `${caller}: the call was answered`);
      t.notOk(invited(0), `${caller}: hook 9 never answered, so the manager's 102 did not ring`);
      t.ok(invited(1), `${caller}: the fallback extension 103 rang: the AGI answered`);
      await waitRegistered(rig, caller, 1, 30_000);
    }
    await sleep(1500); // a second record would have come by now
    for (const caller of [KNOWN, OTHER]) {
      const calls = callsFor(rig.sim, caller);
      t.equal(calls.length, 1, `${caller}: exactly one call record`);
      t.match(calls[0]?.body, { direction: 'inbound', call_status: 4, source: 'kommo-asterisk' }, 'the defaults of hook 2');
    }

    const lines = child.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const answers = lines.filter((l) => l.msg === 'autodistribution answer');
    t.equal(answers.length, 2, 'two autodistribution answers');
    for (const a of answers) {
      t.equal(a.status, 'timeout', 'hook 9 used up the budget');
      t.ok(typeof a.elapsedMs === 'number' && a.elapsedMs <= BUDGET_MS + 50, `answered in ${String(a.elapsedMs)} ms (budget ${BUDGET_MS})`);
    }
    const failed = new Set(lines.filter((l) => l.msg === 'customization failed; defaults used').map((l) => `${String(l.hook)}:${String(l.code)}`));
    t.ok(failed.has('need_registration:HOOK_TIMEOUT') && failed.has('process_call_params:HOOK_TIMEOUT'), `hooks 1 and 2 timed out (${[...failed].join(', ')})`);
    t.ok(lines.some((l) => l.msg === 'customization worker replaced'), 'blocked workers were replaced');

    child.proc.kill('SIGTERM');
    t.equal(await child.exited, 0, 'SIGTERM drains and exits 0');
  });
}
