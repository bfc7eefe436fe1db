/**
 * Pure facts about a finished call, read from `call_full` (SPEC section 1):
 * direction, client number, who talked, who rang last, duration, Kommo's
 * call_status. No I/O, no Kommo; table-tested in test/registration/call-facts.test.ts.
 */
import { NO_TIME, type CallFull, type CallTime, type Conversation } from '../call/types.js';

export type Direction = 'inbound' | 'outbound';

/** `YYYY-MM-DD HH:MM:SS` (PBX local time) → Unix ms, or null when it has not happened. */
export function parseCallTime(value: CallTime | undefined): number | null {
  if (!value || value === NO_TIME) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const t = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime();
  return Number.isFinite(t) ? t : null;
}

/** Kommo's direction: the primary channel's type `incoming` is inbound, anything else outbound. */
export function callDirection(call: CallFull): Direction {
  return call.channel.type === 'incoming' ? 'inbound' : 'outbound';
}

/** The client's number as Asterisk gave it: `from` of an incoming call, `to` otherwise. */
export function rawClientNumber(call: CallFull): string {
  const ch = call.channel;
  return (ch.type === 'incoming' ? ch.from.number : ch.to.number) ?? '';
}

function conversations(call: CallFull): Conversation[] {
  return Object.values(call.conversations ?? {});
}

function startOf(c: Conversation): number {
  return parseCallTime(c.channel.start_time) ?? 0;
}

/**
 * The conversation in which an employee really talked: the last answered one
 * (by answer time) that has a Kommo user. Undefined when nobody talked.
 */
export function employeeConversation(call: CallFull): Conversation | undefined {
  if (call.is_ivr) return undefined;
  let best: Conversation | undefined;
  let bestAt = -Infinity;
  for (const c of conversations(call)) {
    if (!c.user || !c.channel.was_answered) continue;
    const at = parseCallTime(c.channel.answer_time) ?? startOf(c);
    if (at >= bestAt) {
      best = c;
      bestAt = at;
    }
  }
  return best;
}

/** The last conversation (by start time) that rang at a known Kommo user. */
export function lastRungConversation(call: CallFull): Conversation | undefined {
  let best: Conversation | undefined;
  let bestAt = -Infinity;
  for (const c of conversations(call)) {
    if (!c.user) continue;
    const at = startOf(c);
    if (at >= bestAt) {
      best = c;
      bestAt = at;
    }
  }
  return best;
}

/** The call had a conversation between the client and someone (SIP 2xx, not stuck in an IVR). */
export function wasAnswered(call: CallFull): boolean {
  return call.result >= 200 && call.result < 300 && !call.is_ivr;
}

/** A missed incoming or unanswered outgoing call. */
export function isMissed(call: CallFull): boolean {
  return !wasAnswered(call);
}

/**
 * Seconds of the last conversation that was answered (answer → end), 0 when none.
 * Falls back to the primary channel when no conversation is recorded.
 */
export function lastConversationDuration(call: CallFull): number {
  if (!wasAnswered(call)) return 0;
  let last: { answer: number; end: number } | undefined;
  const candidates = conversations(call).map((c) => c.channel);
  if (candidates.length === 0) candidates.push(call.channel);
  for (const ch of candidates) {
    if (!ch.was_answered) continue;
    const answer = parseCallTime(ch.answer_time);
    const end = parseCallTime(ch.end_time);
    if (answer === null || end === null) continue;
    if (!last || answer >= last.answer) last = { answer, end };
  }
  if (!last) return 0;
  return Math.max(0, Math.round((last.end - last.answer) / 1000));
}

/** Kommo call_status codes (KOMMO_API.md). */
export const CALL_STATUS = {
  LEFT_MESSAGE: 1,
  CALL_BACK_LATER: 2,
  NOT_AVAILABLE: 3,
  CONVERSATION: 4,
  WRONG_NUMBER: 5,
  NOT_GOT_THROUGH: 6,
  BUSY: 7,
} as const;

export interface StatusAndResult {
  call_status: number;
  call_result: string;
}

/**
 * SIP-style result → Kommo call_status and a human call_result.
 * 2xx answered → 4; 486/600 busy → 7; 404/484/485/604/410 wrong number → 5;
 * 403/500/502/503/488 not available → 3; 480/408/487/603 and anything else → 6.
 */
export function callStatusOf(call: CallFull): StatusAndResult {
  const r = call.result;
  const dir = callDirection(call);
  if (wasAnswered(call)) return { call_status: CALL_STATUS.CONVERSATION, call_result: 'Answered' };
  if (call.is_ivr) return { call_status: CALL_STATUS.NOT_GOT_THROUGH, call_result: 'Missed in IVR' };
  switch (r) {
    case 486:
    case 600:
      return { call_status: CALL_STATUS.BUSY, call_result: 'Busy' };
    case 404:
    case 410:
    case 484:
    case 485:
    case 604:
      return { call_status: CALL_STATUS.WRONG_NUMBER, call_result: 'Wrong number' };
    case 403:
    case 488:
    case 500:
    case 502:
    case 503:
      return { call_status: CALL_STATUS.NOT_AVAILABLE, call_result: 'Not available' };
    case 487:
      return { call_status: CALL_STATUS.NOT_GOT_THROUGH, call_result: dir === 'inbound' ? 'Missed (caller hung up)' : 'Cancelled' };
    case 603:
      return { call_status: CALL_STATUS.NOT_GOT_THROUGH, call_result: 'Declined' };
    default:
      return { call_status: CALL_STATUS.NOT_GOT_THROUGH, call_result: dir === 'inbound' ? 'Missed' : 'No answer' };
  }
}

/** Call start (Unix ms): the primary channel's start, else the earliest conversation. */
export function callStartedAt(call: CallFull): number | null {
  const own = parseCallTime(call.channel?.start_time);
  if (own !== null) return own;
  let min: number | null = null;
  for (const c of conversations(call)) {
    const t = parseCallTime(c.channel.start_time);
    if (t !== null && (min === null || t < min)) min = t;
  }
  return min;
}

/** Extensions (employee numbers) that took part, from the conversations' users and channels. */
export function extensionsOf(call: CallFull, isExtension: (n: string) => boolean): Set<string> {
  const out = new Set<string>();
  const add = (n: string | undefined): void => {
    if (n && isExtension(n)) out.add(n);
  };
  add(call.channel.from?.number);
  add(call.channel.to?.number);
  for (const c of conversations(call)) {
    if (c.user?.extension) out.add(c.user.extension);
    add(c.channel.from?.number);
    add(c.channel.to?.number);
  }
  return out;
}

/** Trunk numbers/names the call used. */
export function trunksOf(call: CallFull): Set<string> {
  const out = new Set<string>();
  const add = (n: string | undefined): void => {
    if (n) out.add(n);
  };
  add(call.channel.trunk?.number);
  add(call.channel.trunk?.name);
  for (const c of conversations(call)) {
    add(c.channel.trunk?.number);
    add(c.channel.trunk?.name);
  }
  return out;
}
