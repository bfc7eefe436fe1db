// End-to-end (issue 12): the call shapes FreePBX 16/17 produces, on the real Asterisk
// (rig/sandbox/freepbx-dialplan.ts: ext-did → ext-group / ext-queues with
// Local/<ext>@from-queue members / ext-findmefollow with a mobile through the trunk,
// dialOne-with-exten and trunk-dial-with-exten subroutines, directed pickup, parking,
// recordings in dated folders with CDR(recordingfile)), registered by the real bridge
// in the strict Kommo simulator: one call record each, the right direction and
// responsible user, no task for a losing leg, the recording linked.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { writeAudioUacScenario } from '../../rig/sandbox/audio.js';
import { FREEPBX_MOBILE_101 } from '../../rig/sandbox/freepbx-dialplan.js';
import { startSipp } from '../../rig/sandbox/sipp.js';
import {
  amiAction, bridgeEnterOf, callsFor, contactsWith, nextEvent, peerAddr, placeCall, sleep, startRig, tasksMentioning, U, waitRegistered, type Rig,
} from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem();
const SECRET = 'freepbx-e2e-secret-0123456789abcdef';

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string, rel = ''): string[] {
  let out: string[] = [];
  let entries;
  try {
    entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out = e.isDirectory() ? out.concat(filesUnder(dir, r)) : out.concat([r]);
  }
  return out;
}

if (problem) {
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  let rig: Rig;
  // the caller plays a tone: MixMonitor (option b) writes only bridged audio, and a
  // recording without audio is (rightly) not linked
  const work = mkdtempSync(path.join(tmpdir(), 'ka-freepbx-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const audio = { file: writeAudioUacScenario({ dir: work, tone: { seconds: 3, hz: 440 } }).scenario };
  t.before(async () => {
    rig = await startRig({
      asterisk: { flavour: 'freepbx' },
      config: { pbx: { trunks: ['trunk', 'trunk2'] } },
      deferConfig: (file, _sim, ast) => {
        file['http'] = { enabled: false, secret: SECRET, public_url: 'http://127.0.0.1:8088' };
        // FreePBX's MixMonitor names files relative to Asterisk's monitor directory
        file['recordings'] = { enabled: true, dir: ast.monitorDir, asterisk_dir: `${ast.chrootDir}/spool/monitor`, convert_to_mp3: false, wait_closed_ms: 5000 };
      },
    });
  });
  t.teardown(() => rig?.close());

  /** The one call record of `phone`, with what every answered FreePBX call must satisfy. */
  function oneCall(t: Test, phone: string, direction: 'inbound' | 'outbound', responsible: number): Record<string, unknown> {
    const calls = callsFor(rig.sim, phone);
    t.equal(calls.length, 1, 'exactly one call record');
    const body = calls[0]?.body ?? {};
    t.equal(body['direction'], direction, `direction ${direction}`);
    t.equal(body['call_status'], 4, 'had a conversation');
    t.equal(body['responsible_user_id'], responsible, 'responsible: the employee who answered');
    t.equal(contactsWith(rig.sim, phone).length, 1, 'one contact');
    t.equal(tasksMentioning(rig.sim, phone).length, 0, 'no call-back task (no false "missed")');
    return body;
  }

  /** The recording is linked and lies in FreePBX's dated folder. */
  function recorded(t: Test, body: Record<string, unknown>, prefix: string, phone: string): void {
    const link = String(body['link'] ?? '');
    t.match(link, /^http:\/\/127\.0\.0\.1:8088\/recordings\//, 'the recording is linked');
    const files = filesUnder(rig.ast.monitorDir).filter((f) => f.includes(`${prefix}-`) && f.includes(phone));
    t.equal(files.length, 1, `one ${prefix} recording of ${phone}`);
    t.match(files[0] ?? '', /^\d{4}\/\d{2}\/\d{2}\/[a-z]+-\d+-\d+-\d{8}-\d{6}-[0-9.]+\.wav$/, 'in a dated folder, named like FreePBX');
  }

  t.test('ring group (DID 301 → ext-group 600: 102 & 103): 103 answers', async (t) => {
    const phone = '79995552001';
    await placeCall(rig, {
      from: 'trunk', service: '301', caller: phone, durationMs: 3000, scenario: audio,
      uas: [{ at: '102', scenario: 'uas-noanswer' }, { at: '103', scenario: 'uas-answer', durationMs: 1500 }],
    });
    await waitRegistered(rig, phone);
    const body = oneCall(t, phone, 'inbound', U.olga);
    recorded(t, body, 'in-301', phone);
  });

  t.test('queue (DID 302 → ext-queues 400, Local/<ext>@from-queue → dialOne-with-exten): 102 answers', async (t) => {
    const phone = '79995552002';
    await placeCall(rig, {
      from: 'trunk', service: '302', caller: phone, durationMs: 3000, scenario: audio,
      uas: [{ at: '102', scenario: 'uas-answer', durationMs: 1500 }, { at: '103', scenario: 'uas-noanswer' }],
    });
    await waitRegistered(rig, phone);
    const body = oneCall(t, phone, 'inbound', U.maria);
    recorded(t, body, 'in-302', phone);
  });

  t.test('Follow-Me (DID 303 → 101 and its mobile via trunk2): the mobile answers', async (t) => {
    const phone = '79995552003';
    await placeCall(rig, {
      from: 'trunk', service: '303', caller: phone, durationMs: 3000, scenario: audio,
      uas: [{ at: '101', scenario: 'uas-noanswer' }, { at: 'trunk2', scenario: 'uas-answer', durationMs: 1500 }],
    });
    await waitRegistered(rig, phone);
    const body = oneCall(t, phone, 'inbound', U.ivan);
    recorded(t, body, 'in-303', phone);
    t.equal(callsFor(rig.sim, FREEPBX_MOBILE_101).length, 0, 'the leg to the mobile is not an outbound call');
    t.equal(contactsWith(rig.sim, FREEPBX_MOBILE_101).length, 0, 'and the mobile is no client');
  });

  t.test('outbound (101 → outrt-1 → trunk-dial-with-exten → trunk2)', async (t) => {
    const phone = '79995552004';
    await placeCall(rig, {
      from: '101', service: phone, durationMs: 3000, scenario: audio,
      uas: [{ at: 'trunk2', scenario: 'uas-answer', durationMs: 1000 }],
    });
    await waitRegistered(rig, phone);
    const body = oneCall(t, phone, 'outbound', U.ivan);
    recorded(t, body, 'out', phone);
  });

  t.test('directed pickup: DID 304 rings 102, 101 dials **102', async (t) => {
    const phone = '79995552005';
    await placeCall(rig, {
      from: 'trunk', service: '304', caller: phone, durationMs: 4000,
      uas: [{ at: '102', scenario: 'uas-noanswer' }],
      during: async (rig) => {
        await nextEvent(rig, (e) => e['event'] === 'dialbegin' && String(e['destchannel'] ?? '').startsWith('PJSIP/102-'), 'DialBegin of 102');
        await sleep(1000);
        const a = peerAddr(rig.ast, '101');
        const picker = await startSipp({
          scenario: 'uac', localIp: a.ip, localPort: a.port, remote: `${rig.ast.sipHost}:${rig.ast.sipPort}`, service: '**102',
          durationMs: 6000, keys: { caller_num: '101', caller_name: '' }, timeoutMs: 30_000,
        });
        await picker.done;
      },
    });
    await waitRegistered(rig, phone);
    oneCall(t, phone, 'inbound', U.ivan);
  });

  t.test('parking: 102 answers, parks the caller (700), 103 takes it from slot 701', async (t) => {
    const phone = '79995552006';
    await placeCall(rig, {
      from: 'trunk', service: '304', caller: phone, durationMs: 9000,
      uas: [{ at: '102', scenario: 'uas-answer', durationMs: 500 }],
      during: async (rig) => {
        const enter = await nextEvent(rig, bridgeEnterOf('102'), 'BridgeEnter of 102');
        await sleep(1000);
        const parked = nextEvent(rig, (e) => e['event'] === 'parkedcall', 'ParkedCall');
        await amiAction(rig, { action: 'BlindTransfer', channel: String(enter['channel']), context: 'from-internal', exten: '700' });
        const p = await parked;
        const a = peerAddr(rig.ast, '103');
        const taker = await startSipp({
          scenario: 'uac-wait-bye', localIp: a.ip, localPort: a.port, remote: `${rig.ast.sipHost}:${rig.ast.sipPort}`, service: String(p['parkingspace'] ?? '701'),
          durationMs: 1000, keys: { caller_num: '103', caller_name: '' }, timeoutMs: 30_000,
        });
        await taker.done;
      },
    });
    await waitRegistered(rig, phone);
    oneCall(t, phone, 'inbound', U.olga);
  });

  t.test('totals', async (t) => {
    const s = rig.bridge!.registrar.stats();
    t.equal(s.failed, 0, 'no registration failed');
    t.equal(s.pending, 0, 'none pending');
    t.comment(`Kommo requests: ${rig.sim.counters.total}`);
  });
}
