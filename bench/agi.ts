/**
 * FastAGI autodistribution benchmark — prints figures, it is not a test.
 *
 *   npm run build && node dist/bench/agi.js [--quick]
 *
 * The product runs in the main thread exactly as `bin/` composes it (buildCore →
 * startAgi), logging at `info` to /dev/null. The environment — the Kommo simulator and
 * the load generator playing Asterisk's side of each FastAGI session — runs in a worker
 * thread, so it does not steal the product's event loop. See bench/README.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { pino } from 'pino';
import { buildCore, startAgi, type AgiRuntime, type Core } from '../bin/compose.js';
import { buildConfig } from '../lib/platform/config/index.js';
import { createKommoClient, createRateLimiter } from '../lib/adapters/kommo/index.js';
import { createLogger } from '../lib/platform/log.js';
import { SEED_IDS, startSimulator, type KommoSimulator, type SeedParty } from '../rig/simulator/index.js';
import { runAgiSession } from './agi-client.js';

const QUICK = process.argv.includes('--quick');
/** Requests per second allowed by both the simulator and the client for the uncached run. */
const HIGH_RATE = 1000;
const SIM_LATENCY_MS = 100;
const CONCURRENCY = 50;
const OPEN_LOOP_RATE = 1000;
/**
 * New (uncached) callers per second in (b). 100/s is already ~20× what Kommo's 7 req/s
 * could serve; much more only measures the simulator, whose phone search scans every
 * contact (~1 ms a request with 1,100 contacts) on the environment thread.
 */
const UNCACHED_RATE = 100;
const N = {
  warmup: QUICK ? 200 : 1000,
  cachedClosed: QUICK ? 2000 : 10_000,
  cachedOpen: QUICK ? 1000 : 5000,
  uncached: QUICK ? 500 : 2000,
  hanging: QUICK ? 100 : 300,
  spinning: 200,
};
const U = SEED_IDS.users;
const KNOWN_NAME = 'Константин Константинопольский';

// ---------------------------------------------------------------------------
// Messages between the product (main thread) and the environment (worker)
// ---------------------------------------------------------------------------

interface LoadSpec {
  port: number;
  numbers: string[];
  /** Closed loop: this many sessions in flight at all times. */
  concurrency?: number;
  /** Open loop: start sessions at this rate whatever the answers do. */
  ratePerSecond?: number;
  fault?: 'hang';
}

interface LoadResult {
  answerMs: number[];
  statuses: Record<string, number>;
  /** Per number, in `numbers` order: the status seen and the answer time (-1: none). */
  statusOf: string[];
  answerOf: number[];
  failures: number;
  firstFailure: string;
  wallMs: number;
  /** API requests the simulator received during the run. */
  kommoRequests: number;
}

type Command =
  | { cmd: 'startSim'; latencyMs: number; contacts: SeedParty[] }
  | { cmd: 'run'; spec: LoadSpec }
  | { cmd: 'closeSim' };

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

// ---------------------------------------------------------------------------
// Worker: the Kommo simulator and the FastAGI load generator
// ---------------------------------------------------------------------------

async function environment(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('no parent port');
  let sim: KommoSimulator | undefined;
  const apiCount = (): number => sim?.counters.total ?? 0;

  async function run(spec: LoadSpec): Promise<LoadResult> {
    if (spec.fault === 'hang') sim?.faults.hang();
    const n = spec.numbers.length;
    const answerMs: number[] = [];
    const statusOf: string[] = new Array<string>(n).fill('');
    const answerOf: number[] = new Array<number>(n).fill(-1);
    const statuses: Record<string, number> = {};
    let failures = 0;
    let firstFailure = '';
    const before = apiCount();
    const one = async (i: number): Promise<void> => {
      try {
        const res = await runAgiSession({ host: '127.0.0.1', port: spec.port, callerId: spec.numbers[i] ?? '', uniqueId: `1700000000.${i}`, timeoutMs: 15_000 });
        const status = res.variables.KOMMO_STATUS ?? '(none)';
        statusOf[i] = status;
        statuses[status] = (statuses[status] ?? 0) + 1;
        answerOf[i] = res.answerMs;
        if (res.answerMs >= 0) answerMs.push(res.answerMs);
        else {
          failures++;
          firstFailure ||= `no KOMMO_STATUS (commands: ${res.commands.join(' | ')})`;
        }
      } catch (err) {
        failures++;
        firstFailure ||= err instanceof Error ? err.message : String(err);
      }
    };
    const started = performance.now();
    if (spec.ratePerSecond) {
      const rate = spec.ratePerSecond;
      const pending = new Set<Promise<void>>();
      let next = 0;
      await new Promise<void>((resolve) => {
        const tick = (): void => {
          const due = Math.min(n, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
          while (next < due) {
            const p = one(next++);
            pending.add(p);
            void p.finally(() => pending.delete(p));
          }
          if (next < n) setTimeout(tick, 1);
          else resolve();
        };
        tick();
      });
      await Promise.all(pending);
    } else {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < n) await one(next++);
      };
      await Promise.all(Array.from({ length: Math.min(spec.concurrency ?? 1, n) }, lane));
    }
    const wallMs = performance.now() - started;
    if (spec.fault === 'hang') sim?.faults.clear();
    return { answerMs, statuses, statusOf, answerOf, failures, firstFailure, wallMs, kommoRequests: apiCount() - before };
  }

  port.on('message', (msg: { id: number } & Command) => {
    const reply = (r: Reply): void => port.postMessage(r);
    (async (): Promise<unknown> => {
      switch (msg.cmd) {
        case 'startSim': {
          await sim?.close();
          sim = await startSimulator({ latencyMs: msg.latencyMs, rateLimitPerSecond: HIGH_RATE, maxLogEntries: 1000 });
          sim.seed({ contacts: msg.contacts });
          return { url: sim.url, token: sim.longLivedToken };
        }
        case 'run':
          return run(msg.spec);
        case 'closeSim':
          await sim?.close();
          sim = undefined;
          return null;
      }
    })().then(
      (result) => reply({ id: msg.id, ok: true, result }),
      (err: unknown) => reply({ id: msg.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
}

// ---------------------------------------------------------------------------
// Main thread: the product, the phases, the table
// ---------------------------------------------------------------------------

class Env {
  readonly #worker = new Worker(new URL(import.meta.url));
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #seq = 0;

  constructor() {
    this.#worker.on('message', (r: Reply) => {
      const w = this.#waiting.get(r.id);
      this.#waiting.delete(r.id);
      if (!w) return;
      if (r.ok) w.resolve(r.result);
      else w.reject(new Error(`environment: ${r.error}`));
    });
    this.#worker.on('error', (err) => {
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
    });
  }

  send<T>(command: Command): Promise<T> {
    const id = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, ...command });
    });
  }

  startSim(latencyMs: number, contacts: SeedParty[]): Promise<{ url: string; token: string }> {
    return this.send({ cmd: 'startSim', latencyMs, contacts });
  }

  run(spec: LoadSpec): Promise<LoadResult> {
    return this.send({ cmd: 'run', spec });
  }

  async close(): Promise<void> {
    await this.send({ cmd: 'closeSim' });
    await this.#worker.terminate();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface Product {
  runtime: AgiRuntime;
  core: Core;
  port: number;
  close(): Promise<void>;
}

/** The product as bin/ composes it, with the Kommo client's own limit raised to HIGH_RATE. */
async function startProduct(sim: { url: string; token: string }, hooks: Record<string, string> = {}): Promise<Product> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ka-bench-data-'));
  const hooksDir = mkdtempSync(path.join(os.tmpdir(), 'ka-bench-hooks-'));
  for (const [name, source] of Object.entries(hooks)) writeFileSync(path.join(hooksDir, name), source);
  const port = await freePort();
  const config = buildConfig(
    {
      data_dir: dataDir,
      kommo: { base_url: sim.url, long_lived_token: sim.token },
      pbx: { extensions: { '101': U.ivan, '102': U.maria } },
      ami: { secret: 'bench-not-used' },
      http: { enabled: false },
      agi: { host: '127.0.0.1', port },
      customizations: { dir: hooksDir },
    },
    { env: {} },
  );
  const logger = createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: true }) });
  const built = buildCore(config, logger);
  // config caps kommo.rate_limit_per_second at 100 (Kommo allows 7); the benchmark
  // injects a HIGH_RATE limiter so the uncached run measures latency, not the limit.
  await built.kommo.destroy();
  const kommo = createKommoClient(config.kommo, {
    logger: logger.child({ component: 'kommo' }),
    dataDir,
    matchDigits: config.phone.match_digits,
    limiter: createRateLimiter({ limit: HIGH_RATE }),
  });
  const core: Core = { ...built, kommo };
  const runtime = await startAgi(core);
  await runtime.autodistribution.refreshUsers();
  return {
    runtime,
    core,
    port,
    async close() {
      await runtime.close();
      await kommo.destroy();
      await core.hooks.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(hooksDir, { recursive: true, force: true });
    },
  };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

interface Row {
  scenario: string;
  sessions: number;
  perSecond: number | undefined;
  p50: number;
  p99: number;
  max: number;
  target: string;
  pass: boolean | undefined;
  note: string;
}

function row(scenario: string, r: LoadResult, target: string, pass: ((s: { p50: number; p99: number; max: number; perSecond: number }) => boolean) | undefined, opts: { samples?: number[]; throughput?: boolean; note?: string } = {}): Row {
  const sorted = [...(opts.samples ?? r.answerMs)].sort((a, b) => a - b);
  const s = { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? NaN, perSecond: (r.answerMs.length / r.wallMs) * 1000 };
  const failed = r.failures > 0;
  return {
    scenario,
    sessions: sorted.length,
    ...s,
    perSecond: opts.throughput === false ? undefined : s.perSecond,
    target,
    pass: pass ? !failed && pass(s) : undefined,
    note: [opts.note ?? '', failed ? `${r.failures} failed: ${r.firstFailure}` : ''].filter(Boolean).join('; '),
  };
}

function printTable(rows: Row[]): void {
  const f = (v: number | undefined, d = 1): string => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
  const head = ['scenario', 'sessions', 'sess/s', 'p50 ms', 'p99 ms', 'max ms', 'target', 'result'];
  const body = rows.map((r) => [r.scenario, String(r.sessions), f(r.perSecond, 0), f(r.p50, 2), f(r.p99, 2), f(r.max, 1), r.target, r.pass === undefined ? 'info' : r.pass ? 'PASS' : 'MISS']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 1 && i <= 5 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  const notes = rows.filter((r) => r.note);
  if (notes.length) {
    console.log('');
    for (const r of notes) console.log(`  ${r.scenario.trim()}: ${r.note}`);
  }
}

const phone = (block: number, i: number): string => `7${block}${String(i).padStart(7, '0')}`;

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0] ?? 0;
  const env = new Env();
  const rows: Row[] = [];
  const log = (msg: string): void => console.error(`[bench] ${msg}`);

  // (a) a cached caller ----------------------------------------------------
  const known = phone(990, 1234567);
  let sim = await env.startSim(0, [{ name: KNOWN_NAME, phones: [`+${known}`], responsible_user_id: U.maria }]);
  let product = await startProduct(sim);
  const budgetMs = product.core.config.agi.budget_ms;
  log(`(a) warm-up: ${N.warmup} sessions`);
  const warm = await env.run({ port: product.port, numbers: Array<string>(N.warmup).fill(known), concurrency: CONCURRENCY });
  if (warm.statuses.found !== N.warmup) throw new Error(`warm-up: expected found, got ${JSON.stringify(warm.statuses)}`);
  log(`(a) closed loop: ${N.cachedClosed} sessions, concurrency ${CONCURRENCY}`);
  const closed = await env.run({ port: product.port, numbers: Array<string>(N.cachedClosed).fill(known), concurrency: CONCURRENCY });
  rows.push(row(`(a) cached, closed loop c=${CONCURRENCY}`, closed, '>= 1000 sess/s', (s) => s.perSecond >= 1000 && closed.kommoRequests === 0, {
    note: `statuses ${JSON.stringify(closed.statuses)}, Kommo requests ${closed.kommoRequests}; latency here includes queueing: ${CONCURRENCY} in flight / throughput`,
  }));
  log(`(a) open loop: ${N.cachedOpen} sessions at ${OPEN_LOOP_RATE}/s`);
  const open = await env.run({ port: product.port, numbers: Array<string>(N.cachedOpen).fill(known), ratePerSecond: OPEN_LOOP_RATE });
  rows.push(row(`(a) cached, open loop ${OPEN_LOOP_RATE}/s`, open, 'p99 < 5 ms', (s) => s.p99 < 5 && open.kommoRequests === 0, {
    note: `statuses ${JSON.stringify(open.statuses)}, Kommo requests ${open.kommoRequests}`,
  }));
  await product.close();

  // (b) uncached callers, half of them known, Kommo answering in 100 ms -----
  // Numbers 0..warm-1 warm up connections and JIT; the measured run uses the rest.
  const warmCount = Math.min(200, N.warmup);
  const allNumbers = Array.from({ length: warmCount + N.uncached }, (_, i) => phone(991, i));
  const uncached = allNumbers.slice(warmCount);
  const contacts: SeedParty[] = allNumbers
    .filter((_, i) => i % 2 === 0)
    .map((n, i) => ({ name: `Client ${i}`, phones: [`+${n}`], responsible_user_id: i % 2 === 0 ? U.ivan : U.maria }));
  sim = await env.startSim(SIM_LATENCY_MS, contacts);
  product = await startProduct(sim);
  log(`(b) warm-up: ${warmCount} other distinct numbers`);
  await env.run({ port: product.port, numbers: allNumbers.slice(0, warmCount), ratePerSecond: UNCACHED_RATE });
  log(`(b) uncached: ${N.uncached} distinct numbers (half known), simulator latency ${SIM_LATENCY_MS} ms, ${UNCACHED_RATE} new callers/s`);
  const unc = await env.run({ port: product.port, numbers: uncached, ratePerSecond: UNCACHED_RATE });
  const target = SIM_LATENCY_MS + 20;
  const isKnown = (i: number): boolean => (i + warmCount) % 2 === 0;
  const routedRight = uncached.every((_, i) => unc.statusOf[i] === (isKnown(i) ? 'found' : 'not_found'));
  const split = (known: boolean): number[] => unc.answerOf.filter((ms, i) => ms >= 0 && isKnown(i) === known);
  rows.push(row(`(b) uncached, sim ${SIM_LATENCY_MS} ms, open loop ${UNCACHED_RATE}/s`, unc, `p99 < ${target} ms`, (s) => s.p99 < target && routedRight, {
    note: `statuses ${JSON.stringify(unc.statuses)}${routedRight ? ' (known → found, unknown → not_found)' : ' (WRONG statuses)'}, Kommo requests ${unc.kommoRequests} (${(unc.kommoRequests / N.uncached).toFixed(2)}/session, ${((unc.kommoRequests / unc.wallMs) * 1000).toFixed(0)} req/s)`,
  }));
  const p99Of = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 0.99);
  const overhead = (xs: number[], searches: number): string => `p99 minus ${searches} × ${SIM_LATENCY_MS} ms of Kommo time = ${(p99Of(xs) - searches * SIM_LATENCY_MS).toFixed(1)} ms`;
  rows.push(row('    of which known (contact found)', unc, `p99 < ${target} ms`, (s) => s.p99 < target, {
    samples: split(true), throughput: false, note: `contacts and companies searched in parallel: 1 round trip; ${overhead(split(true), 1)}`,
  }));
  rows.push(row('    of which unknown (not found)', unc, `p99 < ${target} ms`, (s) => s.p99 < target, {
    samples: split(false), throughput: false,
    note: `contacts and companies searched in parallel: 1 round trip; ${overhead(split(false), 1)}`,
  }));
  await product.close();

  // (c) Kommo hanging ----------------------------------------------------
  sim = await env.startSim(0, []);
  product = await startProduct(sim);
  const hangingNumbers = Array.from({ length: N.hanging }, (_, i) => phone(992, i));
  log(`(c) Kommo hanging: ${N.hanging} distinct numbers, concurrency ${CONCURRENCY}, budget ${budgetMs} ms`);
  const hang = await env.run({ port: product.port, numbers: hangingNumbers, concurrency: CONCURRENCY, fault: 'hang' });
  const allTimeout = hang.statuses.timeout === N.hanging;
  rows.push(row(`(c) Kommo hanging, budget ${budgetMs} ms`, hang, `max <= ${budgetMs + 50} ms`, (s) => s.max <= budgetMs + 50 && allTimeout, {
    throughput: false,
    note: `statuses ${JSON.stringify(hang.statuses)}${allTimeout ? ' (every answer a fallback)' : ''}`,
  }));
  await product.close();

  // (d) a customization that spins: hook 9, then hook 3 -------------------
  // Every session in flight at once, the caller known and Kommo answering at once: only
  // the hook stands between the caller and the answer, and it never gives its thread back.
  for (const [label, file] of [['hook 9 (process_autodistribution)', 'process_autodistribution.mjs'], ['hook 3 (process_client_phone)', 'process_client_phone.mjs']] as const) {
    sim = await env.startSim(0, [{ name: KNOWN_NAME, phones: [`+${known}`], responsible_user_id: U.maria }]);
    product = await startProduct(sim, { [file]: 'export default () => { while (true) {} };' });
    log(`(d) ${label} spins: ${N.spinning} sessions at once, budget ${budgetMs} ms`);
    const spin = await env.run({ port: product.port, numbers: Array<string>(N.spinning).fill(known), concurrency: N.spinning });
    const answered = spin.answerMs.length;
    const workers = product.core.hooks.workers();
    rows.push(row(`(d) ${label} spins, ${N.spinning} at once`, spin, `max <= ${budgetMs + 50} ms`, (s) => s.max <= budgetMs + 50 && answered === N.spinning, {
      throughput: false,
      note: `statuses ${JSON.stringify(spin.statuses)}, ${answered} of ${N.spinning} answered; hook workers replaced so far ${workers.replaced}`,
    }));
    await product.close();
  }
  await env.close();

  console.log('');
  console.log(`FastAGI autodistribution benchmark — node ${process.version}, ${os.cpus().length} CPU (${os.cpus()[0]?.model ?? '?'})${QUICK ? ', --quick' : ''}`);
  console.log(`added latency = AGI connect → KOMMO_STATUS set (bench/agi-client.ts answerMs); product logs at info to /dev/null;`);
  console.log(`rate limits: simulator ${HIGH_RATE} req/s and Kommo client ${HIGH_RATE} req/s (injected limiter; Kommo itself allows 7)`);
  const loadAfter = os.loadavg()[0] ?? 0;
  const busy = Math.max(loadBefore, loadAfter) > os.cpus().length * 0.5;
  console.log(`load average (1 min) before ${loadBefore.toFixed(2)}, after ${loadAfter.toFixed(2)}${busy ? ' — the machine was busy: tail latencies are inflated by other processes' : ''}`);
  console.log('');
  printTable(rows);
  const missed = rows.filter((r) => r.pass === false).length;
  console.log('');
  console.log(missed === 0 ? 'all targets met' : `${missed} target(s) missed`);
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  void environment();
}
