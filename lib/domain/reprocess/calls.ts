/**
 * From CDR rows to `call_full`: the rows of one linkedid become the tracker's
 * own records (`CallRec`/`ChanRec`), and the tracker's `projectCall` builds
 * the call — the same classification (pbx.extensions, pbx.trunks,
 * extension_pattern), direction, conversations, users and result rules as
 * for a call followed live. Pure.
 *
 * What CDRs cannot tell, and what is used instead:
 *  - a dialled channel's uniqueid (CDRs carry only party A's): a channel
 *    seen only as party B is identified by its name;
 *  - when a phone started ringing: the record's start (the dial);
 *  - hangup causes: the disposition gives the DIALSTATUS (ANSWERED → ANSWER,
 *    NO ANSWER → NOANSWER, BUSY, FAILED → CHANUNAVAIL, CONGESTION);
 *  - the recording: not in the CDR (the call is registered without a link).
 */
import type { CallFull } from '../call/types.js';
import { createTrackerContext, newChannel, projectCall, type ClassificationConfig, type TrackerContext } from '../tracker/index.js';
import type { CallRec, ChanRec } from '../tracker/index.js';
import { clidName, type CdrRow } from './csv.js';

export function dispositionStatus(disposition: string): string {
  switch (disposition.toUpperCase()) {
    case 'ANSWERED':
      return 'ANSWER';
    case 'NO ANSWER':
      return 'NOANSWER';
    case 'BUSY':
      return 'BUSY';
    case 'FAILED':
      return 'CHANUNAVAIL';
    case 'CONGESTION':
      return 'CONGESTION';
    case 'CANCEL':
      return 'CANCEL';
    default:
      return '';
  }
}

export interface CdrCall {
  linkedid: string;
  /** Unix ms of the earliest record. */
  start: number;
  rows: CdrRow[];
}

/** Group rows by linkedid, rows in Asterisk's order (sequence, then start). */
export function groupByLinkedid(rows: readonly CdrRow[]): CdrCall[] {
  const map = new Map<string, CdrRow[]>();
  for (const r of rows) {
    const list = map.get(r.linkedid);
    if (list) list.push(r);
    else map.set(r.linkedid, [r]);
  }
  const out: CdrCall[] = [];
  for (const [linkedid, list] of map) {
    list.sort((a, b) => a.sequence - b.sequence || a.start - b.start || a.line - b.line);
    out.push({ linkedid, start: Math.min(...list.map((r) => r.start)), rows: list });
  }
  return out.sort((a, b) => a.start - b.start);
}

function blankChan(ctx: TrackerContext, id: string, name: string, seq: number): ChanRec {
  return newChannel(ctx, id, name, seq, { alive: false, ended: true });
}

const minNonZero = (a: number, b: number): number => (a === 0 ? b : b === 0 ? a : Math.min(a, b));

/** The tracker's record of a finished call, rebuilt from its CDR rows. */
export function callRecFromRows(call: CdrCall, ctx: TrackerContext): CallRec {
  const idByName = new Map<string, string>();
  for (const r of call.rows) if (r.uniqueid && !idByName.has(r.channel)) idByName.set(r.channel, r.uniqueid);
  const channels = new Map<string, ChanRec>();
  let seq = 0;
  let conv = 0;
  const ensure = (name: string): ChanRec => {
    const id = idByName.get(name) ?? name;
    const have = channels.get(id);
    if (have) return have;
    const ch = blankChan(ctx, id, name, ++seq);
    channels.set(id, ch);
    return ch;
  };
  const put = (ch: ChanRec): void => {
    channels.set(ch.id, ch);
  };
  let dialStatus = '';
  let queue = '';
  for (const r of call.rows) {
    const a = ensure(r.channel);
    const callerName = clidName(r.clid);
    put({
      ...a,
      callerNum: a.callerNum || r.src,
      callerName: a.callerName || callerName,
      exten: a.exten || r.dst,
      context: a.context || r.dcontext,
      start: minNonZero(a.start, r.start),
      end: Math.max(a.end, r.end),
      up: r.dstchannel ? a.up : minNonZero(a.up, r.answer),
      state: 6,
    });
    if (r.lastapp.toLowerCase() === 'queue' && !queue) queue = r.lastdata.split(',')[0] ?? '';
    const status = dispositionStatus(r.disposition);
    if (!r.dstchannel) continue;
    if (status) dialStatus = status;
    const b = ensure(r.dstchannel);
    const answered = status === 'ANSWER' && r.answer > 0;
    const isConversation = b.kind !== 'local';
    put({
      ...b,
      dialer: b.dialer || (idByName.get(r.channel) ?? r.channel),
      dialString: b.dialString || (r.lastapp.toLowerCase() === 'dial' ? r.lastdata.split(',')[0] ?? '' : ''),
      dialExten: b.dialExten || r.dst,
      start: minNonZero(b.start, r.start),
      requested: minNonZero(b.requested, r.start),
      up: answered ? minNonZero(b.up, r.answer) : b.up,
      accepted: answered ? minNonZero(b.accepted, r.answer) : b.accepted,
      end: Math.max(b.end, r.end),
      dialStatus: answered ? 'ANSWER' : b.accepted ? b.dialStatus : status || b.dialStatus,
      convSeq: b.convSeq || (isConversation ? ++conv : 0),
      state: answered ? 6 : b.state,
    });
  }
  const answeredAny = [...channels.values()].some((c) => c.accepted > 0);
  return {
    linkedid: call.linkedid,
    channels,
    live: 0,
    nextSeq: seq + 1,
    nextConv: conv + 1,
    merged: [],
    aliases: [],
    dialStatus,
    queue,
    abandoned: queue !== '' && !answeredAny,
    recording: '',
    transfers: [],
    originate: '',
  };
}

export interface BuildOptions {
  pbx: ClassificationConfig;
  /** `YYYY-MM-DD HH:MM:SS` formatting (default: local time, as the tracker). */
  formatTime?: TrackerContext['formatTime'];
}

/** `call_full` of a finished call from its CDR rows; `extra.source = 'cdr'`. */
export function callFromRows(call: CdrCall, opts: BuildOptions): CallFull {
  const ctx = createTrackerContext(opts.pbx, opts.formatTime ? { formatTime: opts.formatTime } : {});
  const full = projectCall(callRecFromRows(call, ctx), ctx);
  full.channel.extra['source'] = 'cdr';
  full.channel.extra['cdr_lines'] = call.rows.map((r) => r.line);
  return full;
}
