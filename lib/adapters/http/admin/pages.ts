/** Each page's data, gathered from the deps, and its rendering. */
import type { CallRecord } from '../../../domain/registration/types.js';
import type { AdminDeps } from './deps.js';
import { html, type Html } from './html.js';
import { chart, healthFragment, type HealthData } from './views/health.js';
import { convExtension } from './views/format.js';
import { settingsPage } from './views/settings.js';

export const HOUR = 3600_000;

/** FastAGI answers by status, sampled every minute, so "the last hour" is a difference of two samples. */
export class AgiWindow {
  private samples: Array<{ at: number; answers: Record<string, number> }> = [];
  constructor(private readonly windowMs = HOUR) {}

  sample(at: number, answers: Record<string, number>): void {
    this.samples.push({ at, answers: { ...answers } });
    // Keep the newest sample older than the window (the baseline) and everything after it.
    while (this.samples.length > 1 && (this.samples[1] as { at: number }).at <= at - this.windowMs) this.samples.shift();
  }

  /** Answers since the baseline, and how long that covers. */
  lastWindow(at: number, current: Record<string, number>): { answers: Record<string, number>; spanMs: number } {
    const base = this.samples[0];
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(current)) {
      const d = v - (base?.answers[k] ?? 0);
      if (d > 0) out[k] = d;
    }
    return { answers: out, spanMs: Math.min(this.windowMs, base ? at - base.at : 0) || this.windowMs };
  }
}

export function perHour(starts: number[], now: number): Array<{ hourStart: number; count: number }> {
  const top = new Date(now);
  top.setMinutes(0, 0, 0);
  const first = top.getTime() - 23 * HOUR;
  const buckets = Array.from({ length: 24 }, (_, i) => ({ hourStart: first + i * HOUR, count: 0 }));
  for (const started of starts) {
    const i = Math.floor((started - first) / HOUR);
    if (i >= 0 && i < 24) (buckets[i] as { count: number }).count++;
  }
  return buckets;
}

export async function healthData(deps: AdminDeps, agi: AgiWindow, now: number): Promise<HealthData> {
  const [snapshot, token] = await Promise.all([deps.status(), deps.token()]);
  const w = agi.lastWindow(now, snapshot.agi.answers);
  return { snapshot, token, agiLastHour: w.answers, agiWindowMs: w.spanMs, now };
}

export async function healthPage(deps: AdminDeps, agi: AgiWindow, now: number): Promise<Html> {
  const data = await healthData(deps, agi, now);
  const starts = deps.journal.startTimes(now - 24 * HOUR, now + 60_000);
  return html`<div id="health" data-poll="/admin?frag=1" data-every="3000">${healthFragment(data)}</div>
<h2>Calls per hour (24 h)</h2>${chart(perHour(starts, now))}`;
}

/** Extensions that rang today (a conversation on them) and are missing from the map. */
export function unmappedToday(records: CallRecord[], extensions: Readonly<Record<string, number>>, isExtension: (s: string) => boolean): Array<{ ext: string; calls: number }> {
  const counts = new Map<string, number>();
  for (const r of records) {
    const seen = new Set<string>();
    for (const c of Object.values(r.call.conversations ?? {})) {
      const ext = convExtension(c);
      if (ext && isExtension(ext) && !(ext in extensions)) seen.add(ext);
    }
    for (const e of seen) counts.set(e, (counts.get(e) ?? 0) + 1);
  }
  return [...counts].map(([ext, calls]) => ({ ext, calls })).sort((a, b) => b.calls - a.calls);
}

export async function settings(deps: AdminDeps, now: number, isExtension: (s: string) => boolean): Promise<Html> {
  const start = new Date(now);
  start.setHours(0, 0, 0, 0);
  const [users, hooks, records] = await Promise.all([
    deps.kommoUsers().catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) })),
    deps.hooks(),
    deps.journal.listByPeriod(start.getTime(), now + 60_000),
  ]);
  return settingsPage({
    extensions: deps.extensions,
    users,
    unmappedToday: unmappedToday(records, deps.extensions, isExtension),
    hooks,
    configJson: JSON.stringify(deps.config, null, 2),
  });
}
