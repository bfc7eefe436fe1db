/**
 * Incoming ("unsorted") leads from calls: `POST /api/v4/leads/unsorted/sip` creates a
 * hidden lead and hidden contacts; they appear in searches and GETs only after
 * `POST /api/v4/leads/unsorted/{uid}/accept`. Duplicates (same `metadata.uniq`, or a
 * contact phone already known) are rejected or tagged "duplicate", per option.
 */
import { randomBytes } from 'node:crypto';
import { fail, hal, type Ctx, type Reply, type Route } from '../http.js';
import { links, listReply, unsortedView } from '../render.js';
import { last10 } from '../state.js';
import type { Unsorted } from '../types.js';
import {
  arrayBody, checkSchema, checkUser, eachEmbedded, isObj, objectBody, required, requestIdOf, validateItems,
  type Errors, type Obj,
} from '../validate.js';
import { createLead } from './leads.js';
import { checkParty, createParty } from './parties.js';

const METADATA_SCHEMA = {
  uniq: 'string', duration: 'int', service_code: 'string', link: 'string', phone: 'string',
  called_at: 'int', from: 'string', is_call_event_needed: 'bool',
} as const;

function phonesOf(sub: Obj): string[] {
  if (!Array.isArray(sub.custom_fields_values)) return [];
  return (sub.custom_fields_values as Obj[])
    .filter((cf) => cf.field_code === 'PHONE')
    .flatMap((cf) => (Array.isArray(cf.values) ? (cf.values as Obj[]) : []))
    .map((v) => String(v.value));
}

/** Why this item duplicates known data, or undefined. */
function duplicateOf(ctx: Ctx, item: Obj): { path: string; detail: string } | undefined {
  const meta = isObj(item.metadata) ? item.metadata : {};
  if (typeof meta.uniq === 'string' && [...ctx.state.unsorted.values()].some((u) => u.metadata.uniq === meta.uniq)) {
    return { path: 'metadata.uniq', detail: 'An incoming lead with this uniq already exists.' };
  }
  const contacts = isObj(item._embedded) && Array.isArray(item._embedded.contacts) ? (item._embedded.contacts as Obj[]) : [];
  for (const [i, c] of contacts.entries()) {
    for (const phone of phonesOf(c)) {
      const want = last10(phone);
      if (want === '') continue;
      const known = [...ctx.state.contacts.values()].some((k) => !k.is_deleted && (k.custom_fields_values ?? [])
        .some((cf) => cf.field_code === 'PHONE' && cf.values.some((v) => last10(v.value) === want)));
      if (known) return { path: `_embedded.contacts.${i}.custom_fields_values`, detail: 'A contact with this phone already exists.' };
    }
  }
  return undefined;
}

function checkItem(ctx: Ctx, item: Obj, errs: Errors): void {
  checkSchema(item, { source_uid: 'string', source_name: 'string', pipeline_id: 'int', created_at: 'int', metadata: 'object', _embedded: 'object' }, '', errs);
  required(item, ['source_uid', 'source_name', 'metadata'], '', errs);
  if (typeof item.pipeline_id === 'number' && !ctx.state.pipeline(item.pipeline_id)) {
    errs.add('NotSupportedChoice', 'pipeline_id', 'The value you selected is not a valid choice.');
  }
  if (isObj(item.metadata)) {
    checkSchema(item.metadata, METADATA_SCHEMA, 'metadata', errs);
    required(item.metadata, ['uniq', 'duration', 'service_code', 'phone', 'called_at', 'from'], 'metadata', errs);
  }
  const emb = isObj(item._embedded) ? item._embedded : {};
  for (const key of ['leads', 'contacts'] as const) {
    eachEmbedded(errs, emb, key, (sub, se) => {
      if (key === 'contacts') return checkParty(ctx, 'contacts', sub, se);
      checkSchema(sub, { name: 'string', price: 'int', responsible_user_id: 'int', _embedded: 'object' }, '', se);
      checkUser(ctx, sub, 'responsible_user_id', '', se);
    });
  }
  if (errs.empty && ctx.opts.unsortedDuplicates === 'reject') {
    const dup = duplicateOf(ctx, item);
    if (dup) errs.add('Duplicate', dup.path, dup.detail);
  }
}

function createSip(ctx: Ctx): Reply {
  const items = arrayBody(ctx);
  validateItems(items, (item, errs) => checkItem(ctx, item, errs));
  const st = ctx.state;
  const out = items.map((item, i) => {
    const duplicate = duplicateOf(ctx, item) !== undefined;
    const emb = isObj(item._embedded) ? item._embedded : {};
    const pipeline = (typeof item.pipeline_id === 'number' ? st.pipeline(item.pipeline_id) : undefined) ?? st.mainPipeline();
    const contactIds = (Array.isArray(emb.contacts) ? (emb.contacts as Obj[]) : [])
      .map((c) => createParty(ctx, 'contacts', duplicate ? { ...c, tags_to_add: [{ name: 'duplicate' }] } : c, true).id);
    const leadIn = (Array.isArray(emb.leads) ? (emb.leads as Obj[])[0] : undefined) ?? {};
    const lead = createLead(ctx, {
      ...leadIn,
      pipeline_id: pipeline.id,
      _embedded: { contacts: contactIds.map((id) => ({ id })), ...(duplicate ? { tags: [{ name: 'duplicate' }] } : {}) },
    }, { hidden: true, statusId: st.incomingStatus(pipeline).id });
    const u: Unsorted = {
      uid: randomBytes(16).toString('hex'),
      source_uid: item.source_uid as string,
      source_name: item.source_name as string,
      category: 'sip',
      pipeline_id: pipeline.id,
      created_at: typeof item.created_at === 'number' ? item.created_at : st.nowSec(),
      metadata: structuredClone(item.metadata as Obj),
      lead_ids: [lead.id],
      contact_ids: contactIds,
      status: 'pending',
      duplicate,
    };
    st.unsorted.set(u.uid, u);
    return { ...unsortedView(ctx, u), request_id: requestIdOf(item, i) };
  });
  return hal({ _total_items: out.length, _links: links(ctx, '/api/v4/leads/unsorted/sip'), _embedded: { unsorted: out } });
}

function pending(ctx: Ctx): Unsorted {
  const u = ctx.state.unsorted.get(ctx.params.uid ?? '');
  if (!u) fail(404, 'Incoming lead not found');
  if (u.status !== 'pending') fail(400, `Incoming lead is already ${u.status}`);
  return u;
}

function accept(ctx: Ctx): Reply {
  const u = pending(ctx);
  const body = ctx.body === undefined ? {} : objectBody(ctx);
  validateItems([body], (item, errs) => {
    checkSchema(item, { user_id: 'int', status_id: 'int' }, '', errs);
    checkUser(ctx, item, 'user_id', '', errs);
    const p = ctx.state.pipeline(u.pipeline_id);
    if (typeof item.status_id === 'number' && p) {
      const s = ctx.state.status(p, item.status_id);
      if (!s || s.type === 1) errs.add('NotSupportedChoice', 'status_id', 'The status does not belong to the pipeline.');
    }
  });
  const st = ctx.state;
  const pipeline = st.pipeline(u.pipeline_id) ?? st.mainPipeline();
  const statusId = typeof body.status_id === 'number' ? body.status_id : st.firstStatus(pipeline).id;
  for (const id of u.contact_ids) {
    const c = st.contacts.get(id);
    if (c) {
      c.hidden = false;
      if (typeof body.user_id === 'number') c.responsible_user_id = body.user_id;
    }
  }
  for (const id of u.lead_ids) {
    const l = st.leads.get(id);
    if (l) {
      l.hidden = false;
      l.status_id = statusId;
      if (typeof body.user_id === 'number') l.responsible_user_id = body.user_id;
    }
  }
  u.status = 'accepted';
  return hal({
    uid: u.uid, _links: links(ctx, `/api/v4/leads/unsorted/${u.uid}`),
    _embedded: {
      leads: u.lead_ids.map((id) => ({ id, _links: links(ctx, `/api/v4/leads/${id}`) })),
      contacts: u.contact_ids.map((id) => ({ id, _links: links(ctx, `/api/v4/contacts/${id}`) })),
    },
  });
}

function decline(ctx: Ctx): Reply {
  const u = pending(ctx);
  for (const id of u.contact_ids) ctx.state.contacts.delete(id);
  for (const id of u.lead_ids) ctx.state.leads.delete(id);
  u.status = 'declined';
  return hal({ uid: u.uid, _links: links(ctx, `/api/v4/leads/unsorted/${u.uid}`) });
}

function list(ctx: Ctx): Reply {
  const items = [...ctx.state.unsorted.values()].filter((u) => u.status === 'pending').map((u) => unsortedView(ctx, u));
  return listReply(ctx, 'unsorted', items);
}

function getOne(ctx: Ctx): Reply {
  const u = ctx.state.unsorted.get(ctx.params.uid ?? '');
  return u ? hal(unsortedView(ctx, u)) : { status: 204 };
}

export const unsortedRoutes: Route[] = [
  { method: 'GET', pattern: '/api/v4/leads/unsorted', handler: list },
  { method: 'POST', pattern: '/api/v4/leads/unsorted/sip', handler: createSip },
  { method: 'GET', pattern: '/api/v4/leads/unsorted/{uid}', handler: getOne },
  { method: 'POST', pattern: '/api/v4/leads/unsorted/{uid}/accept', handler: accept },
  { method: 'POST', pattern: '/api/v4/leads/unsorted/{uid}/decline', handler: decline },
];
