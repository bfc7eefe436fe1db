/**
 * Leads: list/search, get, create, update, link contacts/companies, and the complex
 * create (lead + contact + company in one request, answered by a bare array).
 */
import { hal, type Ctx, type Reply, type Route } from '../http.js';
import { leadView, links, listReply } from '../render.js';
import type { Lead } from '../types.js';
import {
  arrayBody, checkRefs, eachEmbedded, filterValues, isObj, objectBody, oneOf, required, requestIdOf, typeOk,
  validateItems, withSet, type Errors, type Obj,
} from '../validate.js';
import { applyTags, checkCommon, checkPatchId, listFilter, missing, newEntityBase, pathEntity } from './common.js';
import { checkParty, createParty } from './parties.js';

const LEAD_SCHEMA = { price: 'int', status_id: 'int', pipeline_id: 'int', closed_at: 'int', loss_reason_id: 'int' } as const;

/** Lead body checks; `current` is the lead being patched (its pipeline applies). */
function checkLead(ctx: Ctx, item: Obj, errs: Errors, current?: Lead): void {
  checkCommon(ctx, 'leads', item, errs, LEAD_SCHEMA);
  const st = ctx.state;
  let pipeline = current ? st.pipeline(current.pipeline_id) : st.mainPipeline();
  if (typeof item.pipeline_id === 'number') {
    pipeline = st.pipeline(item.pipeline_id);
    if (!pipeline) errs.add('NotSupportedChoice', 'pipeline_id', 'The value you selected is not a valid choice.');
  }
  if (typeof item.status_id === 'number' && pipeline) {
    const status = st.status(pipeline, item.status_id);
    if (!status || status.type === 1) errs.add('NotSupportedChoice', 'status_id', 'The status does not belong to the pipeline.');
  }
  if (isObj(item._embedded)) {
    checkRefs(ctx, 'contacts', item._embedded.contacts, '_embedded.contacts', errs);
    checkRefs(ctx, 'companies', item._embedded.companies, '_embedded.companies', errs);
  }
}

/** Create a lead from a validated body item. */
export function createLead(ctx: Ctx, item: Obj, opts: { hidden?: boolean; statusId?: number } = {}): Lead {
  const st = ctx.state;
  const now = st.nowSec();
  const pipeline = (typeof item.pipeline_id === 'number' ? st.pipeline(item.pipeline_id) : undefined) ?? st.mainPipeline();
  const statusId = opts.statusId ?? (typeof item.status_id === 'number' ? item.status_id : st.firstStatus(pipeline).id);
  const emb = isObj(item._embedded) ? item._embedded : {};
  const contactIds = Array.isArray(emb.contacts) ? (emb.contacts as Obj[]).map((c) => c.id).filter((id): id is number => typeof id === 'number') : [];
  const companyIds = Array.isArray(emb.companies) ? (emb.companies as Obj[]).map((c) => c.id).filter((id): id is number => typeof id === 'number') : [];
  const cfv = Array.isArray(item.custom_fields_values) ? st.fieldValues('leads', item.custom_fields_values as never) : [];
  const lead: Lead = {
    id: st.nextId('leads'),
    name: typeof item.name === 'string' ? item.name : '',
    price: typeof item.price === 'number' ? item.price : 0,
    ...newEntityBase(ctx, item, now, cfv, opts.hidden ?? false),
    status_id: statusId, pipeline_id: pipeline.id,
    closed_at: statusId === 142 || statusId === 143 ? now : null,
    contact_ids: contactIds, company_id: companyIds[0] ?? null,
  };
  applyTags(ctx, lead, item);
  st.leads.set(lead.id, lead);
  return lead;
}

function updateLead(ctx: Ctx, lead: Lead, item: Obj): void {
  const st = ctx.state;
  if (typeof item.name === 'string') lead.name = item.name;
  if (typeof item.price === 'number') lead.price = item.price;
  if (typeof item.responsible_user_id === 'number') lead.responsible_user_id = item.responsible_user_id;
  if (typeof item.pipeline_id === 'number' && item.pipeline_id !== lead.pipeline_id) {
    const p = st.pipeline(item.pipeline_id);
    if (p) {
      lead.pipeline_id = p.id;
      if (typeof item.status_id !== 'number') lead.status_id = st.firstStatus(p).id;
    }
  }
  if (typeof item.status_id === 'number') {
    lead.status_id = item.status_id;
    lead.closed_at = item.status_id === 142 || item.status_id === 143 ? st.nowSec() : null;
  }
  if (Array.isArray(item.custom_fields_values)) {
    lead.custom_fields_values = st.mergeFieldValues(lead.custom_fields_values, st.fieldValues('leads', item.custom_fields_values as never));
  }
  applyTags(ctx, lead, item);
  lead.updated_by = typeof item.updated_by === 'number' ? item.updated_by : ctx.userId;
  lead.updated_at = typeof item.updated_at === 'number' ? item.updated_at : st.nowSec();
}

function list(ctx: Ctx): Reply {
  const withs = withSet(ctx);
  let found = listFilter(ctx, ctx.state.leads.values(), (n) => filterValues(ctx, n));
  const statuses = filterValues(ctx, 'status_id');
  if (statuses.length > 0) found = found.filter((l) => statuses.includes(String(l.status_id)));
  const pipes = filterValues(ctx, 'pipeline_id');
  if (pipes.length > 0) found = found.filter((l) => pipes.includes(String(l.pipeline_id)));
  return listReply(ctx, 'leads', found.map((l) => leadView(ctx, l, withs)));
}

function getOne(ctx: Ctx): Reply {
  const l = ctx.state.leads.get(Number(ctx.params.id));
  if (!l || l.hidden || l.is_deleted) return missing(ctx);
  return hal(leadView(ctx, l, withSet(ctx)));
}

function create(ctx: Ctx): Reply {
  const items = arrayBody(ctx);
  validateItems(items, (item, errs) => checkLead(ctx, item, errs));
  const created = items.map((item, i) => {
    const l = createLead(ctx, item);
    return { id: l.id, request_id: requestIdOf(item, i), _links: links(ctx, `/api/v4/leads/${l.id}`) };
  });
  return hal({ _links: links(ctx, '/api/v4/leads'), _embedded: { leads: created } });
}

function patchMany(ctx: Ctx): Reply {
  const items = arrayBody(ctx);
  validateItems(items, (item, errs) => {
    checkPatchId(ctx, ctx.state.leads, item, errs);
    checkLead(ctx, item, errs, typeof item.id === 'number' ? ctx.state.leads.get(item.id) : undefined);
  });
  const updated = items.map((item, i) => {
    const l = ctx.state.leads.get(item.id as number) as Lead;
    updateLead(ctx, l, item);
    return { id: l.id, updated_at: l.updated_at, request_id: requestIdOf(item, i), _links: links(ctx, `/api/v4/leads/${l.id}`) };
  });
  return hal({ _links: links(ctx, '/api/v4/leads'), _embedded: { leads: updated } });
}

function patchOne(ctx: Ctx): Reply {
  const lead = pathEntity(ctx, ctx.state.leads);
  const item = objectBody(ctx);
  validateItems([item], (it, errs) => {
    if (it.id !== undefined && it.id !== lead.id) errs.add('NotSupportedChoice', 'id', 'id differs from the path.');
    checkLead(ctx, it, errs, lead);
  });
  updateLead(ctx, lead, item);
  return hal({ id: lead.id, updated_at: lead.updated_at, _links: links(ctx, `/api/v4/leads/${lead.id}`) });
}

function link(ctx: Ctx): Reply {
  const lead = pathEntity(ctx, ctx.state.leads);
  const items = arrayBody(ctx);
  validateItems(items, (item, errs) => {
    required(item, ['to_entity_id', 'to_entity_type'], '', errs);
    oneOf(item, 'to_entity_type', ['contacts', 'companies'], '', errs);
    if (item.to_entity_id !== undefined && !typeOk(item.to_entity_id, 'int')) {
      errs.add('InvalidType', 'to_entity_id', 'This value should be of type int.');
    } else if (typeof item.to_entity_id === 'number' && (item.to_entity_type === 'contacts' || item.to_entity_type === 'companies')
      && !ctx.state.entityExists(item.to_entity_type, item.to_entity_id)) {
      errs.add('NotSupportedChoice', 'to_entity_id', 'Entity not found.');
    }
    if (item.metadata !== undefined && !isObj(item.metadata)) errs.add('InvalidType', 'metadata', 'This value should be of type object.');
  });
  const out = items.map((item) => {
    const id = item.to_entity_id as number;
    if (item.to_entity_type === 'contacts') {
      const main = isObj(item.metadata) && item.metadata.main_contact === true;
      lead.contact_ids = lead.contact_ids.filter((c) => c !== id);
      if (main) lead.contact_ids.unshift(id);
      else lead.contact_ids.push(id);
    } else {
      lead.company_id = id;
    }
    return { entity_id: lead.id, entity_type: 'leads', to_entity_id: id, to_entity_type: item.to_entity_type, metadata: item.metadata ?? null };
  });
  lead.updated_at = ctx.state.nowSec();
  return hal({ _total_items: out.length, _links: links(ctx, `/api/v4/leads/${lead.id}/link`), _embedded: { links: out } });
}

function complex(ctx: Ctx): Reply {
  const items = arrayBody(ctx);
  validateItems(items, (item, errs) => {
    const emb = isObj(item._embedded) ? item._embedded : {};
    checkLead(ctx, { ...item, _embedded: { tags: emb.tags } }, errs);
    for (const type of ['contacts', 'companies'] as const) {
      eachEmbedded(errs, emb, type, (sub, se) => {
        if (sub.id !== undefined) {
          if (!typeOk(sub.id, 'int')) se.add('InvalidType', 'id', 'This value should be of type int.');
          else if (!ctx.state.entityExists(type, sub.id as number)) se.add('NotSupportedChoice', 'id', 'Entity not found.');
          return;
        }
        checkParty(ctx, type, sub, se);
      });
    }
  });
  const out = items.map((item, i) => {
    const emb = isObj(item._embedded) ? item._embedded : {};
    const pick = (type: 'contacts' | 'companies'): number | null => {
      const sub = Array.isArray(emb[type]) ? (emb[type] as Obj[])[0] : undefined;
      if (!sub) return null;
      return typeof sub.id === 'number' ? sub.id : createParty(ctx, type, sub).id;
    };
    const companyId = pick('companies');
    const contactId = pick('contacts');
    if (contactId !== null && companyId !== null) {
      const c = ctx.state.contacts.get(contactId);
      if (c && !c.company_ids.includes(companyId)) c.company_ids.push(companyId);
    }
    const lead = createLead(ctx, {
      ...item,
      _embedded: {
        tags: emb.tags,
        contacts: contactId === null ? [] : [{ id: contactId }],
        companies: companyId === null ? [] : [{ id: companyId }],
      },
    });
    return { id: lead.id, contact_id: contactId, company_id: companyId, request_id: requestIdOf(item, i), merged: false };
  });
  return hal(out);
}

export const leadRoutes: Route[] = [
  { method: 'GET', pattern: '/api/v4/leads', handler: list },
  { method: 'POST', pattern: '/api/v4/leads', handler: create },
  { method: 'PATCH', pattern: '/api/v4/leads', handler: patchMany },
  { method: 'POST', pattern: '/api/v4/leads/complex', handler: complex },
  { method: 'GET', pattern: '/api/v4/leads/{id}', handler: getOne },
  { method: 'PATCH', pattern: '/api/v4/leads/{id}', handler: patchOne },
  { method: 'POST', pattern: '/api/v4/leads/{id}/link', handler: link },
];
