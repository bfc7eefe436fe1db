/**
 * Facts about a finished call that the registration step needs, read from
 * `call_full` only (pure). Times come from the channels' `extra.*_ms`
 * (Unix ms, set by the tracker), so no time-zone parsing is involved.
 */
import type { CallFull, ChannelObject, Conversation } from '../call/types.js';

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

function ms(ch: ChannelObject, key: 'start_ms' | 'answer_ms' | 'end_ms'): number {
  const v = ch.extra[key];
  return typeof v === 'number' ? v : 0;
}

function conversations(call: CallFull): Conversation[] {
  return Object.values(call.conversations);
}

/**
 * The employee's conversation: the one with a Kommo user that was answered
 * last; else the last one that rang at a Kommo user; else the last answered /
 * rung conversation at all. Undefined when no phone ever rang.
 */
export function employeeConversation(call: CallFull): Conversation | undefined {
  const all = conversations(call);
  const pick = (list: Conversation[], key: 'answer_ms' | 'start_ms'): Conversation | undefined => {
    let best: Conversation | undefined;
    for (const c of list) if (!best || ms(c.channel, key) >= ms(best.channel, key)) best = c;
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

/** Seconds of the last answered conversation (answer → end), 0 when nobody answered. */
export function lastConversationDuration(call: CallFull): number {
  let best: ChannelObject | undefined;
  for (const c of conversations(call)) {
    if (!c.channel.was_answered) continue;
    if (!best || ms(c.channel, 'answer_ms') >= ms(best, 'answer_ms')) best = c.channel;
  }
  if (!best) return 0;
  const end = ms(best, 'end_ms') || ms(call.channel, 'end_ms');
  const answer = ms(best, 'answer_ms');
  return end > answer ? Math.round((end - answer) / 1000) : 0;
}

/** A missed incoming or an unanswered outgoing call (also: missed in the IVR). */
export function isMissed(call: CallFull): boolean {
  return call.result !== 200 || call.is_ivr;
}
