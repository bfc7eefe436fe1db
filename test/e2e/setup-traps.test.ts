/**
 * The set-up traps of issue 11 on the real Asterisk, with the bundled dialplan left at
 * its defaults:
 *   1. the manager who picks up an autodistributed call can transfer it (the bundled
 *      KOMMO_DIAL_OPTIONS default "t", features.conf with a featuremap): an attended
 *      transfer to 101 works and the call is registered once, for the employee who
 *      talked last; `check` warns when features.conf has no featuremap;
 *   2. the default recordings pair — the dialplan's KOMMO_RECORDINGS_DIR default
 *      (/var/spool/asterisk/monitor/kommo) and recordings.dir's default
 *      (/var/spool/asterisk/monitor), here mapped through Asterisk's chroot with
 *      recordings.asterisk_dir — finds and links the recording, and `check` says so.
 */
import t from 'tap';
import path from 'node:path';
import { pino } from 'pino';
import { startAgi, type AgiRuntime } from '../../bin/compose.js';
import { createAmiClient } from '../../lib/protocol/ami/index.js';
import { formatChecks, runChecks, exitCodeFor } from '../../lib/domain/check/index.js';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { writeAudioUacScenario } from '../../rig/sandbox/audio.js';
import { freeTcpPort } from '../../rig/sandbox/ports.js';
import { amiAction, bridgeEnterOf, callsFor, nextEvent, placeCall, sleep, startRig, U, waitRegistered, type Rig } from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem();
const KNOWN = '79995557201';
const SECRET = 'setup-traps-e2e-secret-0123456789';
const silent = pino({ level: 'silent' });

async function check(rig: Rig) {
  const results = await runChecks({ config: rig.config, kommo: rig.core!.kommo, amiFactory: (c) => createAmiClient(c, { logger: silent }), logger: silent, kommoTimeoutMs: 5000 });
  return { text: formatChecks(results), code: exitCodeFor(results) };
}

if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  t.test('defaults: an autodistributed call can be transferred, its recording is found and linked', { timeout: 180_000 }, async (t) => {
    const agiPort = await freeTcpPort();
    const root = process.env.KA_ASTERISK_ROOT ?? '/var/cache/kommo-asterisk/sid-root';
    const rig = await startRig({
      asterisk: {
        // The bundled defaults: no KOMMO_DIAL_OPTIONS, no KOMMO_RECORDINGS_DIR (the harness sets one otherwise).
        globals: { KOMMO_AGI_HOST: '127.0.0.1', KOMMO_AGI_PORT: String(agiPort), KOMMO_FALLBACK: 'test-fallback,s,1', KOMMO_DIAL_TIMEOUT: '8', KOMMO_RECORDINGS_DIR: '' },
      },
      seed: { contacts: [{ name: 'Transfer Client', responsible_user_id: U.maria, phones: [`+${KNOWN}`] }] },
      config: {
        agi: { host: '127.0.0.1', port: agiPort },
        http: { enabled: false, secret: SECRET, public_url: 'http://127.0.0.1:9' },
        recordings: { enabled: true, dir: path.join(root, 'var/spool/asterisk/monitor'), asterisk_dir: '/var/spool/asterisk/monitor', convert_to_mp3: false, wait_closed_ms: 5000 },
      },
    });
    let agi: AgiRuntime | undefined;
    t.teardown(async () => {
      await agi?.close();
      await rig.close();
    });
    agi = await startAgi(rig.core!);

    const checked = await check(rig);
    t.match(checked.text, /^ok    Transfers \(attended \*2, blind #1, Dial options "t"\)$/m, 'check: transfers will work');
    t.match(checked.text, /^ok    Recordings directory \(MixMonitor writes into .*\/var\/spool\/asterisk\/monitor\/kommo, under recordings\.dir/m, 'check: the default pair agrees');

    let atxfer = '';
    await placeCall(rig, {
      from: 'trunk', service: '200', caller: KNOWN, scenario: { file: writeAudioUacScenario().scenario }, durationMs: 12_000, timeoutMs: 40_000,
      // uas-answer rings for durationMs, then answers and talks until the BYE
      uas: [{ at: '102', scenario: 'uas-answer', durationMs: 300 }, { at: '101', scenario: 'uas-answer', durationMs: 300 }],
      during: async (rig) => {
        const enter = await nextEvent(rig, bridgeEnterOf('102'), 'the manager 102 answers the autodistributed call', 20_000);
        const ch102 = String(enter['channel']);
        await sleep(1000);
        const consult = nextEvent(rig, bridgeEnterOf('101'), 'BridgeEnter of 101 (consultation)', 15_000);
        await amiAction(rig, { action: 'Atxfer', channel: ch102, context: 'from-internal', exten: '101' });
        atxfer = 'accepted';
        await consult;
        await sleep(1000);
        const done = nextEvent(rig, (e) => e['event'] === 'attendedtransfer', 'AttendedTransfer', 10_000);
        await amiAction(rig, { action: 'Hangup', channel: ch102 });
        const result = await done;
        atxfer = String(result['result'] ?? '');
      },
    });
    t.equal(atxfer, 'Success', 'the attended transfer of the autodistributed call succeeded');
    await waitRegistered(rig, KNOWN, 1, 40_000);
    await sleep(1000);
    const calls = callsFor(rig.sim, KNOWN);
    t.equal(calls.length, 1, 'one call record');
    t.match(calls[0]?.body, { direction: 'inbound', call_status: 4, responsible_user_id: U.ivan }, 'answered, for 101 who talked last');
    t.match(String(calls[0]?.body['link'] ?? ''), /^http:\/\/127\.0\.0\.1:9\/recordings\/[\w-]{20,}/, 'the recording found under the default directories is linked');
  });

  t.test('check warns when features.conf has no featuremap', { timeout: 60_000 }, async (t) => {
    const rig = await startRig({ asterisk: { files: { 'features.conf': '[general]\n' } } });
    t.teardown(() => rig.close());
    const { text, code } = await check(rig);
    t.match(text, /^WARN  Transfers: no attended-transfer code: add "atxfer => \*2" under \[featuremap\]/m);
    t.equal(code, 0, 'a warning, not a failure');
  });
}
