/**
 * The sandbox: the product's main job end to end on one machine, with real
 * parts. A real Asterisk 22 (the tests' chroot), the strict Kommo simulator
 * seeded with managers and clients, and the connector exactly as `start`
 * composes it (FastAGI + AMI bridge + HTTP). It places a handful of real SIP
 * calls with SIPp, waits until every call is registered, prints what landed in
 * the simulated Kommo, and stops everything (unless asked to stay up).
 */
import { createWriteStream, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildConfig } from '../lib/platform/config/index.js';
import { createLogger } from '../lib/platform/log.js';
import { startSimulator, type KommoSimulator } from '../rig/simulator/index.js';
import { asteriskRootProblem, startAsterisk, type AsteriskInstance } from '../rig/sandbox/asterisk.js';
import { freeTcpPort } from '../rig/sandbox/ports.js';
import { startSipp, type SippScenario } from '../rig/sandbox/sipp.js';
import { writeAudioUacScenario } from '../rig/sandbox/audio.js';
import { buildCore, startAgi, startBridge, startHttp } from './compose.js';
import { renderSandboxReport } from './sandbox-report.js';

export interface SandboxOptions {
  /** Keep everything running after the calls (Ctrl-C stops). */
  stay: boolean;
  out: NodeJS.WritableStream;
}

const HTTP_SECRET = 'sandbox-http-secret-0123456789';
const KNOWN_CLIENT = { name: 'Константин Константинопольский', phone: '+7 (999) 123-45-67', digits: '79991234567', manager: 5002, extension: '102' };
const UNKNOWN_CLIENT = '79990000001';
const MISSED_CLIENT = '79990000002';
const CLICK_TO_CALL_NUMBER = '+7 999 555-44-33';

export async function runSandbox(opts: SandboxOptions): Promise<number> {
  const say = (line: string) => opts.out.write(`${line}\n`);
  const problem = asteriskRootProblem();
  if (problem) {
    say(`sandbox: ${problem}`);
    return 2;
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'ka-sandbox-'));
  const logFile = path.join(work, 'connector.log');
  const stops: Array<() => Promise<unknown>> = [];
  let ok = false;
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  try {
    say('sandbox: starting the Kommo simulator …');
    const sim = await startSimulator({
      seed: {
        contacts: [
          { name: KNOWN_CLIENT.name, phones: [KNOWN_CLIENT.phone], responsible_user_id: KNOWN_CLIENT.manager },
          { name: 'Anna Lee', phones: ['+7 912 000-11-22'], responsible_user_id: 5003 },
        ],
      },
    });
    stops.push(() => sim.close());

    const agiPort = await freeTcpPort();
    const httpPort = await freeTcpPort();
    say('sandbox: starting Asterisk 22 with the bundled dialplan …');
    const ast = await startAsterisk({
      globals: {
        KOMMO_AGI_HOST: '127.0.0.1',
        KOMMO_AGI_PORT: String(agiPort),
        KOMMO_FALLBACK: 'test-fallback,s,1',
        KOMMO_DIAL_TIMEOUT: '8',
      },
      dialTimeout: 6,
    });
    stops.push(() => ast.stop());

    const dataDir = path.join(work, 'data');
    const hooksDir = path.join(work, 'customizations');
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(hooksDir, { recursive: true });
    const config = buildConfig(
      {
        data_dir: dataDir,
        log: { level: 'info' },
        kommo: { base_url: sim.url, long_lived_token: sim.longLivedToken },
        phone: { rewrite_rules: [{ match: '^8(\\d{10})$', replace: '7$1' }] },
        pbx: { extensions: { '101': 5001, '102': 5002, '103': 5003 }, trunks: ['trunk'], default_user_id: 5001 },
        ami: { host: ast.amiHost, port: ast.amiPort, username: ast.amiUser, secret: ast.amiSecret },
        agi: { host: '127.0.0.1', port: agiPort },
        http: { host: '127.0.0.1', port: httpPort, public_url: `http://127.0.0.1:${httpPort}`, secret: HTTP_SECRET },
        recordings: { dir: ast.recordingsDir, asterisk_dir: `${ast.chrootDir}/recordings`, wait_closed_ms: 3000 },
        registration: { create_lead: true, tasks: { enabled: true, deadline_minutes: 60, task_type_id: 1 } },
        customizations: { dir: hooksDir },
      },
      { env: {} },
    );
    const logger = createLogger({ level: 'info', destination: createWriteStream(logFile, { flags: 'a' }) });
    const core = buildCore(config, logger);
    say('sandbox: starting the connector (FastAGI + AMI bridge + HTTP) …');
    const startedAt = new Date();
    const bridge = await startBridge(core);
    stops.push(async () => {
      await bridge.close();
      await core.hooks.close();
      await core.kommo.close();
    });
    const agi = await startAgi(core);
    stops.push(() => agi.close());
    const http = await startHttp(core, { bridge, agi, startedAt });
    if (http) stops.push(() => http.close());

    const audio = writeAudioUacScenario({ dir: work, tone: { seconds: 2, hz: 440 } }).scenario;
    const placed: string[] = [];
    say('sandbox: placing calls …');
    await inbound(ast, '200', KNOWN_CLIENT.digits, { '102': 'uas-answer', '103': 'uas-answer' }, audio);
    placed.push(`1. ${KNOWN_CLIENT.phone} (a known client) calls the main number: routed to their manager's extension ${KNOWN_CLIENT.extension}, answered`);
    await inbound(ast, '200', UNKNOWN_CLIENT, { '102': 'uas-answer', '103': 'uas-answer' }, audio);
    placed.push(`2. +${UNKNOWN_CLIENT} (unknown) calls the main number: not found, normal route (extension 103), answered`);
    await inbound(ast, '201', MISSED_CLIENT, { '101': 'uas-noanswer' }, audio);
    placed.push(`3. +${MISSED_CLIENT} calls extension 101, nobody answers: a missed call`);
    const c2c = await clickToCall(ast, httpPort, 5001, CLICK_TO_CALL_NUMBER);
    placed.push(`4. click-to-call by Иван Петров (user 5001, extension 101) to ${CLICK_TO_CALL_NUMBER}: HTTP ${c2c}`);

    say('sandbox: waiting until every call is registered in Kommo …');
    const drained = await waitRegistered(sim, bridge.registrar, 4, 60_000);
    say('');
    for (const line of placed) say(line);
    say('');
    const popups = bridge.notifier.stats();
    say(renderSandboxReport(sim, { recordingCheck: await checkRecording(sim), popupsNotShown: { late: popups.late_total, failed: popups.failed_total } }));
    say(drained ? '' : 'sandbox: WARNING: not every call was registered within 60 s; see the log');
    say(`connector log (JSON lines): ${logFile}`);
    if (opts.stay) {
      say(`staying up: Kommo simulator ${sim.url} (token: ${sim.longLivedToken.slice(0, 12)}…), AMI 127.0.0.1:${ast.amiPort}, FastAGI 127.0.0.1:${agiPort}, HTTP http://127.0.0.1:${httpPort} (secret ${HTTP_SECRET}). Ctrl-C stops.`);
      say(`admin panel: http://127.0.0.1:${httpPort}/admin (password: ${HTTP_SECRET})`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    ok = drained;
    return drained ? 0 : 1;
  } finally {
    await stopAll();
    // Keep the log of a run that went wrong; a good run leaves nothing behind.
    if (ok && !opts.stay) rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** One inbound call from the trunk: UAS phones listen first, then the trunk dials `did`. */
async function inbound(ast: AsteriskInstance, did: string, caller: string, legs: Record<string, SippScenario>, audioScenario: string): Promise<void> {
  const uas = await Promise.all(
    Object.entries(legs).map(async ([ext, scenario]) => {
      // The phone rings a second before it is picked up, as a person would: long enough
      // for the popup in Kommo (sent within tens of ms) even on a loaded machine.
      const run = await startSipp({ scenario, localIp: ast.phones[ext]!, localPort: ast.phonePort, durationMs: 1000, timeoutMs: 20_000 });
      await run.ready;
      return run;
    }),
  );
  const trunk = await startSipp({
    // The caller talks: 2 s of a 440 Hz tone over RTP, so MixMonitor records real audio.
    scenario: { file: audioScenario },
    localIp: ast.trunkIp,
    localPort: ast.trunkPort,
    remote: `${ast.sipHost}:${ast.sipPort}`,
    service: did,
    durationMs: 2000,
    timeoutMs: 30_000,
    keys: { caller_num: caller, caller_name: 'Client' },
  });
  await trunk.ready;
  await trunk.done;
  await Promise.all(
    uas.map(async (run) => {
      const timer = setTimeout(() => run.kill(), 3000);
      await run.done;
      clearTimeout(timer);
    }),
  );
}

/** Click-to-call through the connector's HTTP endpoint: 101 answers, then the client (the trunk) answers. */
async function clickToCall(ast: AsteriskInstance, httpPort: number, userId: number, phone: string): Promise<string> {
  const employee = await startSipp({ scenario: 'uas-answer', localIp: ast.phones['101']!, localPort: ast.phonePort, durationMs: 300, timeoutMs: 30_000 });
  const client = await startSipp({ scenario: 'uas-answer-bye', localIp: ast.trunkIp, localPort: ast.trunkPort, durationMs: 300, timeoutMs: 30_000 });
  await Promise.all([employee.ready, client.ready]);
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/click-to-call`, {
    method: 'POST',
    headers: { authorization: `Bearer ${HTTP_SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: userId, phone }),
  });
  const answer = (await res.json()) as { placed?: boolean; error?: { code: string } };
  // The client answers, talks for 3 s and hangs up (uas-answer-bye).
  for (const run of [client, employee]) {
    const timer = setTimeout(() => run.kill(), 6000);
    await run.done;
    clearTimeout(timer);
  }
  return `${res.status} ${answer.placed ? 'placed' : `not placed (${answer.error?.code ?? '?'})`}`;
}

async function waitRegistered(sim: KommoSimulator, registrar: { stats(): { pending: number; in_flight?: number } }, calls: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const s = registrar.stats();
    if (sim.state.calls.length + sim.state.unsorted.size >= calls && s.pending === 0) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Fetch the first recording link (a Range request) to show that it works. */
async function checkRecording(sim: KommoSimulator): Promise<string> {
  const link = sim.state.calls.map((c) => c.body.link).find((l): l is string => typeof l === 'string' && l.length > 0);
  if (!link) return 'no recording link in any call record';
  try {
    const res = await fetch(link, { headers: { range: 'bytes=0-15' } });
    const bytes = Buffer.from(await res.arrayBuffer());
    return `GET ${link.slice(0, 60)}… Range bytes=0-15 → ${res.status} ${res.headers.get('content-type') ?? ''} ${res.headers.get('content-range') ?? ''} (${bytes.length} bytes)`;
  } catch (err) {
    return `recording link could not be fetched: ${(err as Error).message}`;
  }
}
