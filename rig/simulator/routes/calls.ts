/**
 * `POST /api/v4/calls`: match the last 10 digits of `phone` against visible contacts'
 * and companies' PHONE values (contacts first, lowest id first); put the call on the
 * single active lead of that entity, else on the entity itself, as a call_in/call_out
 * note. Items that match go to `_embedded.calls`, the others to `errors` ("Entity not
 * found"); when none matches the answer is 400. Kommo does not de-duplicate by `uniq`.
 */
import { hal, PROBLEM, type Ctx, type Reply, type Route } from '../http.js';
import type { Call, EntityType, Note } from '../types.js';
import { arrayBody, checkSchema, checkUser, oneOf, required, requestIdOf, validateItems, type Errors, type Obj } from '../validate.js';

const CALL_SCHEMA = {
  direction: 'string', duration: 'int', source: 'string', phone: 'string', uniq: 'string', link: 'string',
  call_result: 'string', call_status: 'int', responsible_user_id: 'int', created_by: 'int', created_at: 'int',
  updated_by: 'int', updated_at: 'int',
} as const;

function checkCall(ctx: Ctx, item: Obj, errs: Errors): void {
  checkSchema(item, CALL_SCHEMA, '', errs);
  required(item, ['direction', 'duration', 'source', 'phone'], '', errs);
  oneOf(item, 'direction', ['inbound', 'outbound'], '', errs);
  oneOf(item, 'call_status', [1, 2, 3, 4, 5, 6, 7], '', errs);
  if (typeof item.duration === 'number' && item.duration < 0) errs.add('InvalidType', 'duration', 'duration must not be negative.');
  if (item.call_responsible !== undefined && typeof item.call_responsible !== 'string' && typeof item.call_responsible !== 'number') {
    errs.add('InvalidType', 'call_responsible', 'This value should be of type string or int.');
  }
  if (typeof item.call_responsible === 'number') checkUser(ctx, item, 'call_responsible', '', errs);
  checkUser(ctx, item, 'responsible_user_id', '', errs);
  checkUser(ctx, item, 'created_by', '', errs, true);
}

/** Where a call with this phone would go, or undefined when nothing matches. */
export function callTarget(ctx: Ctx, phone: string): { entity_type: EntityType; entity_id: number; responsible: number } | undefined {
  const hits = ctx.state.findByPhone(phone);
  const hit = hits.find((h) => h.type === 'contacts') ?? hits[0];
  if (!hit) return undefined;
  const active = ctx.state.leadsOf(hit.type, hit.entity.id).filter((l) => ctx.state.isActiveLead(l));
  const lead = active.length === 1 ? active[0] : undefined;
  if (lead) return { entity_type: 'leads', entity_id: lead.id, responsible: lead.responsible_user_id };
  return { entity_type: hit.type, entity_id: hit.entity.id, responsible: hit.entity.responsible_user_id };
}

function createCalls(ctx: Ctx): Reply {
  const items = arrayBody(ctx);
  validateItems(items, (item, errs) => checkCall(ctx, item, errs));
  const st = ctx.state;
  const calls: Array<Record<string, unknown>> = [];
  const errors: Array<Record<string, unknown>> = [];
  items.forEach((item, i) => {
    const requestId = requestIdOf(item, i);
    const target = callTarget(ctx, item.phone as string);
    if (!target) {
      errors.push({ request_id: requestId, title: 'Entity not found', type: 'https://httpstatus.es/404', status: 404,
        detail: `No contact or company with phone ${String(item.phone)}` });
      return;
    }
    const now = st.nowSec();
    const id = st.nextId('notes');
    const note: Note = {
      id, entity_id: target.entity_id, entity_type: target.entity_type,
      note_type: item.direction === 'inbound' ? 'call_in' : 'call_out',
      params: {
        uniq: item.uniq ?? '', duration: item.duration, source: item.source, link: item.link ?? '',
        phone: item.phone, call_result: item.call_result ?? '', call_status: item.call_status ?? null,
      },
      responsible_user_id: typeof item.responsible_user_id === 'number' ? item.responsible_user_id : target.responsible,
      created_by: typeof item.created_by === 'number' ? item.created_by : 0,
      created_at: typeof item.created_at === 'number' ? item.created_at : now,
    };
    st.notes.set(id, note);
    const call: Call = {
      id, note_id: id, entity_id: target.entity_id, entity_type: target.entity_type, request_id: requestId,
      body: structuredClone(item), created_at: note.created_at,
    };
    st.calls.push(call);
    calls.push({
      id, entity_id: target.entity_id, entity_type: target.entity_type, account_id: st.account.id, request_id: requestId,
      _links: { self: { href: `${ctx.baseUrl}/api/v4/${target.entity_type}/${target.entity_id}/notes/${id}` } },
    });
  });
  const body = { _total_items: calls.length, errors, _embedded: { calls } };
  if (calls.length === 0) return { status: 400, body, contentType: PROBLEM };
  return hal(body);
}

export const callRoutes: Route[] = [
  { method: 'POST', pattern: '/api/v4/calls', handler: createCalls },
];
