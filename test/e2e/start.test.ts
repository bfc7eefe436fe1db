/**
 * `kommo-asterisk start` as an administrator runs it: one child process with the
 * FastAGI server, the AMI bridge and the HTTP server, against a real Asterisk.
 * A known client calls the main number (the dialplan asks the child's FastAGI
 * server), the call rings their manager and is registered; the status endpoint
 * answers only with the secret; SIGTERM drains and exits 0.
 */
import t from 'tap';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { freeTcpPort } from '../../rig/sandbox/ports.js';
import { callsFor, cliProblem, placeCall, sleep, spawnBridge, startRig, U, waitRegistered } from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem() ?? cliProblem();
const KNOWN = '79995557001';
const SECRET = 'start-e2e-http-secret-0123456789';

if (problem) {
  // npm test builds the root and the CLI first: a missing one is a failure, never a skip.
  t.fail(problem);
} else {
  t.test('start: autodistribution, registration and HTTP in one process; SIGTERM exits 0', { timeout: 180_000 }, async (t) => {
    const agiPort = await freeTcpPort();
    const httpPort = await freeTcpPort();
    const rig = await startRig({
      inProcess: false,
      asterisk: { globals: { KOMMO_AGI_HOST: '127.0.0.1', KOMMO_AGI_PORT: String(agiPort), KOMMO_FALLBACK: 'test-fallback,s,1', KOMMO_DIAL_TIMEOUT: '8', KOMMO_RECORD: 'no' } },
      seed: { contacts: [{ name: 'Start Client', responsible_user_id: U.maria, phones: [`+${KNOWN}`] }] },
      config: {
        agi: { host: '127.0.0.1', port: agiPort },
        http: { enabled: true, host: '127.0.0.1', port: httpPort, public_url: `http://127.0.0.1:${httpPort}`, secret: SECRET },
      },
    });
    const child = spawnBridge(rig.configPath, 'start');
    t.teardown(async () => {
      if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
      await rig.close();
    });
    await Promise.race([child.ready, sleep(20_000).then(() => Promise.reject(new Error(`start not ready:\n${child.output().slice(-3000)}`)))]);

    const base = `http://127.0.0.1:${httpPort}`;
    await sleep(500); // the HTTP server listens right after the bridge
    const anonymous = await fetch(`${base}/api/v1/status`);
    t.equal(anonymous.status, 401, 'status without the secret: 401');
    const status = await fetch(`${base}/api/v1/status`, { headers: { authorization: `Bearer ${SECRET}` } });
    t.equal(status.status, 200);
    const body = (await status.json()) as { app: string; ami: { connected: boolean } };
    t.equal(body.ami.connected, true, 'AMI connected');
    t.match(body.app, /^(Ok|Warning)$/, `app status ${body.app}`);

    // Maria (5002, extension 102) is responsible for the client; 103 is the fallback route.
    const placed = await placeCall(rig, {
      from: 'trunk', service: '200', caller: KNOWN, durationMs: 1000, timeoutMs: 15_000,
      uas: [{ at: '102', scenario: 'uas-answer', durationMs: 200 }, { at: '103', scenario: 'uas-answer', durationMs: 200 }],
    });
    const invited = (i: number) => placed.phones[i]?.received.some((m) => m.method === 'INVITE') ?? false;
    t.ok(invited(0), 'the responsible manager\'s extension 102 rang');
    t.notOk(invited(1), 'the fallback extension 103 did not');
    await waitRegistered(rig, KNOWN, 1, 30_000);
    const calls = callsFor(rig.sim, KNOWN);
    t.equal(calls.length, 1, 'one call record');
    t.match(calls[0]?.body, { direction: 'inbound', call_status: 4, responsible_user_id: U.maria });

    const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${SECRET}` } });
    const text = await metrics.text();
    t.match(text, /^kommo_asterisk_[a-z_]+ /m, 'Prometheus text');

    child.proc.kill('SIGTERM');
    t.equal(await child.exited, 0, 'SIGTERM drains and exits 0');
  });
}
