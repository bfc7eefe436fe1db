// End-to-end autodistribution: a real Asterisk 22 running the product's dialplan
// (dialplan/kommo-asterisk.conf), SIPp as the trunk and as the phones, the Kommo
// simulator, and our FastAGI server composed and started in-process exactly as bin/ does
// (buildCore → startAgi), listening where the dialplan's KOMMO_AGI_HOST/PORT point.
//
// Phones (rig/sandbox/asterisk.ts): 101 Ivan, 102 Maria (the responsible manager of the
// known clients), 103 = the harness' fallback (KOMMO_FALLBACK=test-fallback,s,1 dials 103).
// Every scenario is shown by what the called SIPp leg received; the leg that must stay
// silent runs a UAS too and must have received nothing. Needs the root built by
// scripts/asterisk-root.sh and root privileges.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { buildCore, startAgi } from '../../bin/compose.js';
import { buildConfig } from '../../lib/platform/config/index.js';
import { createLogger } from '../../lib/platform/log.js';
import { SEED_IDS, startSimulator } from '../../rig/simulator/index.js';
import { asteriskRootProblem, startAsterisk, type AsteriskInstance } from '../../rig/sandbox/asterisk.js';
import { field, type AmiMessage, type AmiTestClient } from '../../rig/sandbox/asterisk-ami.js';
import { freeTcpPort } from '../../rig/sandbox/ports.js';
import { displayName, header, startSipp, type SippResult, type SippScenario } from '../../rig/sandbox/sipp.js';

const U = SEED_IDS.users;
/** Maria's extension: the responsible manager of every known client below. */
const MANAGER = '102';
/** Where KOMMO_FALLBACK (test-fallback,s,1) rings in the harness. */
const FALLBACK = '103';
const DIAL_TIMEOUT_S = 3;
const TRUNK_NAME = 'Trunk Caller';

const CLIENTS = {
  known: { phone: '79991234567', name: 'Константин Константинопольский' },
  outageHang: { phone: '79991234501', name: 'Клиент При Зависании Коммо' },
  outageDown: { phone: '79991234502', name: 'Клиент При Отказе Коммо' },
  noAnswer: { phone: '79991234503', name: 'Александра Александровна Петрова' },
} as const;
const UNKNOWN = '79990000000';
const cut20 = (s: string): string => Array.from(s).slice(0, 20).join('');

const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  t.test('autodistribution end to end', { timeout: 240_000 }, main);
}

interface Rig {
  ast: AsteriskInstance;
  ami: AmiTestClient;
  events: AmiMessage[];
  logs: Array<Record<string, unknown>>;
  sim: Awaited<ReturnType<typeof startSimulator>>;
}

interface CallOutcome {
  trunk: SippResult;
  legs: Record<string, SippResult>;
  /** Events of this call only (from the trunk leg's Newchannel on). */
  events: AmiMessage[];
  /** KOMMO_* variables the dialplan/AGI set on the trunk channel, last value wins. */
  vars: Record<string, string>;
}

/**
 * One inbound call from the trunk to DID 200 (the harness' autodistribution entry),
 * with a SIPp UAS on each of `legs` (extension → scenario), all listening before the call.
 */
async function call(r: Rig, callerNum: string, legs: Record<string, SippScenario>, opts: { legTimeoutMs?: number } = {}): Promise<CallOutcome> {
  const from = r.events.length;
  const uas = await Promise.all(
    Object.entries(legs).map(async ([ext, scenario]) => {
      const run = await startSipp({
        scenario,
        localIp: r.ast.phones[ext]!,
        localPort: r.ast.phonePort,
        durationMs: 300,
        // A leg that is never called ends at its own deadline, with an empty trace.
        timeoutMs: opts.legTimeoutMs ?? 12_000,
      });
      await run.ready;
      return [ext, run] as const;
    }),
  );
  const trunk = await startSipp({
    scenario: 'uac',
    localIp: r.ast.trunkIp,
    localPort: r.ast.trunkPort,
    remote: `${r.ast.sipHost}:${r.ast.sipPort}`,
    service: '200',
    durationMs: 500,
    timeoutMs: 20_000,
    keys: { caller_num: callerNum, caller_name: TRUNK_NAME },
  });
  await trunk.ready;
  const trunkResult = await trunk.done;
  const events = r.events.slice(from);
  const start = events.findIndex((m) => m.Event === 'Newchannel' && field(m, 'Channel')?.startsWith('PJSIP/trunk-') === true);
  const mine = start >= 0 ? events.slice(start) : events;
  const trunkChannel = start >= 0 ? field(mine[0]!, 'Channel') : undefined;
  const vars: Record<string, string> = {};
  for (const m of mine) {
    if (m.Event !== 'VarSet' || field(m, 'Channel') !== trunkChannel) continue;
    const name = field(m, 'Variable') ?? '';
    if (name.startsWith('KOMMO_') || name === 'AGISTATUS') vars[name] = field(m, 'Value') ?? '';
  }
  // A leg Asterisk dialled finishes its scenario on its own (its trace is only complete
  // once SIPp exits normally); a leg it never dialled is stopped now.
  const called = new Set(dialledIn(mine));
  const legResults: Record<string, SippResult> = {};
  await Promise.all(
    uas.map(async ([ext, run]) => {
      const timer = setTimeout(() => run.kill(), called.has(ext) ? 8000 : 0);
      legResults[ext] = await run.done;
      clearTimeout(timer);
    }),
  );
  return { trunk: trunkResult, legs: legResults, events: mine, vars };
}

/** What happened, for the failure message of a scenario. */
function diagnose(o: CallOutcome): string {
  const dialEnds = o.events.filter((m) => m.Event === 'DialEnd').map((m) => `${field(m, 'DestChannel') ?? '?'}=${field(m, 'DialStatus') ?? '?'}`);
  const legs = Object.entries(o.legs).map(([ext, r]) =>
    `${ext}: code ${String(r.code)} ${r.timedOut ? '(timed out) ' : ''}received [${r.received.map((m) => m.method ?? m.status).join(',')}] ${r.stderr.slice(-300)}`);
  return [`trunk final ${String(o.trunk.finalStatus)}, code ${String(o.trunk.code)}`, `dialled ${dialled(o).join(',')}; ${dialEnds.join(', ')}`,
    `vars ${JSON.stringify(o.vars)}`, ...legs].join('\n');
}

function explainOnFailure(t: Test, o: CallOutcome): void {
  if (!t.passing()) t.comment(diagnose(o));
}

function invites(res: SippResult | undefined): SippResult['received'] {
  return (res?.received ?? []).filter((m) => m.method === 'INVITE');
}

function dialled(o: CallOutcome): string[] {
  return dialledIn(o.events);
}

/** Extensions Asterisk dialled (DialBegin), in order. */
function dialledIn(events: AmiMessage[]): string[] {
  return events
    .filter((m) => m.Event === 'DialBegin')
    .map((m) => /^PJSIP\/(\d+)-/.exec(field(m, 'DestChannel') ?? '')?.[1] ?? '?');
}

function lastAnswer(r: Rig, caller: string): Record<string, unknown> | undefined {
  return r.logs.filter((l) => l.msg === 'autodistribution answer' && l.callerid === caller).at(-1);
}

async function main(t: Test): Promise<void> {
  const sim = await startSimulator({ longLivedToken: 'e2e-token' });
  t.teardown(() => sim.close());
  sim.seed({
    contacts: Object.values(CLIENTS).map((c) => ({ name: c.name, phones: [`+${c.phone}`], responsible_user_id: U.maria })),
  });

  const hooksDir = await mkdtemp(path.join(tmpdir(), 'ka-e2e-hooks-'));
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ka-e2e-data-'));
  t.teardown(async () => {
    await rm(hooksDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });
  const agiPort = await freeTcpPort('127.0.0.1');
  const config = buildConfig(
    {
      data_dir: dataDir,
      log: { level: 'info' },
      kommo: { base_url: sim.url, long_lived_token: sim.longLivedToken },
      pbx: { extensions: { '101': U.ivan, [MANAGER]: U.maria, [FALLBACK]: U.olga } },
      ami: { secret: 'not-used-by-the-agi' },
      http: { enabled: false },
      agi: { host: '127.0.0.1', port: agiPort },
      customizations: { dir: hooksDir },
    },
    { env: {} },
  );
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const core = buildCore(config, createLogger({ level: 'info', destination: sink }));
  const agi = await startAgi(core);
  t.teardown(async () => {
    await agi.close();
    await core.kommo.destroy();
    await core.hooks.close();
  });

  const ast = await startAsterisk({
    globals: {
      KOMMO_AGI_HOST: config.agi.host,
      KOMMO_AGI_PORT: String(config.agi.port),
      KOMMO_DIAL_TIMEOUT: String(DIAL_TIMEOUT_S),
      KOMMO_RECORD: 'no',
    },
  });
  t.teardown(() => ast.stop());
  const ami = await ast.ami();
  t.teardown(() => ami.close());
  const events: AmiMessage[] = [];
  ami.on('event', (m: AmiMessage) => events.push(m));
  const rig: Rig = { ast, ami, events, logs, sim };
  const budget = config.agi.budget_ms;

  t.test('(a) a known client reaches the responsible manager, with the name cut to 20', async (t) => {
    const { phone, name } = CLIENTS.known;
    const o = await call(rig, phone, { [MANAGER]: 'uas-answer', [FALLBACK]: 'uas-answer' });
    t.teardown(() => explainOnFailure(t, o));
    t.equal(o.trunk.finalStatus, 200, 'the call was answered');
    const inv = invites(o.legs[MANAGER]);
    t.equal(inv.length, 1, `manager ${MANAGER} received the INVITE`);
    t.match(inv[0]?.startLine ?? '', new RegExp(`^INVITE sip:${MANAGER}@`), 'addressed to the manager');
    const shown = displayName(header(inv[0]!, 'from'));
    t.equal(shown, cut20(name), 'From display name = the contact name cut to 20 characters');
    t.equal(Array.from(shown ?? '').length, 20, 'exactly 20 characters');
    t.match(header(inv[0]!, 'from') ?? '', new RegExp(`sip:${phone}@`), 'From number is the caller');
    t.ok(o.legs[MANAGER]?.received.some((m) => m.method === 'BYE'), 'the manager talked and got the BYE');
    t.equal(invites(o.legs[FALLBACK]).length, 0, `fallback ${FALLBACK} received nothing`);
    t.same(dialled(o), [MANAGER], 'Asterisk dialled the manager only');
    t.equal(o.vars.KOMMO_STATUS, 'found');
    t.equal(o.vars.KOMMO_EXTENSION, MANAGER);
    t.notOk(o.vars.KOMMO_FALLBACK_REASON, 'no fallback');
  });

  t.test('(a2) the same client again is answered from the cache', async (t) => {
    const before = sim.requests.filter((q) => q.path.startsWith('/api/')).length;
    const o = await call(rig, CLIENTS.known.phone, { [MANAGER]: 'uas-answer' });
    t.teardown(() => explainOnFailure(t, o));
    t.equal(displayName(header(invites(o.legs[MANAGER])[0]!, 'from')), cut20(CLIENTS.known.name), 'manager rang again with the name');
    t.equal(sim.requests.filter((q) => q.path.startsWith('/api/')).length, before, 'no Kommo request');
  });

  t.test('(b) an unknown number takes the fallback route', async (t) => {
    const o = await call(rig, UNKNOWN, { [MANAGER]: 'uas-answer', [FALLBACK]: 'uas-answer' });
    t.teardown(() => explainOnFailure(t, o));
    t.equal(o.trunk.finalStatus, 200, 'the call was answered');
    const inv = invites(o.legs[FALLBACK]);
    t.equal(inv.length, 1, `fallback ${FALLBACK} received the INVITE`);
    t.equal(displayName(header(inv[0]!, 'from')), TRUNK_NAME, "the caller's own name is kept");
    t.equal(invites(o.legs[MANAGER]).length, 0, `manager ${MANAGER} received nothing`);
    t.same(dialled(o), [FALLBACK]);
    t.equal(o.vars.KOMMO_STATUS, 'not_found');
    t.equal(o.vars.KOMMO_FALLBACK_REASON, 'not_found');
  });

  t.test('(c1) Kommo hanging: the fallback route after the budget', async (t) => {
    sim.faults.hang();
    t.teardown(() => sim.faults.clear());
    const started = Date.now();
    const o = await call(rig, CLIENTS.outageHang.phone, { [MANAGER]: 'uas-answer', [FALLBACK]: 'uas-answer' });
    t.teardown(() => explainOnFailure(t, o));
    t.equal(o.trunk.finalStatus, 200, 'the call was answered');
    const inv = invites(o.legs[FALLBACK]);
    t.equal(inv.length, 1, `fallback ${FALLBACK} received the INVITE`);
    t.equal(displayName(header(inv[0]!, 'from')), TRUNK_NAME);
    t.equal(invites(o.legs[MANAGER]).length, 0, `manager ${MANAGER} received nothing`);
    t.same(dialled(o), [FALLBACK]);
    t.equal(o.vars.AGISTATUS, 'SUCCESS', 'the AGI answered (no Asterisk-side failure)');
    t.equal(o.vars.KOMMO_STATUS, 'timeout');
    t.equal(o.vars.KOMMO_FALLBACK_REASON, 'timeout');
    const answer = lastAnswer(rig, CLIENTS.outageHang.phone);
    t.equal(answer?.status, 'timeout', 'the product logged a timeout answer');
    t.ok(typeof answer?.elapsedMs === 'number' && answer.elapsedMs <= budget + 50, `answered in ${String(answer?.elapsedMs)} ms (budget ${budget})`);
    t.ok(Date.now() - started < budget + 10_000, 'the call went on without waiting for Kommo');
  });

  t.test('(c2) Kommo down (connections dropped): the fallback route', async (t) => {
    sim.faults.down();
    t.teardown(() => sim.faults.clear());
    const o = await call(rig, CLIENTS.outageDown.phone, { [MANAGER]: 'uas-answer', [FALLBACK]: 'uas-answer' });
    t.teardown(() => explainOnFailure(t, o));
    t.equal(o.trunk.finalStatus, 200, 'the call was answered');
    t.equal(invites(o.legs[FALLBACK]).length, 1, `fallback ${FALLBACK} received the INVITE`);
    t.equal(invites(o.legs[MANAGER]).length, 0, `manager ${MANAGER} received nothing`);
    t.same(dialled(o), [FALLBACK]);
    t.match(o.vars.KOMMO_STATUS ?? '', /^(timeout|error)$/, `KOMMO_STATUS=${o.vars.KOMMO_STATUS}`);
    t.equal(o.vars.KOMMO_FALLBACK_REASON, o.vars.KOMMO_STATUS);
  });

  t.test('(d) the manager does not answer: the fallback route, caller name restored', async (t) => {
    const { phone, name } = CLIENTS.noAnswer;
    const o = await call(rig, phone, { [MANAGER]: 'uas-noanswer', [FALLBACK]: 'uas-answer' }, { legTimeoutMs: 15_000 });
    t.teardown(() => explainOnFailure(t, o));
    t.equal(o.trunk.finalStatus, 200, 'the call was answered (by the fallback)');
    const mgr = o.legs[MANAGER];
    const mgrInv = invites(mgr);
    t.equal(mgrInv.length, 1, `manager ${MANAGER} rang first`);
    t.equal(displayName(header(mgrInv[0]!, 'from')), cut20(name), 'with the contact name');
    t.ok(mgr?.received.some((m) => m.method === 'CANCEL'), `and was cancelled after ${DIAL_TIMEOUT_S} s`);
    const fb = invites(o.legs[FALLBACK]);
    t.equal(fb.length, 1, `then fallback ${FALLBACK} received the INVITE`);
    t.equal(displayName(header(fb[0]!, 'from')), TRUNK_NAME, "the caller's own name is restored");
    t.same(dialled(o), [MANAGER, FALLBACK], 'manager first, then the fallback');
    t.equal(o.vars.KOMMO_STATUS, 'found');
    t.equal(o.vars.KOMMO_FALLBACK_REASON, 'NOANSWER');
  });
}
