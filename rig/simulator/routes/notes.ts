/**
 * Notes on one lead/contact/company: `POST /api/v4/{entity}/{id}/notes` and its list.
 */
import { fail, hal, type Ctx, type Reply, type Route } from '../http.js';
import { links, listReply, noteView } from '../render.js';
import type { EntityType, Note } from '../types.js';
import {
  arrayBody, checkSchema, checkUser, isObj, oneOf, required, requestIdOf, validateItems, type Errors, type Obj,
} from '../validate.js';

const NOTE_TYPES = [
  'common', 'call_in', 'call_out', 'service_message', 'extended_service_message', 'message_cashier',
  'geolocation', 'sms_in', 'sms_out', 'attachment',
] as const;

const CALL_PARAMS = { uniq: 'string', duration: 'int', source: 'string', link: 'string', phone: 'string', call_result: 'string', call_status: 'int' } as const;

function target(ctx: Ctx): { type: EntityType; id: number } {
  const type = ctx.params.entity as EntityType;
  const id = Number(ctx.params.id);
  if (!ctx.state.entityExists(type, id)) fail(404, 'Entity not found');
  return { type, id };
}

function checkNote(ctx: Ctx, item: Obj, errs: Errors): void {
  checkSchema(item, { note_type: 'string', params: 'object', responsible_user_id: 'int', created_by: 'int', created_at: 'int' }, '', errs);
  required(item, ['note_type'], '', errs);
  oneOf(item, 'note_type', NOTE_TYPES, '', errs);
  checkUser(ctx, item, 'responsible_user_id', '', errs);
  checkUser(ctx, item, 'created_by', '', errs, true);
  if (item.note_type === 'call_in' || item.note_type === 'call_out') {
    required(item, ['params'], '', errs);
    if (isObj(item.params)) {
      checkSchema(item.params, CALL_PARAMS, 'params', errs);
      required(item.params, ['uniq', 'duration', 'source', 'phone'], 'params', errs);
      oneOf(item.params, 'call_status', [1, 2, 3, 4, 5, 6, 7], 'params', errs);
    }
  }
  if (item.note_type === 'common' && isObj(item.params)) checkSchema(item.params, { text: 'string' }, 'params', errs);
}

function store(ctx: Ctx, type: EntityType, items: Obj[], entityOf: (item: Obj) => number): Reply {
  const st = ctx.state;
  const out = items.map((item, i) => {
    const id = entityOf(item);
    const note: Note = {
      id: st.nextId('notes'), entity_id: id, entity_type: type, note_type: item.note_type as string,
      params: isObj(item.params) ? structuredClone(item.params) : {},
      responsible_user_id: typeof item.responsible_user_id === 'number' ? item.responsible_user_id : ctx.userId,
      created_by: typeof item.created_by === 'number' ? item.created_by : ctx.userId,
      created_at: typeof item.created_at === 'number' ? item.created_at : st.nowSec(),
    };
    st.notes.set(note.id, note);
    return { id: note.id, entity_id: id, request_id: requestIdOf(item, i), _links: links(ctx, `/api/v4/${type}/${id}/notes/${note.id}`) };
  });
  return hal({ _links: links(ctx, `/api/v4/${type}/notes`), _embedded: { notes: out } });
}

function create(ctx: Ctx): Reply {
  const { type, id } = target(ctx);
  const items = arrayBody(ctx);
  validateItems(items, (item, errs) => checkNote(ctx, item, errs));
  return store(ctx, type, items, () => id);
}

/** `POST /api/v4/{entity}/notes`: each item names its `entity_id`. */
function createBatch(ctx: Ctx): Reply {
  const type = ctx.params.entity as EntityType;
  const items = arrayBody(ctx);
  validateItems(items, (item, errs) => {
    checkSchema(item, { entity_id: 'int' }, '', errs);
    required(item, ['entity_id'], '', errs);
    if (typeof item.entity_id === 'number' && !ctx.state.entityExists(type, item.entity_id)) {
      errs.add('NotSupportedChoice', 'entity_id', 'Entity not found.');
    }
    checkNote(ctx, item, errs);
  });
  return store(ctx, type, items, (item) => item.entity_id as number);
}

function list(ctx: Ctx): Reply {
  const { type, id } = target(ctx);
  const notes = [...ctx.state.notes.values()].filter((n) => n.entity_type === type && n.entity_id === id);
  return listReply(ctx, 'notes', notes.map((n) => noteView(ctx, n)));
}

export const noteRoutes: Route[] = [
  { method: 'GET', pattern: '/api/v4/{entity}/{id}/notes', handler: list },
  { method: 'POST', pattern: '/api/v4/{entity}/{id}/notes', handler: create },
  { method: 'POST', pattern: '/api/v4/{entity}/notes', handler: createBatch },
];
