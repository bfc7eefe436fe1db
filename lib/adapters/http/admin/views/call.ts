/** One call: its timeline, what was sent to Kommo and what came back, attempts, the last error, the recording. */
import type { CallRecord } from '../../../../domain/registration/types.js';
import { NO_TIME } from '../../../../domain/call/types.js';
import { html, safeUrl, type Html } from '../html.js';
import { conversationsTable } from './live.js';
import { client, direction, skipReason, statusBadge, when } from './format.js';

interface Timeline {
  at: string;
  what: string;
}

function timeline(rec: CallRecord): Timeline[] {
  const out: Timeline[] = [];
  const add = (at: string, what: string): void => {
    if (at && at !== NO_TIME) out.push({ at, what });
  };
  const ch = rec.call.channel;
  add(ch.start_time, `call started: ${ch.from.number} → ${ch.to.number}`);
  for (const c of Object.values(rec.call.conversations ?? {})) {
    const who = c.user?.extension ?? c.channel.to.number;
    add(c.channel.start_time, `${who} rings`);
    add(c.channel.answer_time, `${who} answers`);
    add(c.channel.end_time, `${who} ends (${c.channel.was_answered ? 'talked' : 'not answered'})`);
  }
  add(ch.end_time, 'call ended');
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

function kommoLink(base: string, kind: 'contacts' | 'leads' | 'companies', id: number | undefined): Html | string {
  if (!id) return '—';
  const href = safeUrl(`${base}/${kind}/detail/${id}`);
  return href ? html`<a href="${href}" target="_blank" rel="noopener noreferrer">${id}</a>` : String(id);
}

export function callPage(rec: CallRecord, kommoBaseUrl: string, csrf: string): Html {
  const s = rec.steps;
  const recording = safeUrl(s.record_link ?? rec.call.record);
  const sent: Array<[string, Html | string]> = [
    ['Client number', s.client_phone ?? client(rec.call)],
    ['Contact', s.contact_id ? html`${kommoLink(kommoBaseUrl, 'contacts', s.contact_id)} ${s.contact_name ?? ''}${s.contact_created ? ' (created)' : ' (found)'}` : '—'],
    ['Company', s.company_id ? html`${kommoLink(kommoBaseUrl, 'companies', s.company_id)} ${s.company_name ?? ''}` : '—'],
    ['Lead', s.lead_id ? html`${kommoLink(kommoBaseUrl, 'leads', s.lead_id)}${s.lead_created ? ' (created)' : ' (existing)'}` : '—'],
    ['Incoming lead (unsorted)', s.unsorted_uid ?? '—'],
    ['Call record (note id)', s.call_id ? `${s.call_id}${s.call_entity_type ? ` on ${s.call_entity_type} ${s.call_entity_id ?? ''}` : ''}` : '—'],
    ['Task', s.task_id ? String(s.task_id) : s.task_id === 0 ? 'none needed' : '—'],
    ['Creates in flight (unknown outcome)', s.intents && Object.keys(s.intents).length ? Object.keys(s.intents).join(', ') : '—'],
  ];
  return html`<p>${statusBadge(rec.status)} ${rec.status === 'skipped' ? html`<strong>${skipReason(rec.skip_reason)}</strong>` : ''} · ${direction(rec.call)} · journal id <code>${rec.id}</code></p>
<div class="cards"><div class="card"><h2>Attempts</h2>${rec.attempts}${rec.status === 'pending' ? html`<br><small>next ${when(rec.next_attempt_at)}</small>` : ''}<br><small>stored ${when(rec.created_at)}, updated ${when(rec.updated_at)}</small></div>
<div class="card" id="last-error"><h2>Last error</h2>${rec.last_error ? html`<span class="bad">${rec.last_error.code}</span>${rec.last_error.status ? ` (HTTP ${rec.last_error.status})` : ''}<br><small>${rec.last_error.message}</small>` : 'none'}</div>
${rec.status === 'failed' ? html`<div class="card"><h2>Fix</h2><form method="post" action="/admin/retry"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="id" value="${rec.id}"><button type="submit" id="retry-one">Retry this call…</button></form></div>` : ''}</div>
<h2>Timeline</h2><div class="scroll"><table>${timeline(rec).map((e) => html`<tr><td>${e.at}</td><td>${e.what}</td></tr>`)}</table></div>
<h2>Conversations</h2><div class="scroll">${conversationsTable(rec.call)}</div>
<h2>In Kommo</h2><div class="scroll"><table id="kommo-result">${sent.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table></div>
<h2>Recording</h2>${recording ? html`<audio controls preload="none" src="${recording}"></audio><br><a href="${recording}">download</a>` : html`<p>none</p>`}
<h2>Caller</h2><p>${rec.call.channel.from.number} <span id="caller-name">${rec.call.channel.from.name}</span></p>
<p><a href="/admin/calls">← journal</a></p>`;
}
