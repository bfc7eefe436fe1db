/**
 * The `kommo-cdr.csv` records written by Asterisk's cdr_custom with the
 * mapping in `dialplan/cdr_custom.conf.sample`: one record per line, fields
 * separated by commas, quoted by CSV_QUOTE (a `"` inside is doubled). Pure:
 * a bad line is reported with its number and a reason, never thrown.
 */

/** Format version in the first column. */
export const CDR_FORMAT = 'ka1';

export const CDR_COLUMNS = [
  'version',
  'linkedid',
  'uniqueid',
  'sequence',
  'channel',
  'dstchannel',
  'src',
  'clid',
  'dst',
  'dcontext',
  'lastapp',
  'lastdata',
  'start',
  'answer',
  'end',
  'duration',
  'billsec',
  'disposition',
  'userfield',
] as const;

export interface CdrRow {
  /** Line number in the file (1-based). */
  line: number;
  linkedid: string;
  uniqueid: string;
  sequence: number;
  channel: string;
  dstchannel: string;
  src: string;
  clid: string;
  dst: string;
  dcontext: string;
  lastapp: string;
  lastdata: string;
  /** Unix ms; 0 = did not happen. */
  start: number;
  answer: number;
  end: number;
  duration: number;
  billsec: number;
  /** ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION (CANCEL with `cancel_disposition`). */
  disposition: string;
  userfield: string;
}

export interface BadLine {
  line: number;
  reason: string;
}

export type ParsedLine = { row: CdrRow } | { bad: BadLine } | { empty: true };

/** Split one CSV line; null when a quote is not closed or text follows a closing quote. */
export function splitCsv(text: string): { fields: string[] } | { error: string } {
  const fields: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (i < n && text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return { error: 'unterminated quoted field' };
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === n) return { fields };
      if (text[i] !== ',') return { error: `unexpected text after a quoted field (column ${fields.length})` };
      i++;
    } else {
      const c = text.indexOf(',', i);
      const value = c < 0 ? text.slice(i) : text.slice(i, c);
      if (value.includes('"')) return { error: `stray quote in column ${fields.length + 1}` };
      fields.push(value);
      if (c < 0) return { fields };
      i = c + 1;
    }
  }
}

/** `1795505694.966778` (epoch seconds) → ms; `0.000000` and '' → 0; null when not a number. */
function epochMs(value: string): number | null {
  if (value === '') return 0;
  if (!/^\d+(?:\.\d+)?$/.test(value)) return null;
  return Math.round(Number(value) * 1000);
}

function int(value: string): number | null {
  if (value === '') return 0;
  return /^\d+$/.test(value) ? Number(value) : null;
}

export function parseCdrLine(text: string, line: number): ParsedLine {
  const trimmed = text.replace(/\r$/, '');
  if (trimmed.trim() === '') return { empty: true };
  const split = splitCsv(trimmed);
  if ('error' in split) return { bad: { line, reason: split.error } };
  const f = split.fields;
  if (f.length !== CDR_COLUMNS.length) {
    return { bad: { line, reason: `expected ${CDR_COLUMNS.length} columns, found ${f.length}` } };
  }
  const get = (i: number): string => f[i] ?? '';
  if (get(0) !== CDR_FORMAT) return { bad: { line, reason: `not a ${CDR_FORMAT} record (first column ${JSON.stringify(get(0).slice(0, 20))})` } };
  const linkedid = get(1);
  const channel = get(4);
  if (!linkedid) return { bad: { line, reason: 'empty linkedid' } };
  if (!channel) return { bad: { line, reason: 'empty channel' } };
  const start = epochMs(get(12));
  const answer = epochMs(get(13));
  const end = epochMs(get(14));
  const sequence = int(get(3));
  const duration = int(get(15));
  const billsec = int(get(16));
  if (start === null || answer === null || end === null) return { bad: { line, reason: 'start/answer/end are not epoch seconds' } };
  if (start === 0) return { bad: { line, reason: 'no start time' } };
  if (sequence === null || duration === null || billsec === null) return { bad: { line, reason: 'sequence/duration/billsec are not integers' } };
  return {
    row: {
      line,
      linkedid,
      uniqueid: get(2),
      sequence,
      channel,
      dstchannel: get(5),
      src: get(6),
      clid: get(7),
      dst: get(8),
      dcontext: get(9),
      lastapp: get(10),
      lastdata: get(11),
      start,
      answer,
      end: end || start,
      duration,
      billsec,
      disposition: get(17).toUpperCase(),
      userfield: get(18),
    },
  };
}

/** Parse a whole text (tests, small files); see `readCdrFile` for streaming. */
export function parseCdrText(text: string): { rows: CdrRow[]; bad: BadLine[] } {
  const rows: CdrRow[] = [];
  const bad: BadLine[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((l, i) => {
    const p = parseCdrLine(l, i + 1);
    if ('row' in p) rows.push(p.row);
    else if ('bad' in p) bad.push(p.bad);
  });
  return { rows, bad };
}

/** The display name of a CallerID `"Name" <number>`; '' when there is none. */
export function clidName(clid: string): string {
  const q = /^\s*"((?:[^"\\]|\\.)*)"/.exec(clid);
  if (q) return (q[1] ?? '').replace(/\\(.)/g, '$1');
  const lt = clid.indexOf('<');
  return lt > 0 ? clid.slice(0, lt).trim() : '';
}
