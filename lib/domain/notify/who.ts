/**
 * Who gets a popup for a ring (pure): only an inbound call (client → employees), only a
 * conversation at a mapped extension (its `user` is a Kommo user of `pbx.extensions`),
 * only with a client number that is not itself an extension.
 */
import { callDirection, clientNumber } from '../call/facts.js';
import type { CallFull } from '../call/types.js';

export type RingVerdict =
  | { notify: true; userId: number; extension: string; rawPhone: string }
  | { notify: false; reason: 'not_inbound' | 'no_user' | 'no_number' };

export function ringTarget(call: CallFull, conversationId: string | undefined): RingVerdict {
  if (callDirection(call) !== 'inbound') return { notify: false, reason: 'not_inbound' };
  const conv = conversationId === undefined ? undefined : call.conversations[conversationId];
  const user = conv?.user;
  if (!user || !Number.isInteger(user.id) || user.id <= 0) return { notify: false, reason: 'no_user' };
  const rawPhone = clientNumber(call);
  if (rawPhone.trim() === '') return { notify: false, reason: 'no_number' };
  return { notify: true, userId: user.id, extension: user.extension ?? '', rawPhone };
}
