/** The call journal: search by number, extension, date range and status. */
import type { CallRecord, RecordStatus } from '../../../../domain/registration/types.js';
import { html, type Html } from '../html.js';
import { client, extensionsOfCall, RECORD_HEAD, recordRow, STATUS_LABEL } from './format.js';

export interface JournalQuery {
  number: string;
  ext: string;
  /** yyyy-mm-dd, local time; `to` inclusive. */
  from: string;
  to: string;
  status: RecordStatus | '';
}

export const MAX_ROWS = 500;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function day(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The query from the URL; anything malformed falls back to the default (today, every status). */
export function parseJournalQuery(params: URLSearchParams, now: number): JournalQuery & { fromMs: number; toMs: number; problems: string[] } {
  const problems: string[] = [];
  const get = (k: string, max = 40): string => (params.get(k) ?? '').trim().slice(0, max);
  const number = get('number').replace(/[^0-9+*#]/g, '');
  const ext = get('ext').replace(/[^0-9A-Za-z_*#-]/g, '');
  let from = get('from');
  let to = get('to');
  const today = day(now);
  if (from && !DAY.test(from)) (problems.push(`from: not a date (${from})`), (from = ''));
  if (to && !DAY.test(to)) (problems.push(`to: not a date (${to})`), (to = ''));
  from ||= today;
  to ||= from > today ? from : today;
  const s = get('status');
  const status = (s in STATUS_LABEL ? s : '') as RecordStatus | '';
  if (s && !status) problems.push(`status: unknown (${s})`);
  const fromMs = new Date(`${from}T00:00:00`).getTime();
  const toDay = new Date(`${to}T00:00:00`);
  toDay.setDate(toDay.getDate() + 1);
  if (Number.isNaN(fromMs) || Number.isNaN(toDay.getTime()) || toDay.getTime() <= fromMs) problems.push('the period is empty');
  return { number, ext, from, to, status, fromMs, toMs: toDay.getTime(), problems };
}

export function filterRecords(records: CallRecord[], q: JournalQuery): CallRecord[] {
  return records.filter((r) => {
    if (q.status && r.status !== q.status) return false;
    if (q.number) {
      const digits = q.number.replace(/\D/g, '');
      const nums = [client(r.call), r.call.channel.from.number, r.call.channel.to.number, r.steps.client_phone ?? ''].map((n) => n.replace(/\D/g, ''));
      if (!nums.some((n) => digits !== '' && n.includes(digits))) return false;
    }
    if (q.ext && !extensionsOfCall(r.call).includes(q.ext) && r.call.channel.from.number !== q.ext) return false;
    return true;
  });
}

export function journalPage(q: JournalQuery, rows: CallRecord[], problems: string[]): Html {
  const shown = [...rows].sort((a, b) => b.call_started_at - a.call_started_at).slice(0, MAX_ROWS);
  return html`<form method="get" action="/admin/calls" class="search">
<label>Number<input name="number" value="${q.number}" inputmode="tel"></label><label>Extension<input name="ext" value="${q.ext}"></label>
<label>From<input type="date" name="from" value="${q.from}"></label><label>To<input type="date" name="to" value="${q.to}"></label>
<label>Status<select name="status"><option value="">any</option>${(Object.keys(STATUS_LABEL) as RecordStatus[]).map((s) => html`<option value="${s}"${q.status === s ? html` selected` : ''}>${STATUS_LABEL[s]}</option>`)}</select></label>
<button type="submit">Search</button></form>
${problems.length ? html`<p class="flash error">${problems.join('; ')}</p>` : ''}
<p id="journal-count">${rows.length} call(s)${rows.length > MAX_ROWS ? html`, the newest ${MAX_ROWS} shown` : ''}</p>
<div class="scroll"><table id="journal">${RECORD_HEAD}${shown.map(recordRow)}</table></div>`;
}
