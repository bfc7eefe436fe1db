/**
 * Registration's own facts about a finished call, read from `call_full` (customizations/README.md, `call_full`):
 * Kommo's call_status, the call's start, the extensions and trunks the lists match.
 * Direction, who talked, duration and "missed" come from lib/domain/call/facts.ts (one
 * implementation for the whole program). No I/O, no Kommo; table-tested in
 * test/registration/call-facts.test.ts.
 */
import type { CallFull, Conversation } from '../call/types.js';
import { callDirection, clientNumber, isMissed, parseCallTime } from '../call/facts.js';

/** Kommo's `direction`: only `inbound` and `outbound` exist; internal and unknown calls go as outbound. */
export function kommoDirection(call: CallFull): 'inbound' | 'outbound' {
  return callDirection(call) === 'inbound' ? 'inbound' : 'outbound';
}

/** The client's number as Asterisk gave it: `from` of an incoming call, `to` otherwise (internal calls too). */
export function rawClientNumber(call: CallFull): string {
  return clientNumber(call) || (call.channel.type === 'incoming' ? '' : (call.channel.to?.number ?? ''));
}

function conversations(call: CallFull): Conversation[] {
  return Object.values(call.conversations ?? {});
}

/** The call had a conversation between the client and someone (not stuck in an IVR). */
export function wasAnswered(call: CallFull): boolean {
  return !isMissed(call);
}

/** Kommo call_status codes (Kommo's API documentation). */
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
  const dir = kommoDirection(call);
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
