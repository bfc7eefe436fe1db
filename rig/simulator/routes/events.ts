/**
 * `POST /api/v2/events` — Kommo's "add call notifications": `{"add": [{"type": "phone_call",
 * "phone_number", "users"?}]}` shows the popup of a ringing call to `users` (Kommo: to
 * every user when `users` is absent). Kommo finds what to show by the number: the
 * contact/company's single active lead, else the contact/company, else an offer to
 * create a contact. Answers 202 Accepted with an empty JSON object.
 *
 * Strict like the v4 endpoints: a body that is not an object with an `add` array is a
 * plain 400; more than 250 items 422; item errors a 400 with `validation-errors`
 * (`NotBlank` type/phone_number, `NotSupportedChoice` type other than `phone_call` or an
 * unknown/deactivated user, `InvalidType`, `NotNullable`). An empty `users` list is
 * refused with `NotBlank` (Kommo's behaviour there is undocumented; the connector never
 * sends one). Every shown popup is recorded in `state.notifications` (`/__sim/notifications`).
 */
import { fail, hal, type Ctx, type Reply, type Route } from '../http.js';
import { digitsOf } from '../state.js';
import type { CallNotificationRecord } from '../types.js';
import { checkSchema, checkUser, isObj, join, MAX_ITEMS, oneOf, required, validateItems, type Errors, type Obj } from '../validate.js';
import { callTarget } from './calls.js';

const ITEM_SCHEMA = { type: 'string', phone_number: 'string', users: 'array' } as const;

function checkItem(ctx: Ctx, item: Obj, errs: Errors): void {
  checkSchema(item, ITEM_SCHEMA, '', errs);
  required(item, ['type', 'phone_number'], '', errs);
  oneOf(item, 'type', ['phone_call'], '', errs);
  if (typeof item.phone_number === 'string' && digitsOf(item.phone_number) === '') {
    errs.add('InvalidType', 'phone_number', 'This value should contain a phone number.');
  }
  if (!Array.isArray(item.users)) return;
  if (item.users.length === 0) errs.add('NotBlank', 'users', 'This value should not be blank.');
  item.users.forEach((u, i) => {
    const path = join('users', String(i));
    if (typeof u !== 'number' || !Number.isInteger(u)) {
      errs.add('InvalidType', path, 'This value should be of type int.');
      return;
    }
    checkUser(ctx, { [path]: u }, path, '', errs);
  });
}

/** What the popup shows for this number (Kommo's priority), or null: "create a contact". */
function shownFor(ctx: Ctx, phone: string): CallNotificationRecord['shown'] {
  const target = callTarget(ctx, phone);
  if (!target) return null;
  const st = ctx.state;
  const entity = target.entity_type === 'leads' ? st.leads.get(target.entity_id)
    : target.entity_type === 'contacts' ? st.contacts.get(target.entity_id) : st.companies.get(target.entity_id);
  return { entity_type: target.entity_type, entity_id: target.entity_id, name: entity?.name ?? '' };
}

function addEvents(ctx: Ctx): Reply {
  const body = ctx.body;
  if (body === undefined) fail(400, 'Request body is empty');
  if (!isObj(body) || !Array.isArray(body.add)) fail(400, 'Request body must be a JSON object with an "add" array');
  const items = body.add as unknown[];
  if (items.length === 0) fail(400, '"add" must not be an empty array');
  if (items.length > MAX_ITEMS) fail(422, `Too many items in one request: ${items.length}, at most ${MAX_ITEMS}`);
  validateItems(items.map((x) => (isObj(x) ? x : { __not_an_object: x })), (item, errs) => {
    if ('__not_an_object' in item) {
      errs.add('InvalidType', '', 'This value should be of type object.');
      return;
    }
    checkItem(ctx, item, errs);
  });
  const st = ctx.state;
  const at = st.nowMs();
  for (const raw of items as Obj[]) {
    const users = Array.isArray(raw.users) ? (raw.users as number[]) : st.users.filter((u) => u.rights.is_active).map((u) => u.id);
    const phone = raw.phone_number as string;
    st.notifications.push({
      id: st.notifications.length + 1, at, phone_number: phone, users: [...users],
      user_names: users.map((id) => st.user(id)?.name ?? String(id)), to_everyone: !Array.isArray(raw.users),
      shown: shownFor(ctx, phone),
    });
  }
  return hal({}, 202);
}

export const eventRoutes: Route[] = [
  { method: 'POST', pattern: '/api/v2/events', handler: addEvents },
];
