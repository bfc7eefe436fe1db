// Loads AMI fixtures (one message per line, Asterisk's key case) and replays
// them through the reducer. Shared by the table test and the benchmark.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeEvent, type AmiEvent } from '../../lib/protocol/ami/events.js';
import { createTrackerContext, withNow, type TrackerContext } from '../../lib/domain/tracker/classify.js';
import { initialState, reduce } from '../../lib/domain/tracker/reducer.js';
import type { StageEffect, TrackerEffect, TrackerState } from '../../lib/domain/tracker/types.js';

export const RECORDED_DIR = new URL('../fixtures/ami/', import.meta.url).pathname;

/** The extension map and trunks of the e2e Asterisk (rig/sandbox/asterisk-config.ts). */
export function testContext(): TrackerContext {
  return createTrackerContext(
    { extensions: { '101': 1001, '102': 1002, '103': 1003 }, trunks: ['trunk'], extension_pattern: '^[0-9]{2,5}$' },
    { formatTime: (ms) => (ms ? new Date(ms).toISOString().slice(0, 19).replace('T', ' ') : '0001-01-01 00:00:00') },
  );
}

export function parseJsonl(text: string): AmiEvent[] {
  const out: AmiEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const e = normalizeEvent(JSON.parse(line) as Record<string, unknown>);
    if (e) out.push(e);
  }
  return out;
}

export function recordedScenarios(): string[] {
  if (!existsSync(RECORDED_DIR)) return [];
  return readdirSync(RECORDED_DIR)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => f.replace(/\.jsonl$/, ''))
    .sort();
}

export function loadRecorded(name: string): AmiEvent[] {
  return parseJsonl(readFileSync(join(RECORDED_DIR, `${name}.jsonl`), 'utf8'));
}

export interface Replay {
  state: TrackerState;
  effects: TrackerEffect[];
  stages: StageEffect[];
}

export function replay(events: readonly AmiEvent[], ctx: TrackerContext = testContext(), from = initialState()): Replay {
  let state = from;
  const effects: TrackerEffect[] = [];
  let now = 1_700_000_000_000;
  for (const e of events) {
    now += 1;
    const r = reduce(state, e, withNow(ctx, now));
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects, stages: effects.filter((x): x is StageEffect => x.type === 'stage') };
}

export const HAND_DIR = new URL('./hand/', import.meta.url).pathname;

export function loadHand(name: string): AmiEvent[] {
  return parseJsonl(readFileSync(join(HAND_DIR, `${name}.jsonl`), 'utf8'));
}

/** The recorded fixture when there is one, else the hand-written sequence. */
export function loadScenario(name: string): { events: AmiEvent[]; source: 'recorded' | 'hand-written' } {
  if (existsSync(join(RECORDED_DIR, `${name}.jsonl`))) return { events: loadRecorded(name), source: 'recorded' };
  return { events: loadHand(name), source: 'hand-written' };
}

const ID_KEY = /(uniqueid|linkedid)$/;

/** Shift every uniqueid/linkedid so a copy of a call is distinct (`<epoch>.<seq>` and `ka-<epoch ms>-<hex>` keep their order). */
export function shiftId(id: string, copy: number): string {
  const m = /^(\d+)\.(\d+)$/.exec(id);
  if (m) return `${Number(m[1]) + copy * 100_000}.${m[2]}`;
  const ka = /^ka-(\d+)-(.+)$/.exec(id);
  if (ka) return `ka-${Number(ka[1]) + copy * 100_000_000}-${ka[2]}`;
  return id && `${id}~${copy}`;
}

export function rewriteIds(events: readonly AmiEvent[], copy: number): AmiEvent[] {
  return events.map((e) => {
    const out: AmiEvent = { ...e };
    for (const k of Object.keys(out)) {
      const v = out[k];
      if (typeof v === 'string' && ID_KEY.test(k)) out[k] = shiftId(v, copy);
    }
    return out;
  });
}
