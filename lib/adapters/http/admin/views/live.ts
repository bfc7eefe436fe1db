/** Live calls: what the tracker follows now, each with its conversations (who rings, who talks). */
import type { CallFull, Conversation } from '../../../../domain/call/types.js';
import { NO_TIME } from '../../../../domain/call/types.js';
import { html, type Html } from '../html.js';
import { client, convExtension, direction } from './format.js';

const t = (v: string): string => (v && v !== NO_TIME ? v.slice(11) : '');

export function conversationsTable(call: CallFull): Html {
  const convs = Object.entries(call.conversations ?? {});
  if (convs.length === 0) return html`<small>no conversation yet</small>`;
  return html`<table class="convs"><tr><th>Extension</th><th>Kommo user</th><th>State</th><th>Rang</th><th>Answered</th><th>Ended</th></tr>${convs.map(([id, c]) => convRow(id, c, call.active_conversation_id))}</table>`;
}

function convRow(id: string, c: Conversation, active: string): Html {
  const state = c.is_parked ? 'parked' : c.channel.state;
  return html`<tr${id === active ? html` class="active"` : ''}><td>${convExtension(c)}</td><td>${c.user ? `${c.user.name ?? ''} (${c.user.id})` : '—'}</td>
<td class="state-${state}">${state}</td><td>${t(c.channel.start_time)}</td><td>${t(c.channel.answer_time)}</td><td>${t(c.channel.end_time)}</td></tr>`;
}

export function liveFragment(calls: CallFull[]): Html {
  if (calls.length === 0) return html`<p id="live-empty">No call in progress.</p>`;
  const sorted = [...calls].sort((a, b) => a.channel.start_time.localeCompare(b.channel.start_time));
  return html`<p><strong id="live-count">${calls.length}</strong> call(s) in progress</p>${sorted.map(
    (call) => html`<section class="card live-call" data-linkedid="${call.channel.id}"><h2>${direction(call)} · ${client(call) || call.channel.from.number} <small>${call.channel.from.name}</small></h2>
<p><small>from ${call.channel.from.number} to ${call.channel.to.number}${call.channel.trunk.number ? ` via ${call.channel.trunk.number}` : ''} · started ${t(call.channel.start_time)} · ${call.channel.state}</small></p>
<div class="scroll">${conversationsTable(call)}</div></section>`,
  )}`;
}
