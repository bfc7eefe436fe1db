/** Health: AMI, Kommo and its token, FastAGI answers in the last hour, the queue, the last errors, calls per hour. */
import type { StatusSnapshot } from '../../status.js';
import { overallStatus } from '../../status.js';
import type { TokenInfo } from '../deps.js';
import { html, type Html } from '../html.js';
import { ago, when } from './format.js';

export interface HealthData {
  snapshot: StatusSnapshot;
  token: TokenInfo;
  /** FastAGI answers by status over the last hour (or since start when younger). */
  agiLastHour: Record<string, number>;
  agiWindowMs: number;
  now: number;
}

const yes = (ok: boolean, good: string, bad: string): Html => (ok ? html`<span class="ok">${good}</span>` : html`<span class="bad">${bad}</span>`);

export function healthFragment(d: HealthData): Html {
  const s = d.snapshot;
  const overall = overallStatus(s, d.now);
  const token =
    d.token.kind === 'oauth'
      ? html`OAuth; refresh token last rotated <strong>${d.token.rotatedAt ? `${when(d.token.rotatedAt)} (${ago(d.token.rotatedAt, d.now)})` : 'never'}</strong>${d.token.expiresAt ? html`; access token expires ${when(d.token.expiresAt)}` : ''}${d.token.problem ? html` <span class="bad">${d.token.problem}</span>` : ''}`
      : html`long-lived token`;
  const answers = Object.entries(d.agiLastHour).sort(([a], [b]) => a.localeCompare(b));
  return html`<p id="overall" class="${overall.app === 'Ok' ? 'ok' : overall.app === 'Warning' ? 'warn' : 'bad'}"><strong>${overall.app}</strong>${overall.reasons.length ? html`: ${overall.reasons.join('; ')}` : ''}</p>
<div class="cards">
<div class="card" id="h-ami"><h2>AMI</h2>${yes(s.ami.connected, 'connected', 'not connected')}${s.ami.since ? html` since ${when(Date.parse(s.ami.since))}` : ''}</div>
<div class="card" id="h-kommo"><h2>Kommo</h2>${yes(s.kommo.reachable, 'reachable', 'not reachable')}${s.kommo.authorized === false ? html` <span class="bad">token refused</span>` : ''}<br><small>${token}</small><br><small>${s.kommo.requests_total} requests, ${s.kommo.rate_limited_total} rate-limited, ${Math.round(s.kommo.rate_used * 100)}% of the rate used</small></div>
<div class="card" id="h-agi"><h2>FastAGI, last ${Math.max(1, Math.round(d.agiWindowMs / 60_000))} min</h2>${answers.length ? html`<table>${answers.map(([k, v]) => html`<tr><td>${k}</td><td>${v}</td></tr>`)}</table>` : html`no answers`}</div>
<div class="card" id="h-queue"><h2>Registration</h2>pending <strong id="q-pending">${s.registration.pending}</strong>, failed <strong id="q-failed">${s.registration.failed}</strong><br><small>${s.registration.registered_total} registered in the journal</small>${s.registration.failed > 0 ? html`<br><a href="/admin/calls?status=failed">see the failed calls</a>` : ''}</div>
</div>
<h2>Last errors</h2>${s.last_errors.length ? html`<div class="scroll"><table><tr><th>When</th><th>Component</th><th>Code</th><th>Message</th></tr>${s.last_errors.map((e) => html`<tr><td>${when(Date.parse(e.at))}</td><td>${e.component}</td><td>${e.code}</td><td>${e.message}</td></tr>`)}</table></div>` : html`<p>none</p>`}`;
}

/** A bar chart as inline SVG (no script, no library). */
export function chart(perHour: Array<{ hourStart: number; count: number }>): Html {
  const max = Math.max(1, ...perHour.map((h) => h.count));
  const w = 24;
  const bars = perHour.map((h, i) => {
    const bh = Math.round((h.count / max) * 80);
    const hour = new Date(h.hourStart).getHours();
    return html`<g><title>${String(hour).padStart(2, '0')}:00 — ${h.count} calls</title><rect x="${i * w + 2}" y="${90 - bh}" width="${w - 4}" height="${bh}" fill="#1f5fbf"></rect>${i % 3 === 0 ? html`<text x="${i * w + 2}" y="104" font-size="10">${String(hour).padStart(2, '0')}h</text>` : ''}</g>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${perHour.length * w} 108" role="img" aria-label="calls per hour, max ${max}">${bars}<text x="2" y="10" font-size="10">${max}</text></svg>`;
}
