/**
 * `kommo-asterisk originate --from <ext> --to <number>` as an administrator runs it:
 * the compiled CLI against a real Asterisk. The employee's phone (102) rings
 * first, then the client is dialled through the trunk; the CLI prints the
 * outcome; the bridge (in this process) registers the call in the simulator as
 * outbound, with the employee who clicked as the responsible user.
 */
import t from 'tap';
import { runProcess, type ProcessResult } from '../helpers/run.js';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { startSipp } from '../../rig/sandbox/sipp.js';
import { CLI, callsFor, cliProblem, startRig, U, waitRegistered } from '../bridge/e2e-rig.js';

function runCli(args: string[], env: Record<string, string>): Promise<ProcessResult> {
  return runProcess(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeoutMs: 60_000 });
}

const problem = asteriskRootProblem() ?? cliProblem();
if (problem) {
  t.fail(problem);
} else {
  t.test('originate from the CLI: 102 rings, then the client; registered as outbound for Maria', { timeout: 120_000 }, async (t) => {
    const rig = await startRig({ config: { phone: { rewrite_rules: [{ match: '^8(\\d{10})$', replace: '7$1' }] } } });
    t.teardown(() => rig.close());
    const { ast } = rig;
    const employee = await startSipp({ scenario: 'uas-answer', localIp: ast.phones['102']!, localPort: ast.phonePort, durationMs: 300, timeoutMs: 40_000 });
    const client = await startSipp({ scenario: 'uas-answer-bye', localIp: ast.trunkIp, localPort: ast.trunkPort, durationMs: 300, timeoutMs: 40_000 });
    await Promise.all([employee.ready, client.ready]);

    const out = await runCli(['originate', '-c', rig.configPath, '--from', '102', '--to', '8 (999) 444-33-22'], { KA_LOG_LEVEL: 'silent' });
    t.equal(out.code, 0, `exit 0 (stdout: ${out.stdout} stderr: ${out.stderr.slice(-500)})`);
    t.match(out.stdout, /^Success: answered \(channel ka-\d+-[0-9a-f]+\)$/m, 'prints Success and the reason');

    const [emp, cli] = await Promise.all([employee.done, client.done]);
    const empInvite = emp.received.find((m) => m.method === 'INVITE');
    const cliInvite = cli.received.find((m) => m.method === 'INVITE');
    t.ok(empInvite, 'the employee\'s phone 102 received an INVITE');
    t.ok(cliInvite, 'the trunk received an INVITE for the client');
    t.match(cliInvite?.startLine ?? '', /^INVITE sip:79994443322@/, 'the client number, rewritten 8 → 7');

    await waitRegistered(rig, '79994443322', 1, 30_000);
    const calls = callsFor(rig.sim, '79994443322');
    t.equal(calls.length, 1, 'exactly one call record');
    t.match(calls[0]?.body, { direction: 'outbound', call_status: 4, responsible_user_id: U.maria, created_by: U.maria }, 'outbound, answered, Maria responsible');
  });
}
