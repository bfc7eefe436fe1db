/**
 * Facts about a call read from `call_full` only (pure): direction, client number,
 * who talked, how long, missed or not. The one implementation, used by the tracker's
 * consumers and by registration (lib/domain/registration/call-facts.ts adds only what is
 * registration's own: call_status, lists' inputs).
 *
 * Times: the channels' `extra.*_ms` (Unix ms, set by the tracker) when present, so no
 * time-zone parsing is involved; otherwise (a `call_full` built elsewhere, e.g. from
 * Asterisk's records) the `*_time` strings, read as PBX local time.
 */
import { NO_TIME, type CallFull, type CallTime, type ChannelObject, type Conversation } from './types.js';

export type CallDirection = 'inbound' | 'outbound' | 'internal' | 'unknown';

/** incoming → inbound, outgoing → outbound, local → internal (registered only with `register_internal`). */
export function callDirection(call: CallFull): CallDirection {
  switch (call.channel.type) {
    case 'incoming':
      return 'inbound';
    case 'outgoing':
      return 'outbound';
    case 'local':
      return 'internal';
    default:
      return 'unknown';
  }
}

/** An internal ext-to-ext call: registration skips it unless `registration.register_internal`. */
export function isInternal(call: CallFull): boolean {
  return call.channel.type === 'local';
}

/** The client's number: the caller of an incoming call, the dialled number of an outgoing one, '' for internal calls. */
export function clientNumber(call: CallFull): string {
  if (call.channel.type === 'incoming') return call.channel.from.number;
  if (call.channel.type === 'outgoing') return call.channel.to.number;
  return '';
}

/** `YYYY-MM-DD HH:MM:SS` (PBX local time) → Unix ms, or null when it has not happened. */
export function parseCallTime(value: CallTime | undefined): number | null {
  if (!value || value === NO_TIME) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const t = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime();
  return Number.isFinite(t) ? t : null;
}

const TIME_FIELD = { start_ms: 'start_time', answer_ms: 'answer_time', end_ms: 'end_time' } as const;

/** A channel's start/answer/end in Unix ms: `extra.*_ms`, else the time string; 0 = not happened. */
export function channelMs(ch: ChannelObject, key: 'start_ms' | 'answer_ms' | 'end_ms'): number {
  const v = ch.extra?.[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return parseCallTime(ch[TIME_FIELD[key]]) ?? 0;
}

function conversations(call: CallFull): Conversation[] {
  return Object.values(call.conversations ?? {});
}

/**
 * The employee's conversation: the one with a Kommo user that was answered
 * last; else the last one that rang at a Kommo user; else the last answered /
 * rung conversation at all. Undefined when no phone ever rang.
 * (Who *talked*: `talkedConversation`.)
 */
export function employeeConversation(call: CallFull): Conversation | undefined {
  const all = conversations(call);
  const pick = (list: Conversation[], key: 'answer_ms' | 'start_ms'): Conversation | undefined => {
    let best: Conversation | undefined;
    for (const c of list) if (!best || channelMs(c.channel, key) >= channelMs(best.channel, key)) best = c;
    return best;
  };
  const withUser = all.filter((c) => c.user !== null);
  return (
    pick(withUser.filter((c) => c.channel.was_answered), 'answer_ms') ??
    pick(withUser, 'start_ms') ??
    pick(all.filter((c) => c.channel.was_answered), 'answer_ms') ??
    pick(all, 'start_ms')
  );
}

/** The conversation in which a known Kommo user really talked (answered), or undefined. */
export function talkedConversation(call: CallFull): Conversation | undefined {
  if (call.is_ivr) return undefined;
  const c = employeeConversation(call);
  return c && c.user && c.channel.was_answered ? c : undefined;
}

/** The last conversation (by start) that rang at a known Kommo user. */
export function lastRungConversation(call: CallFull): Conversation | undefined {
  let best: Conversation | undefined;
  for (const c of conversations(call)) {
    if (c.user && (!best || channelMs(c.channel, 'start_ms') >= channelMs(best.channel, 'start_ms'))) best = c;
  }
  return best;
}

/** A missed incoming or an unanswered outgoing call (also: missed in the IVR). */
export function isMissed(call: CallFull): boolean {
  return call.result !== 200 || call.is_ivr;
}

/**
 * Seconds of the last answered conversation (answer → end), 0 when nobody answered.
 * Without recorded conversations, the primary channel's own answer → end.
 */
export function lastConversationDuration(call: CallFull): number {
  if (isMissed(call)) return 0;
  const all = conversations(call);
  let best: ChannelObject | undefined;
  for (const ch of all.length > 0 ? all.map((c) => c.channel) : [call.channel]) {
    if (!ch.was_answered) continue;
    if (!best || channelMs(ch, 'answer_ms') >= channelMs(best, 'answer_ms')) best = ch;
  }
  if (!best) return 0;
  const end = channelMs(best, 'end_ms') || channelMs(call.channel, 'end_ms');
  const answer = channelMs(best, 'answer_ms');
  return answer > 0 && end > answer ? Math.round((end - answer) / 1000) : 0;
}
