/**
 * `POST /api/v2/events` — Kommo's "add call notifications" (docs: "Call event" and the
 * reference page "add call notifications"): the popup in the lower left corner of Kommo
 * while a phone rings. Body `{"add": [{"type": "phone_call", "phone_number", "users"}]}`;
 * Kommo finds the contact/company (and its single active lead) by the number itself, or
 * offers to create a contact. The answer is 202 Accepted (the body is not documented
 * beyond "any JSON"); nothing of it is needed.
 *
 * Kommo shows a notification WITHOUT `users` to every user of the account: this module
 * never sends one — an empty list is KOMMO_INVALID_ARGUMENT, never "everybody".
 * Same account, same token, same rate limiter as API v4.
 */
import { KommoError } from './errors.js';
import { callOptions, type EndpointContext, type RequestOptions } from './endpoint.js';
import type { CallNotification } from './types.js';

const PATH = '/api/v2/events';

/** Kommo's items limit per request holds here too. */
const MAX_ITEMS = 250;

function checked(n: CallNotification, i: number): { type: 'phone_call'; phone_number: string; users: number[] } {
  if (typeof n.phone !== 'string' || !/\d/.test(n.phone)) {
    throw new KommoError('KOMMO_INVALID_ARGUMENT', `call notification ${i}: the phone number has no digits`);
  }
  const users = [...new Set(n.users)];
  if (users.length === 0) {
    throw new KommoError('KOMMO_INVALID_ARGUMENT', `call notification ${i}: no users (Kommo would show it to everyone)`);
  }
  for (const u of users) {
    if (!Number.isInteger(u) || u <= 0) throw new KommoError('KOMMO_INVALID_ARGUMENT', `call notification ${i}: user id ${String(u)} is not a positive integer`);
  }
  return { type: 'phone_call', phone_number: n.phone, users };
}

/**
 * Show a ringing call's popup to `users`. Repeating it shows the same popup again and
 * creates nothing, so the request counts as idempotent (429/5xx are retried until the
 * caller's signal — "the phone stopped ringing" — aborts it).
 */
export async function addCallNotifications(ctx: EndpointContext, items: readonly CallNotification[], opts?: RequestOptions): Promise<void> {
  if (items.length === 0) return;
  if (items.length > MAX_ITEMS) throw new KommoError('KOMMO_INVALID_ARGUMENT', `at most ${MAX_ITEMS} call notifications per request, got ${items.length}`);
  const add = items.map((n, i) => checked(n, i));
  await ctx.http.send({ method: 'POST', path: PATH, body: { add }, idempotent: true, ...callOptions(opts) });
}
