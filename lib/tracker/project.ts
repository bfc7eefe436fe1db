/**
 * From the tracker's records to SPEC's `call_full` (a fresh, JSON-able object).
 */
import {
  NO_TIME,
  type CallFull,
  type ChannelObject,
  type ChannelState,
  type ChannelType,
  type Conversation,
  type NumberObject,
} from '../call/types.js';
import type { TrackerContext } from './classify.js';
import { RESULT, causeResult, dialStatusResult, specificCauseResult } from './results.js';
import type { CallRec, ChanRec } from './types.js';

const isInternal = (ch: ChanRec): boolean => ch.ext !== '';
const isExternal = (ch: ChanRec): boolean => ch.kind === 'trunk' || ch.kind === 'external';

export function primaryOf(call: CallRec): ChanRec | undefined {
  const own = call.channels.get(call.linkedid);
  if (own) return own;
  let first: ChanRec | undefined;
  for (const ch of call.channels.values()) if (!first || ch.seq < first.seq) first = ch;
  return first;
}

/** The conversations (channels where a phone rang), in the order they were requested. */
export function conversationsOf(call: CallRec): ChanRec[] {
  const out: ChanRec[] = [];
  for (const ch of call.channels.values()) if (ch.convSeq > 0) out.push(ch);
  return out.sort((a, b) => a.convSeq - b.convSeq);
}

/**
 * The channel on the other side of a conversation: its dialler, seen through
 * Local pairs (a queue member `Local/102@q;2` dials the phone; its `;1` half
 * was dialled by the caller). Falls back to the call's primary channel.
 */
export function otherSide(call: CallRec, ch: ChanRec): ChanRec | undefined {
  let cur: ChanRec | undefined = call.channels.get(ch.dialer);
  for (let hops = 0; cur && cur.kind === 'local' && hops < 6; hops++) {
    const peer = localPeer(call, cur);
    const next = peer && peer.dialer ? call.channels.get(peer.dialer) : undefined;
    if (!next) {
      // an originated Local pair (click-to-call): the Local stands for its extension
      return cur.ext ? cur : (peer?.ext ? peer : primaryOf(call));
    }
    cur = next;
  }
  return cur ?? primaryOf(call);
}

function localPeer(call: CallRec, ch: ChanRec): ChanRec | undefined {
  if (ch.localPeer) return call.channels.get(ch.localPeer);
  const want = ch.half === 2 ? ';1' : ';2';
  const base = ch.name.slice(0, ch.name.lastIndexOf(';'));
  for (const other of call.channels.values()) if (other !== ch && other.name === base + want) return other;
  return undefined;
}

function legType(from: ChanRec | undefined, to: ChanRec): ChannelType {
  if (!from) return 'unknown';
  const fi = isInternal(from);
  const ti = isInternal(to);
  if (!fi && ti && isExternal(from)) return 'incoming';
  if (fi && !ti && isExternal(to)) return 'outgoing';
  if (fi && ti) return 'local';
  return 'unknown';
}

const NUMBERISH = /^\+?[0-9*#]+$/;

/** The number dialled towards an external leg: the caller's dialplan exten, else the dial string's user part. */
export function dialledNumber(ch: ChanRec): string {
  if (NUMBERISH.test(ch.dialExten)) return ch.dialExten;
  const ds = ch.dialString.replace(/^[a-z]+:/i, '');
  const user = ds.split('@')[0] ?? '';
  if (NUMBERISH.test(user)) return user;
  return ch.callerNum && NUMBERISH.test(ch.callerNum) ? ch.callerNum : ch.dialExten || user;
}

export function callType(call: CallRec, convs: ChanRec[] = conversationsOf(call)): ChannelType {
  const primary = primaryOf(call);
  if (!primary) return 'unknown';
  if (isExternal(primary)) return 'incoming';
  if (!isInternal(primary)) return 'unknown';
  if (convs.some(isExternal)) return 'outgoing';
  if (convs.some(isInternal)) return 'local';
  if (NUMBERISH.test(primary.exten) && primary.exten.length > 5) return 'outgoing';
  return 'local';
}

/** Conversations that decide the call's result: the client's legs for outgoing calls, employees' otherwise. */
function relevant(type: ChannelType, convs: ChanRec[]): ChanRec[] {
  const pick = type === 'outgoing' ? convs.filter(isExternal) : convs.filter(isInternal);
  return pick.length ? pick : convs;
}

export function conversationResult(ch: ChanRec): number {
  if (ch.accepted) return RESULT.ANSWERED;
  return (
    specificCauseResult(ch.cause) ??
    dialStatusResult(ch.dialStatus) ??
    causeResult(ch.cause) ??
    (ch.alive ? RESULT.NO_ANSWER : RESULT.CANCELLED)
  );
}

export function callResult(call: CallRec, type: ChannelType, convs: ChanRec[]): number {
  const rel = relevant(type, convs);
  if (rel.some((c) => c.accepted)) return RESULT.ANSWERED;
  if (rel.length) {
    let last = rel[0] as ChanRec;
    for (const c of rel) if ((c.end || Infinity) >= (last.end || Infinity)) last = c;
    return conversationResult(last);
  }
  const primary = primaryOf(call);
  const fromStatus = call.dialStatus === 'ANSWER' ? undefined : dialStatusResult(call.dialStatus);
  const cause = primary?.cause ?? 0;
  return specificCauseResult(cause) ?? fromStatus ?? (cause === 34 ? RESULT.UNAVAILABLE : RESULT.CANCELLED);
}

function num(number: string, name = ''): NumberObject {
  return { number, name };
}

function chanState(ch: ChanRec, answered: boolean): ChannelState {
  if (!ch.alive) return 'ended';
  return answered ? 'talking' : 'ringing';
}

function endpointName(ch: ChanRec | undefined): string {
  return ch ? ch.endpoint : '';
}

export function projectCall(call: CallRec, ctx: TrackerContext): CallFull {
  const t = ctx.formatTime;
  const convs = conversationsOf(call);
  const type = callType(call, convs);
  const primary = primaryOf(call) as ChanRec;
  const rel = relevant(type, convs);
  const answeredConvs = rel.filter((c) => c.accepted);
  let alive = false;
  let end = 0;
  for (const ch of call.channels.values()) {
    if (ch.alive) alive = true;
    if (ch.end > end) end = ch.end;
  }
  // While the call is still on and nobody answered, the result is not decided yet: 0.
  const result = alive && answeredConvs.length === 0 ? 0 : callResult(call, type, convs);
  const firstAnswer = answeredConvs.reduce((m, c) => (m === 0 || c.accepted < m ? c.accepted : m), 0);
  const external = convs.filter(isExternal);
  const lastExternal = external[external.length - 1];
  const lastConv = convs[convs.length - 1];
  let from: NumberObject;
  let to: NumberObject;
  let trunk: NumberObject;
  if (type === 'incoming') {
    from = num(primary.callerNum, primary.callerName);
    to = num(primary.exten);
    trunk = num(primary.exten, primary.endpoint);
  } else {
    from = num(primary.ext, primary.callerName);
    if (type === 'outgoing') {
      to = num(lastExternal ? dialledNumber(lastExternal) : primary.exten);
      trunk = num('', endpointName(lastExternal));
    } else {
      to = num(lastConv ? lastConv.ext : primary.exten, lastConv?.callerName ?? '');
      trunk = num('', '');
    }
  }

  const conversations: Record<string, Conversation> = {};
  let active = '';
  let activeRinging = '';
  for (const ch of convs) {
    const other = otherSide(call, ch);
    const lt = legType(other, ch);
    const userExt = isInternal(ch) ? ch.ext : other && isInternal(other) ? other.ext : '';
    const conv: ChannelObject = {
      id: ch.id,
      name: ch.name,
      is_primary: ch.id === primary.id,
      type: lt,
      state: chanState(ch, ch.accepted > 0),
      from:
        lt === 'incoming'
          ? num(other?.callerNum ?? '', other?.callerName ?? '')
          : num(other?.ext ?? '', other?.callerName ?? ''),
      to: isExternal(ch) ? num(dialledNumber(ch)) : num(ch.ext, ch.callerName),
      trunk:
        lt === 'incoming'
          ? num(primary.exten, endpointName(other))
          : isExternal(ch)
            ? num('', ch.endpoint)
            : num('', ''),
      start_time: t(ch.requested || ch.start),
      answer_time: ch.accepted ? t(ch.accepted) : NO_TIME,
      end_time: ch.alive ? NO_TIME : t(ch.end),
      was_answered: ch.accepted > 0,
      extra: {
        uniqueid: ch.id,
        endpoint: ch.endpoint,
        dialer: other?.id ?? '',
        dialstatus: ch.dialStatus,
        hangup_cause: ch.cause,
        hangup_cause_txt: ch.causeTxt,
        result: conversationResult(ch),
        answered_elsewhere: ch.cause === 26,
        start_ms: ch.requested || ch.start,
        answer_ms: ch.accepted,
        end_ms: ch.end,
        ...(ch.transfer ? { transfer: ch.transfer } : {}),
      },
    };
    conversations[ch.id] = { channel: conv, is_parked: false, user: userExt ? ctx.classifier.user(userExt) : null };
    if (ch.alive && ch.accepted) active = ch.id;
    else if (ch.alive && !ch.accepted) activeRinging = ch.id;
  }

  const channel: ChannelObject = {
    id: primary.id,
    name: primary.name,
    is_primary: true,
    type,
    state: alive ? (answeredConvs.some((c) => c.alive) ? 'talking' : 'ringing') : 'ended',
    from,
    to,
    trunk,
    start_time: t(primary.start),
    answer_time: firstAnswer ? t(firstAnswer) : NO_TIME,
    end_time: alive ? NO_TIME : t(end),
    was_answered: result === RESULT.ANSWERED,
    extra: {
      linkedid: call.linkedid,
      uniqueid: primary.id,
      internal: type === 'local',
      dialstatus: call.dialStatus,
      hangup_cause: primary.cause,
      hangup_cause_txt: primary.causeTxt,
      start_ms: primary.start,
      answer_ms: firstAnswer,
      end_ms: alive ? 0 : end,
      channels: call.channels.size,
      ...(call.queue ? { queue: call.queue, queue_abandoned: call.abandoned } : {}),
      ...(call.recording ? { recording_file: call.recording } : {}),
      ...(call.merged.length ? { merged_linkedids: [...call.merged] } : {}),
      ...(call.transfers.length ? { transfers: call.transfers.map((x) => ({ ...x })) } : {}),
      ...(call.originate ? { originate: call.originate } : {}),
    },
  };

  return {
    active_conversation_id: active || activeRinging,
    channel,
    conversations,
    entity: null,
    deal: null,
    // Decided at the end: missed before any employee's phone rang.
    is_ivr: !alive && type === 'incoming' && result !== RESULT.ANSWERED && !rel.some(isInternal),
    record: '',
    result,
  };
}
