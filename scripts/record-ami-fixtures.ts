// Records real AMI event streams for test/fixtures/ami/<scenario>.jsonl.
//
//   sudo node --loader @isaacs/ts-node-temp-fork-for-pr-2009/esm \
//     scripts/record-ami-fixtures.ts [scenario ...]
//
// Needs the Asterisk root (scripts/asterisk-root.sh) and sipp. Starts one
// throw-away Asterisk, then plays each scenario with SIPp (and AMI actions for
// transfers / originate) while a raw AMI connection (Events: on) records every
// event. Each scenario gets its own AMI connection and starts with no channel
// up. See test/fixtures/ami/README.md for the format and the filter.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAsterisk, type AsteriskInstance } from '../rig/sandbox/asterisk.js';
import { field, type AmiMessage, type AmiTestClient } from '../rig/sandbox/asterisk-ami.js';
import { sipp, startSipp, type SippResult, type SippScenario } from '../rig/sandbox/sipp.js';
import { freeTcpPort } from '../rig/sandbox/ports.js';
import { keep } from '../rig/sandbox/ami-fixture-filter.js';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'ami');
const CLIENT = { caller_num: '79991234567', caller_name: 'Ivan Petrov' };
const EXTERNAL = '79990001122';

// ---- rig ----------------------------------------------------------------------
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Ctx {
  ast: AsteriskInstance;
  ami: AmiTestClient;
  events: AmiMessage[];
  /** first event matching pred, already seen or still to come */
  seen(pred: (m: AmiMessage) => boolean, what: string, timeoutMs?: number): Promise<AmiMessage>;
}

type Peer = 'trunk' | '101' | '102' | '103';
interface UasSpec { at: Peer; scenario: SippScenario; durationMs?: number }
interface UacSpec { from: Peer; scenario: SippScenario; service: string; durationMs?: number; keys?: Record<string, string> }
interface Scenario {
  name: string;
  description: string;
  uas: UasSpec[];
  uac?: UacSpec;
  during?: (ctx: Ctx) => Promise<void>;
  /** expected final SIP status at the UAC */
  expectFinal?: number;
}

function peerAddr(ast: AsteriskInstance, p: Peer): { ip: string; port: number } {
  return p === 'trunk' ? { ip: ast.trunkIp, port: ast.trunkPort } : { ip: ast.phones[p]!, port: ast.phonePort };
}

const chanOf = (ext: string) => (m: AmiMessage): boolean => field(m, 'Channel')?.startsWith(`PJSIP/${ext}-`) === true;

async function channelCount(ami: AmiTestClient): Promise<number> {
  const list = await ami.action({ Action: 'CoreShowChannels' }, 5000, { list: true });
  return list.filter((m) => field(m, 'Event') === 'CoreShowChannel').length;
}

let lastFinal: number | null = null;

async function runScenario(ast: AsteriskInstance, s: Scenario): Promise<AmiMessage[]> {
  const ami = await ast.ami('on');
  const events: AmiMessage[] = [];
  const listeners = new Set<() => void>();
  ami.on('event', (m: AmiMessage) => {
    events.push(m);
    for (const l of listeners) l();
  });
  const ctx: Ctx = {
    ast,
    ami,
    events,
    seen: (pred, what, timeoutMs = 15000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = events.find(pred);
          if (!hit) return false;
          listeners.delete(onEv);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const onEv = (): void => void check();
        const timer = setTimeout(() => {
          listeners.delete(onEv);
          reject(new Error(`${s.name}: timed out waiting for ${what}`));
        }, timeoutMs);
        listeners.add(onEv);
        check();
      }),
  };
  const runs: Promise<SippResult>[] = [];
  for (const u of s.uas) {
    const a = peerAddr(ast, u.at);
    const run = await sipp({ scenario: u.scenario, localIp: a.ip, localPort: a.port, durationMs: u.durationMs ?? 1000, timeoutMs: 40000 });
    runs.push(run.done);
  }
  let uacDone: Promise<SippResult> | null = null;
  if (s.uac) {
    const a = peerAddr(ast, s.uac.from);
    const keys = s.uac.from === 'trunk' ? { ...CLIENT, ...s.uac.keys } : { caller_num: s.uac.from, caller_name: '', ...s.uac.keys };
    const run = await startSipp({
      scenario: s.uac.scenario,
      localIp: a.ip,
      localPort: a.port,
      remote: `${ast.sipHost}:${ast.sipPort}`,
      service: s.uac.service,
      durationMs: s.uac.durationMs ?? 2000,
      keys,
      timeoutMs: 40000,
    });
    uacDone = run.done;
    runs.push(run.done);
  }
  if (s.during) await s.during(ctx);
  const results = await Promise.all(runs);
  // wait until every channel is gone, then for trailing CEL/Cdr events
  const deadline = Date.now() + 30000;
  while ((await channelCount(ami)) > 0) {
    if (Date.now() > deadline) throw new Error(`${s.name}: channels still up after 30 s`);
    await sleep(200);
  }
  await sleep(1500);
  ami.close();
  const uac = uacDone ? await uacDone : null;
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length) {
    throw new Error(`${s.name}: sipp failed: ${failed.map((r) => `exit ${String(r.code)} ${r.stderr.slice(-600)}`).join('\n')}`);
  }
  if (uac && s.expectFinal !== undefined && uac.finalStatus !== s.expectFinal) {
    // Asterisk decides the final response (e.g. 603 rather than 480 after a
    // Dial timeout): record what it did, and say so.
    console.warn(`[${s.name}] caller got ${String(uac.finalStatus)} (expected ${s.expectFinal})`);
  }
  lastFinal = uac ? uac.finalStatus : null;
  return events;
}

// ---- a fake FastAGI server for the autodistribution scenarios -----------------
function fakeAgi(port: number, vars: Record<string, string>): Promise<Server> {
  return new Promise((resolve) => {
    const srv = createServer((sock: Socket) => {
      sock.setEncoding('utf8');
      let buf = '';
      let envDone = false;
      const queue = Object.entries(vars).map(([k, v]) => `SET VARIABLE ${k} "${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"\n`);
      const next = (): void => {
        const cmd = queue.shift();
        if (cmd) sock.write(cmd);
        else sock.end();
      };
      sock.on('data', (d: string) => {
        buf += d;
        if (!envDone) {
          const i = buf.indexOf('\n\n');
          if (i < 0) return;
          envDone = true;
          buf = buf.slice(i + 2);
          next();
          return;
        }
        while (buf.includes('\n')) {
          buf = buf.slice(buf.indexOf('\n') + 1);
          next();
        }
      });
      sock.on('error', () => sock.destroy());
    });
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

// ---- scenarios ----------------------------------------------------------------
const inbound = (service: string, scenario: SippScenario = 'uac', durationMs = 2000): UacSpec => ({ from: 'trunk', scenario, service, durationMs });
const outbound = (scenario: SippScenario = 'uac', durationMs = 2000, service = EXTERNAL): UacSpec => ({ from: '101', scenario, service, durationMs });

const SCENARIOS: Scenario[] = [
  {
    name: 'inbound-answered',
    description: 'trunk → DID 201 → Dial(PJSIP/101); 101 rings 1 s, answers; the caller hangs up after 2 s',
    uas: [{ at: '101', scenario: 'uas-answer', durationMs: 1000 }],
    uac: inbound('201'),
    expectFinal: 200,
  },
  {
    name: 'inbound-noanswer',
    description: 'trunk → 201 → 101 rings and never answers; Dial timeout 5 s (NOANSWER); the caller gets 480',
    uas: [{ at: '101', scenario: 'uas-noanswer' }],
    uac: inbound('201'),
    expectFinal: 480,
  },
  {
    name: 'inbound-busy',
    description: 'trunk → 201 → 101 answers 486 Busy Here (DIALSTATUS BUSY); the caller gets 486',
    uas: [{ at: '101', scenario: 'uas-busy' }],
    uac: inbound('201'),
    expectFinal: 486,
  },
  {
    name: 'inbound-cancel',
    description: 'trunk → 201 → 101 rings; the caller hangs up (CANCEL) after 2 s of ringing (DIALSTATUS CANCEL)',
    uas: [{ at: '101', scenario: 'uas-noanswer' }],
    uac: inbound('201', 'uac-cancel', 2000),
    expectFinal: 487,
  },
  {
    name: 'ringgroup-answered',
    description: 'trunk → 202 → Dial(PJSIP/102&PJSIP/103); both ring, 103 answers after 2 s, 102 is cancelled; caller hangs up after 2 s',
    uas: [
      { at: '102', scenario: 'uas-noanswer' },
      { at: '103', scenario: 'uas-answer', durationMs: 2000 },
    ],
    uac: inbound('202'),
    expectFinal: 200,
  },
  {
    name: 'queue-answered',
    description: 'trunk → 203 → Queue(sales) ringall, members Local/102@from-queue and Local/103@from-queue; 103 answers after 2 s; caller hangs up after 2 s',
    uas: [
      { at: '102', scenario: 'uas-noanswer' },
      { at: '103', scenario: 'uas-answer', durationMs: 2000 },
    ],
    uac: inbound('203'),
    expectFinal: 200,
  },
  {
    name: 'queue-abandoned',
    description: 'trunk → 203 → Queue(sales); 102 and 103 ring; the caller hangs up (CANCEL) after 4 s (QueueCallerAbandon)',
    uas: [
      { at: '102', scenario: 'uas-noanswer' },
      { at: '103', scenario: 'uas-noanswer' },
    ],
    uac: inbound('203', 'uac-cancel', 4000),
    expectFinal: 487,
  },
  {
    name: 'blind-transfer',
    description: 'trunk → 201 → 101 answers; 1 s later AMI BlindTransfer(Channel=101 leg, from-internal,102); 102 answers; caller hangs up 6 s after its answer',
    uas: [
      { at: '101', scenario: 'uas-answer', durationMs: 500 },
      { at: '102', scenario: 'uas-answer', durationMs: 1000 },
    ],
    uac: inbound('201', 'uac', 6000),
    expectFinal: 200,
    during: async (ctx) => {
      const enter = await ctx.seen((m) => field(m, 'Event') === 'BridgeEnter' && chanOf('101')(m), 'BridgeEnter of 101');
      await sleep(1000);
      const [res] = await ctx.ami.action({ Action: 'BlindTransfer', Channel: field(enter, 'Channel')!, Context: 'from-internal', Exten: '102' });
      if (!res || field(res, 'Response') !== 'Success') throw new Error(`BlindTransfer: ${JSON.stringify(res)}`);
    },
  },
  {
    name: 'attended-transfer',
    description: 'trunk → 201 → 101 answers; AMI Atxfer(101 leg → 102@from-internal): the caller is held, 101 consults 102 (own linkedid), 102 answers; AMI Hangup of 101 completes the transfer (AttendedTransfer); caller and 102 talk until the caller hangs up 10 s after its answer',
    uas: [
      { at: '101', scenario: 'uas-answer', durationMs: 500 },
      { at: '102', scenario: 'uas-answer', durationMs: 1000 },
    ],
    uac: inbound('201', 'uac', 10000),
    expectFinal: 200,
    during: async (ctx) => {
      const enter = await ctx.seen((m) => field(m, 'Event') === 'BridgeEnter' && chanOf('101')(m), 'BridgeEnter of 101');
      const ch101 = field(enter, 'Channel')!;
      await sleep(1000);
      const [res] = await ctx.ami.action({ Action: 'Atxfer', Channel: ch101, Context: 'from-internal', Exten: '102' });
      if (!res || field(res, 'Response') !== 'Success') throw new Error(`Atxfer: ${JSON.stringify(res)}`);
      await ctx.seen((m) => field(m, 'Event') === 'BridgeEnter' && chanOf('102')(m), 'BridgeEnter of 102 (consultation)');
      await sleep(1000);
      const [hr] = await ctx.ami.action({ Action: 'Hangup', Channel: ch101 });
      if (!hr || field(hr, 'Response') !== 'Success') throw new Error(`Hangup: ${JSON.stringify(hr)}`);
      await ctx.seen((m) => field(m, 'Event') === 'AttendedTransfer', 'AttendedTransfer', 10000);
    },
  },
  {
    name: 'outbound-answered',
    description: `extension 101 dials ${EXTERNAL} → from-internal → PJSIP/${EXTERNAL}@trunk; the far end answers after 1 s; 101 hangs up after 2 s`,
    uas: [{ at: 'trunk', scenario: 'uas-answer', durationMs: 1000 }],
    uac: outbound(),
    expectFinal: 200,
  },
  {
    name: 'outbound-noanswer',
    description: `101 dials ${EXTERNAL} via the trunk; it rings and never answers; Dial timeout 5 s; 101 gets 480`,
    uas: [{ at: 'trunk', scenario: 'uas-noanswer' }],
    uac: outbound(),
    expectFinal: 480,
  },
  {
    name: 'outbound-busy',
    description: `101 dials ${EXTERNAL} via the trunk; the far end answers 486; 101 gets 486`,
    uas: [{ at: 'trunk', scenario: 'uas-busy' }],
    uac: outbound(),
    expectFinal: 486,
  },
  {
    name: 'outbound-cancel',
    description: `101 dials ${EXTERNAL} via the trunk; it rings; 101 hangs up (CANCEL) after 2 s`,
    uas: [{ at: 'trunk', scenario: 'uas-noanswer' }],
    uac: outbound('uac-cancel', 2000),
    expectFinal: 487,
  },
  {
    name: 'internal-answered',
    description: '101 dials 102 (from-internal, _1XX); 102 answers after 1 s; 101 hangs up after 2 s',
    uas: [{ at: '102', scenario: 'uas-answer', durationMs: 1000 }],
    uac: outbound('uac', 2000, '102'),
    expectFinal: 200,
  },
  {
    name: 'ivr-missed',
    description: 'trunk → 204: Answer, Playtones, WaitExten(5); the caller hangs up after 3 s in the IVR without reaching anyone',
    uas: [],
    uac: inbound('204', 'uac', 3000),
    expectFinal: 200,
  },
  {
    name: 'ivr-timeout',
    description: 'trunk → 204: nobody presses a key; WaitExten(5) times out, t → Hangup(): Asterisk hangs up the caller',
    uas: [],
    uac: inbound('204', 'uac-wait-bye'),
    expectFinal: 200,
  },
  {
    name: 'autodistribution-found',
    description: 'trunk → 200 → [kommo-autodistribution]; a fake FastAGI sets KOMMO_STATUS=found, KOMMO_EXTENSION=102, KOMMO_CALLERID_NAME="ООО Ромашка"; 102 is dialled with that name, answers after 1 s; caller hangs up after 2 s',
    uas: [{ at: '102', scenario: 'uas-answer', durationMs: 1000 }],
    uac: inbound('200'),
    expectFinal: 200,
  },
  {
    name: 'autodistribution-agi-down',
    description: 'trunk → 200 → [kommo-autodistribution]; no FastAGI server listening: AGISTATUS=FAILURE, KOMMO_FALLBACK_REASON=agi_failed, Goto(test-fallback,s,1) → 103 answers after 1 s; caller hangs up after 2 s',
    uas: [{ at: '103', scenario: 'uas-answer', durationMs: 1000 }],
    uac: inbound('200'),
    expectFinal: 200,
  },
  {
    name: 'click-to-call',
    description: `AMI Originate(Channel=PJSIP/101, Context=kommo-originate, Exten=${EXTERNAL}, ChannelId/OtherChannelId chosen up front); 101 answers after 1 s, then the client is dialled via the trunk and answers after 1 s; 3 s later AMI Hangup of 101`,
    uas: [
      { at: '101', scenario: 'uas-answer', durationMs: 1000 },
      { at: 'trunk', scenario: 'uas-answer', durationMs: 1000 },
    ],
    during: async (ctx) => {
      const [res] = await ctx.ami.action({
        Action: 'Originate',
        Channel: 'PJSIP/101',
        Context: 'kommo-originate',
        Exten: EXTERNAL,
        Priority: '1',
        CallerID: `"Kommo" <${EXTERNAL}>`,
        Timeout: '30000',
        Async: 'true',
        ChannelId: 'kommo-c2c-0001',
        OtherChannelId: 'kommo-c2c-0002',
        Variable: ['KOMMO_CLICK_TO_CALL=1', 'KOMMO_USER_ID=1234567'],
      });
      if (!res || field(res, 'Response') !== 'Success') throw new Error(`Originate: ${JSON.stringify(res)}`);
      await ctx.seen((m) => field(m, 'Event') === 'BridgeEnter' && field(m, 'Channel')?.startsWith('PJSIP/trunk-') === true, 'client leg bridged');
      await sleep(3000);
      await ctx.ami.action({ Action: 'Hangup', Channel: '/^PJSIP\\/101-.*$/' });
    },
  },
];

// ---- main -----------------------------------------------------------------------
async function main(): Promise<void> {
  const only = new Set(process.argv.slice(2));
  const agiPort = await freeTcpPort();
  const downPort = await freeTcpPort();
  const ast = await startAsterisk({
    dialTimeout: 5,
    queueTimeout: 30,
    queueMemberTimeout: 15,
    ivrWait: 5,
    globals: { KOMMO_AGI_PORT: String(agiPort), KOMMO_DIAL_TIMEOUT: '5' },
  });
  mkdirSync(OUT, { recursive: true });
  const failures: string[] = [];
  const index: Array<{ name: string; description: string; callerFinalSipStatus: number | null; events: number }> = [];
  try {
    for (const s of SCENARIOS) {
      if (only.size && !only.has(s.name)) continue;
      let agi: Server | null = null;
      if (s.name === 'autodistribution-found') {
        agi = await fakeAgi(agiPort, { KOMMO_STATUS: 'found', KOMMO_EXTENSION: '102', KOMMO_CALLERID_NAME: 'ООО Ромашка' });
      }
      if (s.name === 'autodistribution-agi-down') {
        await ast.cli(`dialplan set global KOMMO_AGI_PORT ${downPort}`);
      }
      const t0 = Date.now();
      try {
        const events = (await runScenario(ast, s).catch((err: unknown) => {
          failures.push(`${s.name}: ${err instanceof Error ? err.message : String(err)}`);
          return null;
        }))?.filter(keep);
        if (!events) {
          console.error(`${s.name}: FAILED (not written)`);
          continue;
        }
        const file = path.join(OUT, `${s.name}.jsonl`);
        writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
        index.push({ name: s.name, description: s.description, callerFinalSipStatus: lastFinal, events: events.length });
        console.log(`${s.name}: caller final ${String(lastFinal)}, ${events.length} events in ${Date.now() - t0} ms → ${path.relative(process.cwd(), file)}`);
      } finally {
        if (agi) await new Promise<void>((r) => agi!.close(() => r()));
        if (s.name === 'autodistribution-agi-down') await ast.cli(`dialplan set global KOMMO_AGI_PORT ${agiPort}`);
      }
    }
  } catch (err) {
    console.error(err);
    console.error(ast.messages().split('\n').slice(-60).join('\n'));
    process.exitCode = 1;
  } finally {
    await ast.stop();
  }
  if (failures.length) {
    console.error(`\n${failures.length} scenario(s) failed:\n${failures.join('\n')}`);
    process.exitCode = 1;
  }
  if (!only.size && process.exitCode !== 1) {
    writeFileSync(path.join(OUT, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  }
}

await main();
