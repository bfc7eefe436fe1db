// The end-to-end rig of the bridge tests: a real Asterisk 22 (chroot), the Kommo
// simulator, and the real bridge (bin/compose.ts startBridge) in this process — or
// as a child process (`node dist/bin/kommo-asterisk.js bridge -c <config>`).
// SIPp places the calls. Used by test/e2e/bridge-*.test.ts and faults-*.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { buildCore, startBridge, type BridgeRuntime, type Core } from '../../bin/compose.js';
import { buildConfig, type FrozenConfig } from '../../lib/platform/config/index.js';
import { packageRoot } from '../../rig/sandbox/repo.js';
import { SEED_IDS, startSimulator, type KommoSimulator } from '../../rig/simulator/index.js';
import type { SeedData } from '../../rig/simulator/types.js';
import { startAsterisk, type AsteriskInstance, type StartAsteriskOptions } from '../../rig/sandbox/asterisk.js';
import { sipp, startSipp, type SippResult, type SippScenario } from '../../rig/sandbox/sipp.js';

export const U = SEED_IDS.users;
/** 101 → Ivan, 102 → Maria, 103 → Olga. */
export const EXT_USERS: Record<string, number> = { '101': U.ivan, '102': U.maria, '103': U.olga };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface RigOptions {
  asterisk?: StartAsteriskOptions;
  seed?: Partial<SeedData>;
  /** Simulator rate limit (default 7 req/s, like Kommo). */
  rateLimitPerSecond?: number;
  /** Extra config (deep-merged over the rig's). */
  config?: Record<string, unknown>;
  /** Start the bridge in this process (default true). */
  inProcess?: boolean;
  /** Last change of the config file once the simulator runs (e.g. its OAuth refresh token). */
  deferConfig?: (file: Record<string, unknown>, sim: KommoSimulator, ast: AsteriskInstance) => void;
}

export interface Rig {
  ast: AsteriskInstance;
  sim: KommoSimulator;
  dataDir: string;
  configPath: string;
  config: FrozenConfig;
  logger: Logger;
  core?: Core;
  bridge?: BridgeRuntime;
  close(): Promise<void>;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
      ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const ast = await startAsterisk({ dialTimeout: 6, queueTimeout: 12, queueMemberTimeout: 8, ...opts.asterisk });
  let sim: KommoSimulator | undefined;
  try {
    sim = await startSimulator({ rateLimitPerSecond: opts.rateLimitPerSecond ?? 7, ...(opts.seed ? { seed: opts.seed } : {}) });
    return await buildRig(ast, sim, opts);
  } catch (err) {
    await sim?.close().catch(() => undefined);
    await ast.stop().catch(() => undefined);
    throw err;
  }
}

async function buildRig(ast: AsteriskInstance, sim: KommoSimulator, opts: RigOptions): Promise<Rig> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ka-bridge-e2e-'));
  const hooksDir = path.join(dataDir, 'customizations');
  await mkdir(hooksDir);
  const file = merge(
    {
      data_dir: dataDir,
      log: { level: process.env.KA_TEST_LOG ? 'debug' : 'info' },
      kommo: {
        base_url: sim.url,
        long_lived_token: sim.longLivedToken,
        rate_limit_per_second: 7,
        request_timeout_ms: 3000,
        connect_timeout_ms: 1000,
        retry: { max_attempts: 3, base_delay_ms: 100, max_delay_ms: 1000, max_elapsed_ms: 3000 },
      },
      pbx: { extensions: EXT_USERS, trunks: ['trunk'], extension_pattern: '^[0-9]{2,5}$', default_user_id: U.ivan },
      ami: { host: ast.amiHost, port: ast.amiPort, username: ast.amiUser, secret: ast.amiSecret, action_timeout_ms: 5000, reconnect_min_ms: 200, reconnect_max_ms: 2000 },
      registration: {
        create_contact: true,
        create_lead: false,
        tasks: { enabled: true, deadline_minutes: 60, task_type_id: 1 },
        retry_base_ms: 500,
        retry_max_ms: 4000,
      },
      http: { enabled: false },
      recordings: { enabled: false },
      customizations: { dir: hooksDir, timeout_ms: 2000 },
    },
    opts.config ?? {},
  );
  opts.deferConfig?.(file, sim, ast);
  const configPath = path.join(dataDir, 'config.json');
  await writeFile(configPath, JSON.stringify(file, null, 2));
  const config = buildConfig(file, { env: {} });
  const logger = pino({ level: process.env.KA_TEST_LOG ? 'debug' : 'silent' });
  const rig: Rig = {
    ast,
    sim,
    dataDir,
    configPath,
    config,
    logger,
    async close() {
      if (rig.bridge) await rig.bridge.close().catch(() => undefined);
      if (rig.core) {
        await rig.core.hooks.close();
        await rig.core.kommo.close();
      }
      await sim.close();
      await ast.stop();
      if (!process.env.KA_KEEP_DATA) await rm(dataDir, { recursive: true, force: true });
    },
  };
  if (opts.inProcess !== false) {
    rig.core = buildCore(config, logger);
    try {
      rig.bridge = await startBridge(rig.core);
      await waitFor('the bridge AMI connection', () => rig.bridge!.ami.isConnected(), 15_000);
    } catch (err) {
      await rig.bridge?.close().catch(() => undefined);
      await rig.core.hooks.close();
      await rig.core.kommo.close();
      throw err;
    }
  }
  return rig;
}

// ---------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------

export type Peer = 'trunk' | 'trunk2' | '101' | '102' | '103';

export interface CallSpec {
  /** Phones (or the trunk, for outbound calls) and how they behave. */
  uas: Array<{ at: Peer; scenario: SippScenario; durationMs?: number }>;
  /** Who calls: the trunk (inbound, `caller` is the client's number) or an extension (outbound). */
  from: Peer;
  service: string;
  scenario?: SippScenario | { file: string };
  durationMs?: number;
  caller?: string;
  /** The client's CallerID name (inbound; default `Client`). */
  callerName?: string;
  /** Runs while the call is up (transfers through AMI). */
  during?: (rig: Rig) => Promise<void>;
  /** Several calls (SIPp -m) at `rate` calls/s, up to `limit` at once. */
  calls?: number;
  rate?: number;
  limit?: number;
  timeoutMs?: number;
}

export interface PlacedCall {
  caller: SippResult;
  phones: SippResult[];
}

export function peerAddr(ast: AsteriskInstance, p: Peer): { ip: string; port: number } {
  if (p === 'trunk2') {
    if (!ast.trunk2) throw new Error('this Asterisk has no trunk2 (flavour freepbx)');
    return ast.trunk2;
  }
  return p === 'trunk' ? { ip: ast.trunkIp, port: ast.trunkPort } : { ip: ast.phones[p]!, port: ast.phonePort };
}

/** Place one call with SIPp and wait until every SIPp is done and Asterisk has no channel left. */
export async function placeCall(rig: Rig, spec: CallSpec): Promise<PlacedCall> {
  const { ast } = rig;
  const phones: Promise<SippResult>[] = [];
  for (const u of spec.uas) {
    const a = peerAddr(ast, u.at);
    const many = spec.calls && spec.calls > 1 ? { calls: spec.calls, extraArgs: ['-l', String((spec.limit ?? 10) * 2)] } : {};
    const run = await sipp({ scenario: u.scenario, localIp: a.ip, localPort: a.port, durationMs: u.durationMs ?? 1000, timeoutMs: spec.timeoutMs ?? 60_000, ...many });
    phones.push(run.done);
  }
  const a = peerAddr(ast, spec.from);
  const keys = spec.from === 'trunk' ? { caller_num: spec.caller ?? '79991234567', caller_name: spec.callerName ?? 'Client' } : { caller_num: spec.from, caller_name: '' };
  const uac = await startSipp({
    scenario: spec.scenario ?? 'uac',
    localIp: a.ip,
    localPort: a.port,
    remote: `${ast.sipHost}:${ast.sipPort}`,
    service: spec.service,
    durationMs: spec.durationMs ?? 2000,
    keys,
    timeoutMs: spec.timeoutMs ?? 60_000,
    ...(spec.calls && spec.calls > 1
      ? { calls: spec.calls, extraArgs: ['-l', String(spec.limit ?? 10), '-r', String(spec.rate ?? 1)] }
      : {}),
  });
  if (spec.during) await spec.during(rig);
  const [caller, ...rest] = await Promise.all([uac.done, ...phones]);
  await waitNoChannels(rig);
  return { caller: caller!, phones: rest };
}

export async function waitNoChannels(rig: Rig, timeoutMs = 30_000): Promise<void> {
  await waitFor('Asterisk without channels', async () => /^0 active channels?/m.test(await rig.ast.cli('core show channels count')), timeoutMs, 250);
}

// ---------------------------------------------------------------------------
// Kommo state
// ---------------------------------------------------------------------------

const digits = (s: unknown): string => String(s ?? '').replace(/\D/g, '');
const last10 = (s: unknown): string => digits(s).slice(-10);

/** Call records (simulator `calls`) whose phone is `phone` (last 10 digits). */
export function callsFor(sim: KommoSimulator, phone: string): Array<{ id: number; entity_id: number; entity_type: string; body: Record<string, unknown> }> {
  return sim.state.calls.filter((c) => last10(c.body['phone']) === last10(phone)) as never;
}

export function contactsWith(sim: KommoSimulator, phone: string): Array<{ id: number; name: string; responsible_user_id: number }> {
  return [...sim.state.contacts.values()].filter((c) =>
    (c.custom_fields_values ?? []).some((f) => (f.values ?? []).some((v) => last10((v as { value?: unknown }).value) === last10(phone))),
  );
}

export function tasksOn(sim: KommoSimulator, entityType: string, entityId: number): Array<{ id: number; text: string; responsible_user_id: number; entity_type: string | null }> {
  return [...sim.state.tasks.values()].filter((x) => x.entity_type === entityType && x.entity_id === entityId);
}

export function tasksMentioning(sim: KommoSimulator, phone: string): Array<{ id: number; text: string; responsible_user_id: number }> {
  return [...sim.state.tasks.values()].filter((x) => digits(x.text).includes(last10(phone)));
}

/** Wait until the bridge has stored `n` more ended calls and the registrar has nothing left to do. */
export async function waitRegistered(rig: Rig, phone: string, count = 1, timeoutMs = 30_000): Promise<void> {
  await waitFor(`${count} call record(s) for ${phone}`, () => callsFor(rig.sim, phone).length >= count, timeoutMs);
  if (rig.bridge) await waitFor('the registrar idle', () => rig.bridge!.registrar.stats().in_flight === 0 && rig.bridge!.registrar.stats().queued === 0, timeoutMs);
  await sleep(300);
}

// ---------------------------------------------------------------------------
// The bridge as a child process (fault tests)
// ---------------------------------------------------------------------------

export const CLI = path.join(packageRoot(), 'dist', 'bin', 'kommo-asterisk.js');

/** The compiled CLI must exist (npm test builds first; a test run alone must not pass without it). */
export function cliProblem(): string | null {
  return existsSync(CLI) ? null : `${CLI} is missing: run npm run build first`;
}

export interface ChildBridge {
  proc: ChildProcess;
  output(): string;
  /** Resolves once the log says the bridge runs. */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

export function spawnBridge(configPath: string, command = 'bridge'): ChildBridge {
  const proc = spawn(process.execPath, [CLI, command, '-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KA_CONFIG: '' } });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const collect = (b: Buffer): void => {
    out += b.toString('utf8');
    if (out.includes('AMI bridge running')) onReady();
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, output: () => out, ready, exited };
}

/** The first AMI event (seen by the bridge's own AMI client) matching `pred`, from now on. */
export function nextEvent(rig: Rig, pred: (e: Record<string, unknown>) => boolean, what: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const ami = rig.bridge!.ami;
  return new Promise((resolve, reject) => {
    const on = (e: Record<string, unknown>): void => {
      if (!pred(e)) return;
      clearTimeout(timer);
      ami.off('event', on as never);
      resolve(e);
    };
    const timer = setTimeout(() => {
      ami.off('event', on as never);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    ami.on('event', on as never);
  });
}

/** An AMI action through the bridge's client; throws unless Asterisk answers Success. */
export async function amiAction(rig: Rig, fields: { action: string } & Record<string, string>): Promise<void> {
  const res = await rig.bridge!.ami.action(fields);
  if (String(res['response']).toLowerCase() !== 'success') throw new Error(`${fields.action}: ${JSON.stringify(res)}`);
}

export const bridgeEnterOf = (ext: string) => (e: Record<string, unknown>): boolean =>
  e['event'] === 'bridgeenter' && String(e['channel'] ?? '').startsWith(`PJSIP/${ext}-`);

/**
 * A client calls the main number, 101 answers and, `transferAfterMs` after its answer,
 * blind-transfers the call over AMI to 102, which answers.
 */
export function placeBlindTransfer(rig: Rig, phone: string, opts: { durationMs: number; transferAfterMs: number }): Promise<PlacedCall> {
  return placeCall(rig, {
    from: 'trunk', service: '201', caller: phone, durationMs: opts.durationMs,
    uas: [{ at: '101', scenario: 'uas-answer', durationMs: 500 }, { at: '102', scenario: 'uas-answer', durationMs: 1000 }],
    during: async (rig) => {
      const enter = await nextEvent(rig, bridgeEnterOf('101'), 'BridgeEnter of 101');
      await sleep(opts.transferAfterMs);
      await amiAction(rig, { action: 'BlindTransfer', channel: String(enter['channel']), context: 'from-internal', exten: '102' });
    },
  });
}
