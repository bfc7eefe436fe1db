/**
 * Registration benchmark (a script that prints figures, not a test).
 *
 *   npm run build && node dist/bench/registration.js [--n 60] [--burst 300]
 *
 * (a) AMI event stream → parser → tracker: that is bench/tracker.ts (`node --expose-gc
 *     dist/bench/tracker.js`), which replays the recorded fixtures (test/fixtures/ami)
 *     through the wire parser and the reducer; not repeated here.
 * (b) Finished calls → Kommo: the `call_ended` call_full of every recorded fixture
 *     (replayed through the real tracker), given distinct client numbers that are known
 *     contacts in the Kommo simulator, are submitted to the real registrar (journal on
 *     disk, fsync) with the real Kommo client, against the simulator limited like Kommo
 *     to 7 requests/s:
 *       - cold: empty contact cache; - warm: the same numbers again (new calls);
 *       - burst: `--burst` calls with new numbers submitted at once: the client's own
 *         limiter must keep the simulator from answering a single 429.
 *     Printed: Kommo requests per call, calls/s, 429s, requests by route.
 * (d) Autodistribution look-ups (uncached known callers, one a second) through the same
 *     Kommo client — one 7 req/s limiter — first with no backlog, then during the first
 *     seconds of the burst's backlog: the look-up time with and without it. `--reserve N`
 *     sets kommo.realtime_reserve (default 0).
 * (e) The issue's mixed burst: `--burst` ended calls submitted at once, each its own number:
 *     `--warm` share (default 0.8) incoming calls of known callers that autodistribution
 *     looked up when they came in (made before the burst, not counted; in `start` the found
 *     contact goes to registration's cache, bin/compose.ts), `--unknown`
 *     share (default 0.1) numbers no contact or company has (a contact is created), the
 *     rest known contacts that must be searched; the fixture templates make about half of
 *     them missed (a call-back task each). Printed: calls/s, requests per call, 429s, and
 *     the batches (requests and items per create endpoint).
 *
 * `--no-batch` turns `registration.batch` off (every create alone, registrar concurrency 4):
 * the figures before batching.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { normalizeEvent, type AmiEvent } from '../lib/protocol/ami/events.js';
import type { CallFull } from '../lib/domain/call/types.js';
import { buildConfig } from '../lib/platform/config/index.js';
import { createHookRunner } from '../lib/adapters/hooks/loader.js';
import { createKommoClient } from '../lib/adapters/kommo/index.js';
import { ContactCache, createRegistrar, openCallStore } from '../lib/domain/registration/index.js';
import { SEED_IDS, startSimulator, type KommoSimulator } from '../rig/simulator/index.js';
import { createTrackerContext, withNow } from '../lib/domain/tracker/classify.js';
import { initialState, reduce } from '../lib/domain/tracker/reducer.js';
import { createAutodistribution } from '../lib/domain/autodistribution/service.js';
import { normalizeClientPhone } from '../lib/platform/phone.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function fixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'test', 'fixtures', 'ami');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('test/fixtures/ami not found');
}

const U = SEED_IDS.users;
const PBX = { extensions: { '101': U.ivan, '102': U.maria, '103': U.olga }, trunks: ['trunk'], extension_pattern: '^[0-9]{2,5}$', default_user_id: U.ivan };

/** The finished calls of the recorded fixtures (external ones: incoming and outgoing). */
function fixtureCalls(): CallFull[] {
  const dir = fixturesDir();
  const ctx = createTrackerContext(PBX);
  const out: CallFull[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.jsonl')).sort()) {
    let state = initialState();
    let now = 1_700_000_000_000;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const e = normalizeEvent(JSON.parse(line) as Record<string, unknown>) as AmiEvent | undefined;
      if (!e) continue;
      const r = reduce(state, e, withNow(ctx, (now += 1)));
      state = r.state;
      for (const x of r.effects) {
        if (x.type === 'stage' && x.stage === 'call_ended' && (x.call.channel.type === 'incoming' || x.call.channel.type === 'outgoing')) out.push(x.call);
      }
    }
  }
  return out;
}

/** A copy of a fixture call with its own linkedid and client number. */
function variant(template: CallFull, linkedid: string, phone: string): CallFull {
  const call = structuredClone(template);
  call.channel.id = linkedid;
  call.channel.extra = { ...call.channel.extra, linkedid };
  if (call.channel.type === 'incoming') call.channel.from.number = phone;
  else call.channel.to.number = phone;
  return call;
}

const phoneOf = (i: number): string => `7999${String(1_000_000 + i).padStart(7, '0')}`;

interface RunResult {
  calls: number;
  requests: number;
  seconds: number;
  rateLimited: number;
  byRoute: Record<string, number>;
}

async function main(): Promise<void> {
  const n = arg('n', 60);
  const burst = arg('burst', 300);
  const templates = fixtureCalls();
  const lookups = arg('lookups', 15);
  const reserve = process.argv.includes('--reserve') ? Number(process.argv[process.argv.indexOf('--reserve') + 1]) || 0 : 0;
  const batching = !process.argv.includes('--no-batch');
  const share = (name: string, fallback: number): number => {
    const i = process.argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
    return Number.isFinite(v) && v >= 0 && v <= 1 ? v : fallback;
  };
  const warmShare = share('warm', 0.8);
  const unknownShare = Math.min(1 - warmShare, share('unknown', 0.1));
  const totalNumbers = n + 2 * burst + 20 + 2 * lookups;
  const contactId = (i: number): number => 5_000_000 + i;
  const mixBase = n + burst + 20 + 2 * lookups; // (e)'s known numbers: mixBase .. mixBase + burst - 1
  const mixUnknown = (i: number): boolean => i >= Math.round(burst * (1 - unknownShare));
  const contacts = Array.from({ length: totalNumbers }, (_, i) => ({ id: contactId(i), name: `Bench ${i}`, responsible_user_id: U.maria, phones: [`+${phoneOf(i)}`] }))
    .filter((_, i) => !(i >= mixBase && mixUnknown(i - mixBase)));
  const sim: KommoSimulator = await startSimulator({ rateLimitPerSecond: 7, seed: { contacts } });
  const dataDir = await mkdtemp(join(tmpdir(), 'ka-bench-reg-'));
  const logger = pino({ level: 'silent' });
  const config = buildConfig(
    {
      data_dir: dataDir,
      kommo: { base_url: sim.url, long_lived_token: sim.longLivedToken, rate_limit_per_second: 7, realtime_reserve: reserve },
      pbx: PBX,
      ami: { secret: 'unused' },
      registration: { create_contact: true, create_lead: false, tasks: { enabled: true, deadline_minutes: 60, task_type_id: 1 }, batch: { enabled: batching } },
      http: { enabled: false },
      recordings: { enabled: false },
      customizations: { dir: join(dataDir, 'no-customizations') },
    },
    { env: {} },
  );
  const kommo = createKommoClient(config.kommo, {
    logger, dataDir, matchDigits: config.phone.match_digits,
    batchMaxItems: config.registration.batch.enabled ? config.registration.batch.max_items : 1,
    batchLingerMs: config.registration.batch.linger_ms,
  });
  const hooks = createHookRunner({ dir: config.customizations.dir, timeoutMs: 2000, logger });
  const store = await openCallStore({ dataDir, logger });
  // Shared with the autodistribution of (e), as bin/compose.ts shares them in `start`.
  const contactCache = new ContactCache({ matchDigits: config.phone.match_digits });
  const registrar = createRegistrar({ config, kommo, hooks, store, logger, contactCache });
  await registrar.start();

  let seq = 0;
  async function run(numbers: number[], pool: CallFull[] | ((i: number) => CallFull[]) = templates, prepare?: (call: CallFull, i: number) => void): Promise<RunResult> {
    const before = { total: sim.counters.total, rl: sim.counters.rateLimited, routes: { ...sim.counters.byRoute } };
    const t0 = performance.now();
    await Promise.all(numbers.map((i) => {
      const from = typeof pool === 'function' ? pool(i) : pool;
      const call = variant(from[seq % from.length]!, `bench.${++seq}`, phoneOf(i));
      prepare?.(call, i);
      return registrar.submit(call);
    }));
    await registrar.idle();
    const seconds = (performance.now() - t0) / 1000;
    const byRoute: Record<string, number> = {};
    for (const [k, v] of Object.entries(sim.counters.byRoute)) {
      const d = v - (before.routes[k] ?? 0);
      if (d > 0) byRoute[k] = d;
    }
    return { calls: numbers.length, requests: sim.counters.total - before.total, seconds, rateLimited: sim.counters.rateLimited - before.rl, byRoute };
  }

  const print = (label: string, r: RunResult): void => {
    console.log(
      `${label.padEnd(28)} calls ${String(r.calls).padStart(4)}  requests ${String(r.requests).padStart(5)}  ` +
        `req/call ${(r.requests / r.calls).toFixed(2).padStart(5)}  calls/s ${(r.calls / r.seconds).toFixed(2).padStart(6)}  ` +
        `time ${r.seconds.toFixed(1).padStart(6)} s  429s ${r.rateLimited}`,
    );
    console.log(`${''.padEnd(28)} ${Object.entries(r.byRoute).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  };

  const missed = templates.filter((c) => c.result !== 200 || c.is_ivr).length;
  const b = config.registration.batch;
  console.log(`registration benchmark: ${templates.length} fixture calls as templates (${missed} missed → a task each), simulator at 7 req/s, ` +
    (batching ? `batching on (≤ ${b.max_items} items per request), registrar concurrency ${b.concurrency}` : 'batching off, registrar concurrency 4'));
  console.log('(a) parser + tracker over the recorded AMI stream: see `node --expose-gc dist/bench/tracker.js`');
  const ids = Array.from({ length: n }, (_, i) => i);
  print('(b) cold cache', await run(ids));
  print('(b) warm cache (same numbers)', await run(ids));
  // The issue's target is per answered call of a known contact (a missed call adds its task).
  const answered = templates.filter((c) => c.result === 200 && !c.is_ivr);
  const answeredIds = Array.from({ length: 20 }, (_, i) => n + burst + i);
  print('(c) answered, known, cold', await run(answeredIds, answered));
  print('(c) answered, known, warm', await run(answeredIds, answered));
  // (d) look-ups: without a backlog, then while the burst's backlog drains.
  const autodist = createAutodistribution(
    { budgetMs: 30_000, extensions: config.pbx.extensions, positiveTtlMs: 60_000, negativeTtlMs: 60_000, maxEntries: 1000, nameMax: 20, lookupTimeoutMs: 30_000 },
    { kommo, hooks: { run: async (_h: string, _i: unknown, defaults: unknown) => ({ data: defaults }) } as never, normalizePhone: (raw) => normalizeClientPhone(raw), truncateName: (s) => s, logger },
  );
  const lookupRun = async (first: number): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < lookups; i++) {
      const t0 = performance.now();
      const answer = await autodist.handle({ callerNumber: phoneOf(first + i), requestData: {} });
      times.push(performance.now() - t0);
      if (answer.status !== 'found') throw new Error(`look-up ${i}: ${answer.status}`);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - t0))));
    }
    return times;
  };
  const lookupBase = n + burst + 20;
  const quiet = await lookupRun(lookupBase);
  const burstPromise = run(Array.from({ length: burst }, (_, i) => n + i));
  await new Promise((r) => setTimeout(r, 2000)); // the backlog is there
  const busy = await lookupRun(lookupBase + lookups);
  const burstRun = await burstPromise;
  print(`(b) burst of ${burst}, cold`, burstRun);
  const fmt = (xs: number[]): string => {
    const s = [...xs].sort((a, b) => a - b);
    return `p50 ${s[Math.floor(s.length / 2)]!.toFixed(1)} ms, max ${s.at(-1)!.toFixed(1)} ms`;
  };
  console.log(`(d) look-ups, no backlog         ${lookups} uncached callers: ${fmt(quiet)}`);
  console.log(`(d) look-ups during the backlog  ${lookups} uncached callers: ${fmt(busy)} (kommo.realtime_reserve ${reserve}; registration queue ${burst} calls at the start)`);
  autodist.close();
  // (e) the mixed burst.
  const mixIds = Array.from({ length: burst }, (_, i) => mixBase + i);
  const warmUpTo = Math.round(burst * warmShare);
  // The warm calls are incoming calls of known callers: autodistribution looked each one
  // up when it came in (the FastAGI answer, before the call ended) and, as in `start`,
  // handed the contact to registration's cache. Those look-ups are made here, before the
  // burst, and not counted in it.
  const callStart = createAutodistribution(
    { budgetMs: 30_000, extensions: config.pbx.extensions, positiveTtlMs: 600_000, negativeTtlMs: 60_000, maxEntries: 10_000, nameMax: 20, lookupTimeoutMs: 60_000 },
    {
      kommo, hooks: { run: async (_h: string, _i: unknown, defaults: unknown) => ({ data: defaults }) } as never,
      normalizePhone: (raw) => normalizeClientPhone(raw), truncateName: (s) => s, logger,
      onContactFound: (phone, c) => contactCache.set(phone, { id: c.id, name: c.name, lead_ids: c.lead_ids, ...(c.responsible_user_id !== null ? { responsible_user_id: c.responsible_user_id } : {}) }),
    },
  );
  const warmIds = mixIds.slice(0, warmUpTo);
  const lookedUpAt = { total: sim.counters.total, t0: performance.now() };
  for (let k = 0; k < warmIds.length; k += 20) {
    await Promise.all(warmIds.slice(k, k + 20).map((i) => callStart.handle({ callerNumber: phoneOf(i), requestData: {} })));
  }
  callStart.close();
  console.log(`(e) call start: ${warmIds.length} incoming known callers looked up by autodistribution (${sim.counters.total - lookedUpAt.total} requests, ` +
    `${((performance.now() - lookedUpAt.t0) / 1000).toFixed(1)} s), their contacts handed to registration's cache`);
  const incoming = templates.filter((c) => c.channel.type === 'incoming');
  const batchesBefore = kommo.batchStats();
  let mixMissed = 0;
  const mixRun = await run(mixIds, (i) => (i - mixBase < warmUpTo ? incoming : templates), (call) => {
    if (call.result !== 200 || call.is_ivr) mixMissed++;
  });
  const warmN = warmUpTo;
  const unknownN = mixIds.filter((i) => mixUnknown(i - mixBase)).length;
  print(`(e) mixed burst of ${burst}`, mixRun);
  console.log(`${''.padEnd(28)} mix: ${burst} distinct numbers; ${warmN} incoming from known callers found by autodistribution at call start; ` +
    `${burst - warmN - unknownN} known, searched; ${unknownN} unknown (contact created); ${mixMissed} missed (a task each)`);
  const batchesAfter = kommo.batchStats();
  console.log(`${''.padEnd(28)} batched creates: ${Object.entries(batchesAfter).map(([k, v]) => {
    const was = batchesBefore[k as keyof typeof batchesBefore];
    return `${k} ${v.items - was.items} items in ${v.requests - was.requests} requests`;
  }).join(', ')}; largest batch ${Math.max(...Object.values(batchesAfter).map((v) => v.largest))}`);
  const s = registrar.stats();
  console.log(`journal: done ${s.done}, failed ${s.failed}, pending ${s.pending}${s.last_error ? ` (last error ${s.last_error.code}: ${s.last_error.message})` : ""}; simulator 429s in total: ${sim.counters.rateLimited} (target 0)`);
  await registrar.close();
  await hooks.close();
  await kommo.close();
  await sim.close();
  await rm(dataDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
