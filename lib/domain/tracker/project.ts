/**
 * From the tracker's records to `call_full` (customizations/README.md) (a fresh, JSON-able object).
 */
import {
  NO_TIME,
  type CallFull,
  type ChannelObject,
  type ChannelState,
  type ChannelType,
  type Conversation,
  type KommoUserRef,
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

/**
 * Channel variables set by the click-to-call Originate (lib/domain/originate/service.ts);
 * the reducer keeps these (ChanRec.vars), others are not stored.
 */
export const KOMMO_VARS: ReadonlySet<string> = new Set([
  'KOMMO_CLICK_TO_CALL',
  'KOMMO_CLIENT_NUMBER',
  'KOMMO_CALLER_EXTENSION',
  'KOMMO_USER_ID',
]);

/** What a click-to-call Originate told about the call (the variables on its first channel). */
export interface ClickToCall {
  /** `KOMMO_CLICK_TO_CALL` set: the call is outgoing whatever its legs look like. */
  readonly clickToCall: boolean;
  /** `KOMMO_CLIENT_NUMBER`, or ''. */
  readonly clientNumber: string;
  /** `KOMMO_CALLER_EXTENSION`, else the extension of the originated channel, or ''. */
  readonly callerExt: string;
  /** `KOMMO_USER_ID`: the Kommo user who clicked, or null. */
  readonly userId: number | null;
  /** The originated channel (the primary) and its Local peer: the employee's own legs. */
  readonly ownIds: ReadonlySet<string>;
}

/**
 * The click-to-call variables of a call: those on its primary channel (the
 * Originate's `ChannelId`), or on that channel's Local peer. Variables on other
 * channels — e.g. a click-to-call merged into an older call by a transfer —
 * do not make the surviving call a click-to-call. Undefined when none is set.
 */
export function clickToCallOf(call: CallRec, primary: ChanRec | undefined = primaryOf(call)): ClickToCall | undefined {
  if (!primary) return undefined;
  const peer = primary.kind === 'local' ? localPeer(call, primary) : undefined;
  const vars = { ...peer?.vars, ...primary.vars };
  if (!Object.keys(vars).some((k) => KOMMO_VARS.has(k))) return undefined;
  const flag = (vars['KOMMO_CLICK_TO_CALL'] ?? '').trim();
  const user = (vars['KOMMO_USER_ID'] ?? '').trim();
  const ids = new Set([primary.id]);
  if (peer) ids.add(peer.id);
  return {
    clickToCall: flag !== '' && !/^(0|no|false)$/i.test(flag),
    clientNumber: (vars['KOMMO_CLIENT_NUMBER'] ?? '').trim(),
    callerExt: (vars['KOMMO_CALLER_EXTENSION'] ?? '').trim() || primary.ext || peer?.ext || '',
    userId: /^[0-9]{1,15}$/.test(user) && Number(user) > 0 ? Number(user) : null,
    ownIds: ids,
  };
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

export function callType(call: CallRec, convs: ChanRec[] = conversationsOf(call), c2c = clickToCallOf(call)): ChannelType {
  const primary = primaryOf(call);
  if (!primary) return 'unknown';
  // a click-to-call is outgoing from its first event, before (or without) a classified trunk leg
  if (c2c?.clickToCall) return 'outgoing';
  if (isExternal(primary)) return 'incoming';
  if (!isInternal(primary)) return 'unknown';
  if (convs.some(isExternal)) return 'outgoing';
  if (convs.some(isInternal)) return 'local';
  if (NUMBERISH.test(primary.exten) && primary.exten.length > 5) return 'outgoing';
  return 'local';
}

/**
 * Conversations that decide the call's result: the client's legs for outgoing calls,
 * employees' otherwise. For a click-to-call without an external leg, the legs other
 * than the employee's own (the employee answering is not the client answering).
 */
function relevant(type: ChannelType, convs: ChanRec[], c2c?: ClickToCall): ChanRec[] {
  const pick = type === 'outgoing' ? convs.filter(isExternal) : convs.filter(isInternal);
  if (pick.length) return pick;
  if (type === 'outgoing' && c2c?.clickToCall) return convs.filter((c) => !isOwnLeg(c2c, c));
  return convs;
}

/** The clicking employee's own phone leg of a click-to-call. */
function isOwnLeg(c2c: ClickToCall, ch: ChanRec): boolean {
  return c2c.ownIds.has(ch.id) || (c2c.callerExt !== '' && ch.ext === c2c.callerExt);
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

export function callResult(call: CallRec, type: ChannelType, convs: ChanRec[], c2c = clickToCallOf(call)): number {
  const rel = relevant(type, convs, c2c);
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

/**
 * The Kommo user of a conversation: the one mapped to its employee's extension —
 * except on the legs of the employee who clicked a click-to-call (`KOMMO_USER_ID`):
 * that Kommo user, whatever the extension map says. Other employees' legs (a
 * transfer) keep their mapped users.
 */
function conversationUser(ctx: TrackerContext, c2c: ClickToCall | undefined, ch: ChanRec, userExt: string): KommoUserRef | null {
  if (c2c && c2c.userId !== null) {
    const own = c2c.ownIds.has(ch.id) || (c2c.callerExt !== '' && userExt === c2c.callerExt);
    if (own) {
      const extension = userExt || c2c.callerExt;
      return extension ? { id: c2c.userId, extension } : { id: c2c.userId };
    }
  }
  return userExt ? ctx.classifier.user(userExt) : null;
}

/** Trailing digits of a dialplan exten (`FM101` → `101`, `FMPR-101` → `101`), or ''. */
function trailingNumber(exten: string): string {
  return /([0-9]+)$/.exec(exten)?.[1] ?? '';
}

/**
 * The employee's extension behind a forwarded leg: an external leg of an incoming call
 * dialled through a Local channel (Follow-Me to a mobile, an external number in a ring
 * group) rings on the employee's behalf, not at a new client. The employee is the
 * extension the caller was at when it dialled that Local (`FM101` of FreePBX's
 * `ext-findmefollow`), else the one employee rung alongside it in the same Dial; '' when
 * neither names a known Kommo user. Undefined when the leg is not forwarded.
 */
export function forwardedFor(call: CallRec, ch: ChanRec, ctx: TrackerContext): string | undefined {
  if (!isExternal(ch)) return undefined;
  const half2 = call.channels.get(ch.dialer);
  if (!half2 || half2.kind !== 'local') return undefined;
  const half1 = localPeer(call, half2);
  const fromExten = trailingNumber(half1?.dialExten ?? '');
  if (fromExten && ctx.classifier.user(fromExten)) return fromExten;
  if (!half1) return '';
  // siblings: the other Local pairs the same channel dialled, and the phones they rang
  const exts = new Set<string>();
  for (const other of call.channels.values()) {
    if (other.kind !== 'local' || other.half !== 1 || other.id === half1.id || other.dialer !== half1.dialer) continue;
    const peer = localPeer(call, other);
    for (const leg of call.channels.values()) if (peer && leg.dialer === peer.id && leg.ext && ctx.classifier.user(leg.ext)) exts.add(leg.ext);
  }
  return exts.size === 1 ? [...exts][0]! : '';
}

export function projectCall(call: CallRec, ctx: TrackerContext): CallFull {
  const t = ctx.formatTime;
  const primary = primaryOf(call) as ChanRec;
  const c2c = clickToCallOf(call, primary);
  // an incoming call's forwarded legs are the employee's (ext set: counted as internal)
  const convs =
    isExternal(primary) && !c2c?.clickToCall
      ? conversationsOf(call).map((ch) => {
          const ext = forwardedFor(call, ch, ctx);
          return ext === undefined ? ch : { ...ch, ext: ext || ch.endpoint };
        })
      : conversationsOf(call);
  const type = callType(call, convs, c2c);
  const rel = relevant(type, convs, c2c);
  const answeredConvs = rel.filter((c) => c.accepted);
  let alive = false;
  let end = 0;
  for (const ch of call.channels.values()) {
    if (ch.alive) alive = true;
    if (ch.end > end) end = ch.end;
  }
  // While the call is still on and nobody answered, the result is not decided yet: 0.
  const result = alive && answeredConvs.length === 0 ? 0 : callResult(call, type, convs, c2c);
  const firstAnswer = answeredConvs.reduce((m, c) => (m === 0 || c.accepted < m ? c.accepted : m), 0);
  const external = convs.filter(isExternal);
  // the client's leg: the last external one; for a click-to-call, else the last leg not the employee's own
  const lastExternal =
    external[external.length - 1] ?? (c2c?.clickToCall ? convs.filter((c) => !isOwnLeg(c2c, c)).at(-1) : undefined);
  const lastConv = convs[convs.length - 1];
  let from: NumberObject;
  let to: NumberObject;
  let trunk: NumberObject;
  if (type === 'incoming') {
    from = num(primary.callerNum, primary.callerName);
    to = num(primary.exten);
    trunk = num(primary.exten, primary.endpoint);
  } else {
    from = num(primary.ext || c2c?.callerExt || '', primary.callerName);
    if (type === 'outgoing') {
      to = num(c2c?.clientNumber || (lastExternal ? dialledNumber(lastExternal) : primary.exten));
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
    conversations[ch.id] = { channel: conv, is_parked: false, user: conversationUser(ctx, c2c, ch, userExt) };
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
      ...(c2c
        ? {
            click_to_call: c2c.clickToCall,
            ...(c2c.userId !== null ? { kommo_user_id: c2c.userId } : {}),
            ...(c2c.clientNumber ? { kommo_client_number: c2c.clientNumber } : {}),
            ...(c2c.callerExt ? { kommo_caller_extension: c2c.callerExt } : {}),
          }
        : {}),
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
