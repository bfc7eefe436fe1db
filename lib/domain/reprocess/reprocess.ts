/**
 * Re-processing (README, commands): calls that ended while the connector was
 * down are recovered from Asterisk's own records (the cdr_custom file of
 * `dialplan/cdr_custom.conf.sample`) and handed to the registrar, which
 * stores them durably and registers them like any other call.
 *
 * A call the registration journal already has — registered, pending,
 * failed or skipped — is never submitted again (the journal is keyed by
 * linkedid, as the registrar is). Note the journal forgets registered calls
 * after its retention (7 days by default): re-processing an older period
 * may register such calls a second time, so it is refused unless `force`.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { CallFull } from '../call/types.js';
import type { CallStore } from '../registration/store.js';
import { recordIdOf } from '../registration/store.js';
import type { Registrar } from '../registration/worker.js';
import type { ClassificationConfig } from '../tracker/index.js';
import { callFromRows, groupByLinkedid, type CdrCall } from './calls.js';
import { parseCdrLine, type BadLine, type CdrRow } from './csv.js';
import { ReprocessError } from './errors.js';

export const DEFAULT_CDR_SOURCE = '/var/log/asterisk/cdr-custom/kommo-cdr.csv';
/** Rows up to this long before `from` / after `to` are read, so a call crossing an edge is complete. */
const EDGE_MS = 24 * 3600 * 1000;
/** Bad lines kept in the summary (all are counted). */
const MAX_BAD_KEPT = 50;

export interface ReprocessOptions {
  /** Calls that started in [from, to). */
  from: Date | number;
  to: Date | number;
  /** The cdr_custom file (default DEFAULT_CDR_SOURCE). */
  source?: string;
  registrar: Pick<Registrar, 'submit'>;
  store: Pick<CallStore, 'get'> & Partial<Pick<CallStore, 'keyOf'>>;
  pbx: ClassificationConfig;
  /**
   * The Asterisk server the CDR file comes from (`ami[].name`): set as `call_full.pbx`,
   * and part of the journal key when there are several servers.
   */
  server?: string;
  logger: Logger;
  /** List what would be submitted, submit nothing. */
  dryRun?: boolean;
  /** Allow a period older than the journal's retention (duplicates possible). */
  force?: boolean;
  /** The journal's retention, ms (default 7 days). */
  retentionMs?: number;
  now?: () => number;
}

export interface ReprocessSummary {
  source: string;
  from: number;
  to: number;
  /** Lines read (records, bad lines and blank lines). */
  lines: number;
  /** Calls (linkedids) that started in the period. */
  found: number;
  /** Already in the journal, by status (done / pending / failed / skipped). */
  already: { done: number; pending: number; failed: number; skipped: number };
  submitted: number;
  /** Submissions that failed (the journal could not be written). */
  errors: number;
  /** Lines that could not be parsed. */
  unparseable: number;
  bad: BadLine[];
  /** linkedids submitted (or, with dryRun, that would be). */
  linkedids: string[];
  dryRun: boolean;
}

const ms = (d: Date | number): number => (typeof d === 'number' ? d : d.getTime());

async function readRows(source: string, from: number, to: number): Promise<{ rows: CdrRow[]; lines: number; bad: BadLine[]; badCount: number }> {
  const rows: CdrRow[] = [];
  const bad: BadLine[] = [];
  let badCount = 0;
  let lines = 0;
  const stream = createReadStream(source, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (cause) {
    throw new ReprocessError('REPROCESS_SOURCE', `cannot read ${source}: ${(cause as Error).message} — see dialplan/cdr_custom.conf.sample`, { cause, source });
  }
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const text of rl) {
    lines++;
    const p = parseCdrLine(text, lines);
    if ('row' in p) {
      if (p.row.start >= from - EDGE_MS && p.row.start < to + EDGE_MS) rows.push(p.row);
    } else if ('bad' in p) {
      badCount++;
      if (bad.length < MAX_BAD_KEPT) bad.push(p.bad);
    }
  }
  return { rows, lines, bad, badCount };
}

export async function reprocess(opts: ReprocessOptions): Promise<ReprocessSummary> {
  const log = opts.logger.child({ component: 'reprocess' });
  const source = opts.source ?? DEFAULT_CDR_SOURCE;
  const from = ms(opts.from);
  const to = ms(opts.to);
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new ReprocessError('REPROCESS_PERIOD', 'the period is empty or invalid: --from must be before --to');
  }
  const now = (opts.now ?? Date.now)();
  const retention = opts.retentionMs ?? 7 * 24 * 3600 * 1000;
  if (!opts.force && from < now - retention) {
    throw new ReprocessError(
      'REPROCESS_TOO_OLD',
      `--from is older than the registration journal's retention (${Math.round(retention / 86_400_000)} days): ` +
        'calls registered back then are no longer remembered and would be registered twice; use --force to do it anyway',
    );
  }
  const { rows, lines, bad, badCount } = await readRows(source, from, to);
  for (const b of bad) log.warn({ line: b.line, reason: b.reason, source }, 'unparseable CDR line');

  const calls: CdrCall[] = groupByLinkedid(rows).filter((c) => c.start >= from && c.start < to);
  const summary: ReprocessSummary = {
    source,
    from,
    to,
    lines,
    found: calls.length,
    already: { done: 0, pending: 0, failed: 0, skipped: 0 },
    submitted: 0,
    errors: 0,
    unparseable: badCount,
    bad,
    linkedids: [],
    dryRun: opts.dryRun === true,
  };
  for (const c of calls) {
    let call: CallFull;
    try {
      call = callFromRows(c, { pbx: opts.pbx });
      if (opts.server !== undefined) call = { ...call, pbx: opts.server };
    } catch (err) {
      summary.errors++;
      log.error({ err, linkedid: c.linkedid }, 'cannot rebuild the call from its CDR rows');
      continue;
    }
    // The journal key (server-qualified with several servers); a record under the bare
    // linkedid counts too: it was journalled while the connector followed one server.
    const keyOf = opts.store.keyOf ?? ((x: CallFull) => x.channel.id);
    const ids = new Set([recordIdOf(keyOf(call)), recordIdOf(keyOf({ ...call, channel: { ...call.channel, id: c.linkedid } })), recordIdOf(c.linkedid), recordIdOf(call.channel.id)]);
    let existing: Awaited<ReturnType<CallStore['get']>>;
    for (const id of ids) existing ??= await opts.store.get(id);
    if (existing) {
      summary.already[existing.status]++;
      continue;
    }
    summary.linkedids.push(c.linkedid);
    if (summary.dryRun) continue;
    try {
      await opts.registrar.submit(call);
      summary.submitted++;
      log.info({ linkedid: c.linkedid, direction: call.channel.type, result: call.result }, 'call re-submitted from CDR');
    } catch (err) {
      summary.errors++;
      log.error({ err, linkedid: c.linkedid }, 'submit failed');
    }
  }
  return summary;
}

export function formatSummary(s: ReprocessSummary): string {
  const iso = (t: number): string => new Date(t).toISOString();
  const a = s.already;
  const lines = [
    `source        ${s.source} (${s.lines} lines)`,
    `period        ${iso(s.from)} — ${iso(s.to)}`,
    `found         ${s.found} calls`,
    `already       ${a.done + a.pending + a.failed + a.skipped} (registered ${a.done}, pending ${a.pending}, failed ${a.failed}, skipped ${a.skipped})`,
    s.dryRun ? `would submit  ${s.linkedids.length}` : `submitted     ${s.submitted}`,
    `unparseable   ${s.unparseable} lines${s.bad.length ? `: ${s.bad.slice(0, 5).map((b) => `line ${b.line} (${b.reason})`).join('; ')}${s.unparseable > 5 ? '; …' : ''}` : ''}`,
  ];
  if (s.errors) lines.push(`errors        ${s.errors} (see the log)`);
  return lines.map((l) => `${l}\n`).join('');
}
