/** Small formatting helpers shared by the views. */
import type { CallFull, Conversation } from '../../../../domain/call/types.js';
import { callDirection, clientNumber } from '../../../../domain/call/facts.js';
import type { CallRecord, RecordStatus } from '../../../../domain/registration/types.js';
import { html, type Html } from '../html.js';

/** The journal's statuses as the panel names them. */
export const STATUS_LABEL: Record<RecordStatus, string> = { done: 'registered', pending: 'pending', failed: 'failed', skipped: 'skipped' };

/** Why a call was skipped, in words. */
export const SKIP_REASONS: Record<string, string> = {
  internal: 'internal call',
  hook_need_registration: 'hook 1 (need_registration) said no',
  blacklist_numbers: 'blacklist (numbers)',
  blacklist_extensions: 'blacklist (extensions)',
  blacklist_trunks: 'blacklist (trunks)',
  not_whitelisted: 'not on a whitelist',
  no_client_number: 'no client number',
  unknown_client: 'unknown client (not created by configuration)',
};

export function skipReason(reason: string | undefined): string {
  if (!reason) return '';
  return SKIP_REASONS[reason] ?? (reason.startsWith('blacklist') ? `blacklist (${reason.slice('blacklist_'.length)})` : reason);
}

export function when(ms: number | undefined | null): string {
  if (!ms) return '—';
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function ago(ms: number | undefined, now: number): string {
  if (!ms) return '—';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

export function statusBadge(status: RecordStatus): Html {
  return html`<span class="badge ${status}">${STATUS_LABEL[status]}</span>`;
}

/** Extensions that took part in the call (conversations' users or called numbers). */
export function extensionsOfCall(call: CallFull): string[] {
  const out = new Set<string>();
  for (const conv of Object.values(call.conversations ?? {})) {
    const ext = convExtension(conv);
    if (ext) out.add(ext);
  }
  return [...out];
}

export function convExtension(conv: Conversation): string {
  return conv.user?.extension ?? conv.channel.to.number ?? '';
}

export function direction(call: CallFull): string {
  try {
    return callDirection(call);
  } catch {
    return '?';
  }
}

export function client(call: CallFull): string {
  try {
    return clientNumber(call);
  } catch {
    return '';
  }
}

/** One line per call: who, when, which extensions, what became of it. */
export function recordRow(rec: CallRecord): Html {
  const call = rec.call;
  return html`<tr><td><a href="/admin/calls/${rec.id}">${when(rec.call_started_at)}</a></td><td class="hide-sm">${direction(call)}</td>
<td>${client(call)}<br><small>${call.channel.from.name}</small></td><td>${extensionsOfCall(call).join(', ')}</td>
<td>${statusBadge(rec.status)} ${rec.status === 'skipped' ? html`<small>${skipReason(rec.skip_reason)}</small>` : ''}${rec.status === 'failed' && rec.last_error ? html`<br><small>${rec.last_error.code}</small>` : ''}</td></tr>`;
}

export const RECORD_HEAD = html`<tr><th>Started</th><th class="hide-sm">Direction</th><th>Client</th><th>Extensions</th><th>Status</th></tr>`;
