/** Fix: retry failed calls (one or all) and re-process a period from the CDR, each confirmed; the action log. */
import type { CallRecord } from '../../../../domain/registration/types.js';
import type { ReprocessSummary } from '../../../../domain/reprocess/reprocess.js';
import { html, type Html } from '../html.js';
import { RECORD_HEAD, recordRow, when } from './format.js';

export interface AdminAction {
  at: number;
  action: string;
  detail: string;
  address: string;
}

const hidden = (name: string, value: string): Html => html`<input type="hidden" name="${name}" value="${value}">`;

export function fixPage(failed: CallRecord[], actions: AdminAction[], csrf: string, defaults: { from: string; to: string }): Html {
  return html`<h2>Failed calls</h2>
${failed.length ? html`<div class="scroll"><table id="failed">${RECORD_HEAD}${failed.map(recordRow)}</table></div>
<form method="post" action="/admin/retry">${hidden('csrf', csrf)}<button type="submit" id="retry-all">Retry all ${failed.length} failed call(s)…</button></form>` : html`<p id="no-failed">No failed call.</p>`}
<h2>Re-process a period from the CDR</h2>
<p><small>Calls of the period that the journal does not have (they ended while the connector was down) are registered; calls it has are never sent again. A preview comes first.</small></p>
<form method="post" action="/admin/reprocess">${hidden('csrf', csrf)}${hidden('step', 'preview')}
<label>From<input type="datetime-local" name="from" value="${defaults.from}" required></label><label>To<input type="datetime-local" name="to" value="${defaults.to}" required></label>
<button type="submit" id="reprocess-preview">Preview (dry run)</button></form>
<h2>Actions</h2>${actions.length ? html`<div class="scroll"><table id="actions"><tr><th>When</th><th>Action</th><th>Detail</th><th class="hide-sm">From</th></tr>${actions.map((a) => html`<tr><td>${when(a.at)}</td><td>${a.action}</td><td>${a.detail}</td><td class="hide-sm">${a.address}</td></tr>`)}</table></div>` : html`<p>none since start</p>`}`;
}

export function retryConfirmPage(target: CallRecord | 'all', count: number, csrf: string): Html {
  const what = target === 'all' ? `all ${count} failed call(s)` : `the call ${target.id} (${target.call.channel.from.number} → ${target.call.channel.to.number})`;
  return html`<p>Queue ${what} for registration again? Calls already registered in Kommo are not created twice: each call resumes from its last saved step.</p>
<form method="post" action="/admin/retry">${hidden('csrf', csrf)}${target === 'all' ? '' : hidden('id', target.id)}${hidden('confirm', 'yes')}<button type="submit" id="confirm">Yes, retry</button> <a href="/admin/fix">Cancel</a></form>`;
}

export function reprocessSummary(s: ReprocessSummary): Html {
  return html`<table id="reprocess-summary"><tr><th>Source</th><td>${s.source}</td></tr><tr><th>Period</th><td>${when(s.from)} — ${when(s.to)}</td></tr>
<tr><th>Lines read</th><td>${s.lines} (${s.unparseable} unparseable)</td></tr><tr><th>Calls in the period</th><td>${s.found}</td></tr>
<tr><th>Already in the journal</th><td>${s.already.done} registered, ${s.already.pending} pending, ${s.already.failed} failed, ${s.already.skipped} skipped</td></tr>
<tr><th>${s.dryRun ? 'Would be registered' : 'Submitted'}</th><td id="reprocess-count">${s.dryRun ? s.linkedids.length : s.submitted}</td></tr>${s.errors ? html`<tr><th>Errors</th><td class="bad">${s.errors}</td></tr>` : ''}</table>
${s.linkedids.length ? html`<details><summary>linkedids</summary><pre>${s.linkedids.join('\n')}</pre></details>` : ''}`;
}

export function reprocessPreviewPage(s: ReprocessSummary, form: { from: string; to: string }, csrf: string): Html {
  return html`${reprocessSummary(s)}
${s.linkedids.length ? html`<form method="post" action="/admin/reprocess">${hidden('csrf', csrf)}${hidden('step', 'run')}${hidden('from', form.from)}${hidden('to', form.to)}<button type="submit" id="reprocess-run">Register these ${s.linkedids.length} call(s)</button> <a href="/admin/fix">Cancel</a></form>` : html`<p>Nothing to register. <a href="/admin/fix">Back</a></p>`}`;
}
