// Records the FreePBX call shapes' AMI streams into test/fixtures/ami/freepbx/<scenario>.jsonl,
// from the real Asterisk with the FreePBX-shaped dialplan (rig/sandbox/freepbx-dialplan.ts).
//
//   sudo node --loader @isaacs/ts-node-temp-fork-for-pr-2009/esm \
//     scripts/record-freepbx-fixtures.ts [scenario ...]
//
// Same format and filter as scripts/record-ami-fixtures.ts (test/fixtures/ami/README.md);
// each scenario on its own AMI connection, closed 1.5 s after the last channel is gone.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { keep } from '../rig/sandbox/ami-fixture-filter.js';
import { field, type AmiMessage, type AmiTestClient } from '../rig/sandbox/asterisk-ami.js';
import { startAsterisk, type AsteriskInstance } from '../rig/sandbox/asterisk.js';
import { FREEPBX_MOBILE_101 } from '../rig/sandbox/freepbx-dialplan.js';
import { sipp, startSipp, type SippResult, type SippScenario } from '../rig/sandbox/sipp.js';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'ami', 'freepbx');
const CLIENT = { caller_num: '79991234567', caller_name: 'Ivan Petrov' };
const EXTERNAL = '79990001122';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Peer = 'trunk' | 'trunk2' | '101' | '102' | '103';
interface Ctx {
  ast: AsteriskInstance;
  ami: AmiTestClient;
  seen(pred: (m: AmiMessage) => boolean, what: string): Promise<AmiMessage>;
  /** a second caller (a phone) during the call */
  call(from: Peer, service: string, scenario: SippScenario, durationMs: number): Promise<SippResult>;
}
interface Scenario {
  name: string;
  description: string;
  uas: Array<{ at: Peer; scenario: SippScenario; durationMs?: number }>;
  uac: { from: Peer; service: string; scenario?: SippScenario; durationMs?: number };
  during?: (ctx: Ctx) => Promise<void>;
}

function addr(ast: AsteriskInstance, p: Peer): { ip: string; port: number } {
  if (p === 'trunk2') return ast.trunk2!;
  return p === 'trunk' ? { ip: ast.trunkIp, port: ast.trunkPort } : { ip: ast.phones[p]!, port: ast.phonePort };
}

const chanStarts = (m: AmiMessage, key: string, prefix: string): boolean => field(m, key)?.startsWith(prefix) === true;

const SCENARIOS: Scenario[] = [
  {
    name: 'ringgroup-answered',
    description: 'trunk → DID 301 → ext-did (sub-record-check: MixMonitor YYYY/MM/DD/in-301-…) → ext-group 600 Dial(PJSIP/102&PJSIP/103); 103 answers after 1.5 s; caller hangs up after 3 s',
    uas: [{ at: '102', scenario: 'uas-noanswer' }, { at: '103', scenario: 'uas-answer', durationMs: 1500 }],
    uac: { from: 'trunk', service: '301', durationMs: 3000 },
  },
  {
    name: 'queue-answered',
    description: 'trunk → 302 → ext-queues 400 (ringall; members Local/102@from-queue/n, Local/103@from-queue/n → from-queue-exten-only → Gosub dialOne-with-exten → Dial(PJSIP/<ext>)); 102 answers after 1.5 s; caller hangs up after 3 s',
    uas: [{ at: '102', scenario: 'uas-answer', durationMs: 1500 }, { at: '103', scenario: 'uas-noanswer' }],
    uac: { from: 'trunk', service: '302', durationMs: 3000 },
  },
  {
    name: 'followme-mobile-answered',
    description: `trunk → 303 → ext-local 101 → ext-findmefollow FM101: Dial(Local/FMPR-101@from-internal/n&Local/${FREEPBX_MOBILE_101}#@from-internal/n); the mobile leg goes out through outrt-1 → trunk-dial-with-exten → PJSIP/${FREEPBX_MOBILE_101}@trunk2 and answers after 1.5 s; 101 never answers; caller hangs up after 3 s`,
    uas: [{ at: '101', scenario: 'uas-noanswer' }, { at: 'trunk2', scenario: 'uas-answer', durationMs: 1500 }],
    uac: { from: 'trunk', service: '303', durationMs: 3000 },
  },
  {
    name: 'outbound-answered',
    description: `101 dials ${EXTERNAL} → from-internal → outrt-1 (sub-record-check out-…) → Gosub trunk-dial-with-exten → PJSIP/${EXTERNAL}@trunk2; answers after 1 s; 101 hangs up after 2 s`,
    uas: [{ at: 'trunk2', scenario: 'uas-answer', durationMs: 1000 }],
    uac: { from: '101', service: EXTERNAL, durationMs: 2000 },
  },
  {
    name: 'pickup',
    description: 'trunk → 304 → ext-local 102 (dialOne-with-exten sets PICKUPMARK=102); 102 rings; 1 s later 101 dials **102 → app-pickup Pickup(102@PICKUPMARK); caller hangs up 4 s after the pickup',
    uas: [{ at: '102', scenario: 'uas-noanswer' }],
    uac: { from: 'trunk', service: '304', durationMs: 4000 },
    during: async (ctx) => {
      await ctx.seen((m) => field(m, 'Event') === 'DialBegin' && chanStarts(m, 'DestChannel', 'PJSIP/102-'), 'DialBegin of 102');
      await sleep(1000);
      await ctx.call('101', '**102', 'uac', 6000);
    },
  },
  {
    name: 'parked-retrieved',
    description: 'trunk → 304 → 102 answers; 1 s later AMI BlindTransfer(102 leg → from-internal,700) parks the caller (ParkedCall, slot 701); 103 dials 701 and talks until the caller hangs up (9 s after its answer)',
    uas: [{ at: '102', scenario: 'uas-answer', durationMs: 500 }],
    uac: { from: 'trunk', service: '304', durationMs: 9000 },
    during: async (ctx) => {
      const enter = await ctx.seen((m) => field(m, 'Event') === 'BridgeEnter' && chanStarts(m, 'Channel', 'PJSIP/102-'), 'BridgeEnter of 102');
      await sleep(1000);
      await ctx.ami.action({ Action: 'BlindTransfer', Channel: field(enter, 'Channel')!, Context: 'from-internal', Exten: '700' });
      const parked = await ctx.seen((m) => field(m, 'Event') === 'ParkedCall', 'ParkedCall');
      await ctx.call('103', field(parked, 'ParkingSpace') ?? '701', 'uac-wait-bye', 1000);
    },
  },
];

async function channelCount(ami: AmiTestClient): Promise<number> {
  const list = await ami.action({ Action: 'CoreShowChannels' }, 5000, { list: true });
  return list.filter((m) => field(m, 'Event') === 'CoreShowChannel').length;
}

async function record(ast: AsteriskInstance, s: Scenario): Promise<AmiMessage[]> {
  const ami = await ast.ami('on');
  const events: AmiMessage[] = [];
  const waiting = new Set<() => void>();
  ami.on('event', (m: AmiMessage) => {
    events.push(m);
    for (const w of waiting) w();
  });
  const remote = `${ast.sipHost}:${ast.sipPort}`;
  const ctx: Ctx = {
    ast,
    ami,
    seen: (pred, what) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => (waiting.delete(check), reject(new Error(`${s.name}: timed out waiting for ${what}`))), 15000);
        const check = (): void => {
          const hit = events.find(pred);
          if (hit) (clearTimeout(timer), waiting.delete(check), resolve(hit));
        };
        waiting.add(check);
        check();
      }),
    call: async (from, service, scenario, durationMs) => {
      const a = addr(ast, from);
      const run = await startSipp({ scenario, localIp: a.ip, localPort: a.port, remote, service, durationMs, keys: { caller_num: from, caller_name: '' }, timeoutMs: 40000 });
      return run.done;
    },
  };
  try {
    const runs: Promise<SippResult>[] = [];
    for (const u of s.uas) {
      const a = addr(ast, u.at);
      runs.push((await sipp({ scenario: u.scenario, localIp: a.ip, localPort: a.port, durationMs: u.durationMs ?? 1000, timeoutMs: 40000 })).done);
    }
    const a = addr(ast, s.uac.from);
    const keys = s.uac.from === 'trunk' ? CLIENT : { caller_num: s.uac.from, caller_name: '' };
    const uac = await startSipp({ scenario: s.uac.scenario ?? 'uac', localIp: a.ip, localPort: a.port, remote, service: s.uac.service, durationMs: s.uac.durationMs ?? 2000, keys, timeoutMs: 40000 });
    runs.push(uac.done);
    if (s.during) await s.during(ctx);
    await Promise.all(runs);
    const deadline = Date.now() + 30000;
    while ((await channelCount(ami)) > 0) {
      if (Date.now() > deadline) throw new Error(`${s.name}: channels still up after 30 s`);
      await sleep(200);
    }
    await sleep(1500);
    return events.filter(keep);
  } finally {
    ami.close();
  }
}

async function main(): Promise<void> {
  const only = new Set(process.argv.slice(2));
  const ast = await startAsterisk({ flavour: 'freepbx', dialTimeout: 6, queueTimeout: 20, queueMemberTimeout: 8 });
  mkdirSync(OUT, { recursive: true });
  const index: Array<{ name: string; description: string; events: number }> = [];
  try {
    for (const s of SCENARIOS) {
      if (only.size && !only.has(s.name)) continue;
      const events = await record(ast, s);
      writeFileSync(path.join(OUT, `${s.name}.jsonl`), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
      index.push({ name: s.name, description: s.description, events: events.length });
      console.log(`${s.name}: ${events.length} events`);
    }
  } finally {
    await ast.stop();
  }
  if (!only.size) writeFileSync(path.join(OUT, 'index.json'), JSON.stringify(index, null, 2) + '\n');
}

await main();
