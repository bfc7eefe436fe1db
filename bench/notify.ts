/**
 * Popup latency benchmark (a script that prints figures, not a test).
 *
 *   npm run build && node dist/bench/notify.js [--calls 40] [--burst 300] [--reserve N] [--latency 100]
 *
 * What runs: the product's own parts as bin/ composes them — the real bridge (tracker,
 * hook 1 through the real registrar's verdict), the popup notifier, the real Kommo
 * client with its one 7 req/s limiter, the registrar with its journal on disk — against
 * the Kommo simulator, limited like Kommo to 7 req/s and answering every request after
 * `--latency` ms (default 100). The AMI side is the recorded inbound call
 * (test/fixtures/ami/inbound-answered.jsonl), replayed into the bridge with fresh ids and
 * a distinct, known caller per call: events up to the DialBegin (the ring), then the
 * answer and hang-up 1.5 s later.
 *
 * What is measured: ring → Kommo request = from the moment the DialBegin event is handed
 * to the bridge to the moment the simulator received `POST /api/v2/events` for that
 * number (one clock, one process). `--calls` calls, one every 600 ms:
 *   (a) with no other Kommo work;
 *   (b) while a backlog of `--burst` finished calls (submitted at once, 2 s before) is
 *       being registered through the same client and limiter.
 * `--reserve N` sets kommo.realtime_reserve (default: the config default).
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { buildCore, buildNotifier, buildRegistration } from '../bin/compose.js';
import { createBridge, type BridgeAmi } from '../lib/domain/bridge/index.js';
import type { CallFull } from '../lib/domain/call/types.js';
import { buildConfig } from '../lib/platform/config/index.js';
import type { PbxConfig } from '../lib/platform/config/types.js';
import { normalizeEvent, type AmiEvent } from '../lib/protocol/ami/events.js';
import { createTrackerContext, withNow } from '../lib/domain/tracker/classify.js';
import { initialState, reduce } from '../lib/domain/tracker/reducer.js';
import { SEED_IDS, startSimulator } from '../rig/simulator/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v >= 0 ? v : fallback;
}

function fixture(name: string): string[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const f = join(dir, 'test', 'fixtures', 'ami', name);
    if (existsSync(f)) return readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '');
    dir = dirname(dir);
  }
  throw new Error(`test/fixtures/ami/${name} not found`);
}

const U = SEED_IDS.users;
const phoneOf = (i: number): string => `7998${String(1_000_000 + i).padStart(7, '0')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The recorded call as call `i`: its own ids, channel names and caller; no Timestamp (the bridge's clock). */
function callEvents(lines: readonly string[], i: number): { ring: AmiEvent[]; rest: AmiEvent[] } {
  const base = String(1_800_000_000 + i);
  const events = lines.map((l) => {
    const text = l.replaceAll('1795504433.', `${base}.`).replaceAll('79991234567', phoneOf(i))
      .replace(/-0000000([0-9a-f])/g, (_m, d: string) => `-${i.toString(16).padStart(7, '0')}${d}`);
    const raw = JSON.parse(text) as Record<string, unknown>;
    delete raw['Timestamp'];
    return normalizeEvent(raw) as AmiEvent;
  }).filter(Boolean);
  const at = events.findIndex((e) => e.event === 'dialbegin');
  return { ring: events.slice(0, at + 1), rest: events.slice(at + 1) };
}

/** The recorded call's `call_ended` call_full, through the real tracker. */
function endedCall(lines: readonly string[], pbx: PbxConfig): CallFull {
  let state = initialState();
  const ctx = createTrackerContext(pbx);
  let now = 1_700_000_000_000;
  for (const l of lines) {
    const e = normalizeEvent(JSON.parse(l) as Record<string, unknown>) as AmiEvent | undefined;
    if (!e) continue;
    const r = reduce(state, e, withNow(ctx, (now += 1)));
    state = r.state;
    for (const x of r.effects) if (x.type === 'stage' && x.stage === 'call_ended') return x.call;
  }
  throw new Error('the fixture has no call_ended');
}

class FakeAmi extends EventEmitter implements BridgeAmi {
  async connect(): Promise<void> { /* connected from the start */ }
  isConnected(): boolean { return true; }
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const p = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  return `n ${s.length}, p50 ${p(0.5).toFixed(0)} ms, p99 ${p(0.99).toFixed(0)} ms, max ${s.at(-1)!.toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const calls = arg('calls', 40);
  const burst = arg('burst', 300);
  const latencyMs = arg('latency', 100);
  const reserveArg = process.argv.includes('--reserve') ? arg('reserve', 0) : undefined;
  const lines = fixture('inbound-answered.jsonl');
  const total = 2 * calls + burst;
  const contacts = Array.from({ length: total }, (_, i) => ({ name: `Bench ${i}`, responsible_user_id: U.maria, phones: [`+${phoneOf(i)}`] }));
  const sim = await startSimulator({ rateLimitPerSecond: 7, latencyMs, seed: { contacts } });
  const dataDir = await mkdtemp(join(tmpdir(), 'ka-bench-notify-'));
  const config = buildConfig({
    data_dir: dataDir,
    kommo: { base_url: sim.url, long_lived_token: sim.longLivedToken, ...(reserveArg === undefined ? {} : { realtime_reserve: reserveArg }) },
    pbx: { extensions: { '101': U.ivan, '102': U.maria, '103': U.olga }, trunks: ['trunk'], extension_pattern: '^[0-9]{2,5}$', default_user_id: U.ivan },
    ami: { secret: 'unused' },
    http: { enabled: false },
    recordings: { enabled: false },
    customizations: { dir: join(dataDir, 'no-customizations') },
  }, { env: {} });
  const core = buildCore(config, pino({ level: 'silent' }));
  const { registrar } = await buildRegistration(core);
  const notifier = buildNotifier(core);
  const ami = new FakeAmi();
  const bridge = createBridge({ config, ami, registrar, notifier, logger: core.logger });
  await registrar.start();
  await bridge.start();

  /** Ring → the simulator's arrival of the popup request, per call. */
  async function ringCalls(first: number): Promise<number[]> {
    const rings = new Map<string, number>();
    const done: Promise<void>[] = [];
    for (let k = 0; k < calls; k++) {
      const i = first + k;
      const { ring, rest } = callEvents(lines, i);
      for (const e of ring.slice(0, -1)) ami.emit('event', e);
      rings.set(phoneOf(i), Date.now());
      ami.emit('event', ring.at(-1)!);
      done.push(sleep(1500).then(() => { for (const e of rest) ami.emit('event', e); }));
      await sleep(600);
    }
    await Promise.all(done);
    await sleep(500);
    const out: number[] = [];
    for (const r of sim.requests) {
      if (r.path !== '/api/v2/events' || r.status !== 202) continue;
      const phone = (r.body as { add: Array<{ phone_number: string }> }).add[0]!.phone_number;
      const ringAt = rings.get(phone);
      if (ringAt !== undefined) out.push(r.at - ringAt);
    }
    if (out.length !== calls) console.log(`  note: ${calls - out.length} of ${calls} popups did not reach Kommo`);
    return out;
  }

  const reserve = config.kommo.realtime_reserve;
  console.log(`popup latency benchmark: simulator at 7 req/s answering in ${latencyMs} ms, kommo.realtime_reserve ${reserve}, notifications.batch_ms ${config.notifications.batch_ms}`);
  const quiet = await ringCalls(0);
  console.log(`(a) no backlog:            ring → Kommo request ${stats(quiet)}`);

  // (b) the same while a registration backlog drains: `burst` finished calls (the same
  // recorded call, reduced by the real tracker) submitted at once to the registrar.
  const template = endedCall(lines, config.pbx as PbxConfig);
  const backlog = Array.from({ length: burst }, (_, j) => {
    const c = structuredClone(template);
    c.channel.id = `backlog.${j}`;
    c.channel.extra = { ...c.channel.extra, linkedid: `backlog.${j}` };
    c.channel.from.number = phoneOf(2 * calls + j);
    return c;
  });
  const submitted = Promise.all(backlog.map((c) => registrar.submit(c)));
  await submitted;
  await sleep(2000);
  const before = registrar.stats();
  const busy = await ringCalls(calls);
  const after = registrar.stats();
  console.log(`(b) during a ${burst}-call registration backlog: ring → Kommo request ${stats(busy)}`);
  console.log(`    registrations meanwhile: ${after.done - before.done} calls done in ${(calls * 0.6 + 2).toFixed(0)} s; still pending ${after.pending}`);
  const n = notifier.stats();
  console.log(`notifier: sent ${n.sent_total}, late ${n.late_total}, failed ${n.failed_total}, dropped ${n.dropped_total}; ring → Kommo's answer p50 ${n.latency_ms.p50} ms, p99 ${n.latency_ms.p99} ms; simulator 429s ${sim.counters.rateLimited}`);
  await bridge.close(); // also closes the registrar, at its next step boundary
  await notifier.close();
  await core.hooks.close();
  await core.kommo.close();
  await sim.close();
  await rm(dataDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
