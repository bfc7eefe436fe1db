/**
 * Call-tracker benchmark (a script, not a test).
 *
 *   npm run build && node --expose-gc dist/bench/tracker.js [--rounds N] [--open N] [--fixtures DIR]
 *   node --expose-gc --import=./node_modules/@tapjs/typescript/dist/esm/import.mjs bench/tracker.ts
 *
 * 1. Throughput: the recorded AMI fixtures (test/fixtures/ami/*.jsonl) are
 *    turned into AMI wire bytes, many distinct copies (uniqueids/linkedids
 *    shifted so every call is new), fed in 64 KiB chunks through our parser,
 *    normalised, and reduced — effects (with their call_full) included. One core.
 * 2. Memory: `--open` calls are left in progress (every event up to the first
 *    Hangup of each copy), then heap per tracked call is measured after a
 *    forced GC; then the rest is fed and the heap after all calls ended is
 *    measured (it should be back to the baseline: state is deleted at call_ended).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AmiParser } from '../lib/protocol/ami/parser.js';
import { normalizeEvent, type AmiEvent } from '../lib/protocol/ami/events.js';
import { createTrackerContext, withNow } from '../lib/domain/tracker/classify.js';
import { initialState, reduce } from '../lib/domain/tracker/reducer.js';
import type { TrackerState } from '../lib/domain/tracker/types.js';

type Raw = Record<string, string | string[]>;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function findFixtures(): string {
  const given = arg('fixtures', '');
  if (given) return resolve(given);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'test', 'fixtures', 'ami');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('test/fixtures/ami not found; pass --fixtures DIR');
}

const ID_KEY = /(uniqueid|linkedid)$/i;

function shiftId(id: string, copy: number): string {
  const m = /^(\d+)\.(\d+)$/.exec(id);
  return m ? `${Number(m[1]) + copy * 100_000}.${m[2]}` : id && `${id}~${copy}`;
}

function rewrite(msg: Raw, copy: number): Raw {
  const out: Raw = {};
  for (const [k, v] of Object.entries(msg)) out[k] = typeof v === 'string' && ID_KEY.test(k) ? shiftId(v, copy) : v;
  return out;
}

function wire(msgs: readonly Raw[]): string {
  let s = '';
  for (const m of msgs) {
    for (const [k, v] of Object.entries(m)) for (const one of Array.isArray(v) ? v : [v]) s += `${k}: ${one}\r\n`;
    s += '\r\n';
  }
  return s;
}

const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

const fixturesDir = findFixtures();
const scenarios = readdirSync(fixturesDir)
  .filter((f) => f.endsWith('.jsonl'))
  .sort()
  .map((f) =>
    readFileSync(join(fixturesDir, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Raw),
  );
const eventsPerRound = scenarios.reduce((n, s) => n + s.length, 0);
const ctx = createTrackerContext({
  extensions: { '101': 1001, '102': 1002, '103': 1003 },
  trunks: ['trunk'],
  extension_pattern: '^[0-9]{2,5}$',
});

// --- 1. throughput ----------------------------------------------------------
const rounds = Number(arg('rounds', '400'));
const distinct = Math.min(rounds, 16);
// Each prebuilt round holds every scenario once, with its own ids. Rounds are
// fed one after another and every call of a round ends inside it, so a round's
// ids can be reused once it is through.
const roundBufs = Array.from({ length: distinct }, (_, r) =>
  Buffer.from(wire(scenarios.flatMap((msgs, i) => msgs.map((m) => rewrite(m, r * 100 + i + 1)))), 'utf8'),
);

let state: TrackerState = initialState();
let events = 0;
let effects = 0;
let callsEnded = 0;
let now = 1_700_000_000_000;
const parser = new AmiParser({
  onMessage: (raw) => {
    const e = normalizeEvent(raw);
    if (!e) return;
    events++;
    const r = reduce(state, e, withNow(ctx, ++now));
    state = r.state;
    effects += r.effects.length;
    for (const x of r.effects) if (x.type === 'stage' && x.stage === 'call_ended') callsEnded++;
  },
});
const CHUNK = 64 * 1024;
function feed(buf: Buffer): void {
  for (let i = 0; i < buf.length; i += CHUNK) parser.push(buf.subarray(i, i + CHUNK));
}

feed(roundBufs[0] as Buffer); // warm-up
events = effects = callsEnded = 0;
const t0 = process.hrtime.bigint();
for (let r = 0; r < rounds; r++) feed(roundBufs[r % distinct] as Buffer);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const bytes = roundBufs.reduce((n, b) => n + b.length, 0) / distinct;

// --- 2. memory per tracked call ------------------------------------------------
const open = Number(arg('open', '10000'));
const split = scenarios.map((msgs) => {
  const cut = msgs.findIndex((m) => m['Event'] === 'Hangup');
  return cut < 0 ? msgs.length : cut;
});
const normalizedCopy = (s: number, copy: number, from: number, to: number): AmiEvent[] => {
  const out: AmiEvent[] = [];
  for (const m of (scenarios[s] as Raw[]).slice(from, to)) {
    const e = normalizeEvent(rewrite(m, copy));
    if (e) out.push(e);
  }
  return out;
};
state = initialState();
const base = heap();
for (let c = 0; c < open; c++) {
  const s = c % scenarios.length;
  for (const e of normalizedCopy(s, 1000 + c, 0, split[s] as number)) state = reduce(state, e, withNow(ctx, ++now)).state;
}
const tracked = state.calls.size;
const withOpen = heap();
let ended = 0;
for (let c = 0; c < open; c++) {
  const s = c % scenarios.length;
  for (const e of normalizedCopy(s, 1000 + c, split[s] as number, Infinity)) {
    const r = reduce(state, e, withNow(ctx, ++now));
    state = r.state;
    for (const x of r.effects) if (x.type === 'stage' && x.stage === 'call_ended') ended++;
  }
}
const afterEnd = heap();

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`fixtures: ${scenarios.length} recorded scenarios, ${eventsPerRound} AMI messages per round (${fmt(bytes)} bytes)`);
console.log(`throughput: ${fmt(events)} events in ${seconds.toFixed(2)} s = ${fmt(events / seconds)} events/s ` +
  `(${fmt((bytes * rounds) / seconds / 1e6)} MB/s; parser + normalise + reducer + ${fmt(effects)} effects, ${fmt(callsEnded)} calls ended)`);
console.log(`memory: ${fmt(tracked)} calls in progress → ${fmt((withOpen - base) / Math.max(1, tracked))} heap bytes per tracked call` +
  `${gc ? '' : ' (run with --expose-gc for exact figures)'}`);
console.log(`after all ${fmt(ended)} calls ended: heap ${fmt(afterEnd - base)} bytes above the baseline; calls tracked ${state.calls.size}, index ${state.index.size}`);
