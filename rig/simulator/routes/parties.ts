/**
 * Contacts and companies: list/search, get, create, update (batch and single).
 */
import { hal, type Ctx, type Reply, type Route } from '../http.js';
import { companyView, contactView, links, listReply } from '../render.js';
import type { Company, Contact } from '../types.js';
import {
  arrayBody, checkRefs, filterValues, isObj, objectBody, requestIdOf, validateItems, withSet, type Errors, type Obj,
} from '../validate.js';
import { applyTags, checkCommon, checkPatchId, listFilter, missing, newEntityBase, pathEntity } from './common.js';

type PartyType = 'contacts' | 'companies';

const CONTACT_SCHEMA = { first_name: 'string', last_name: 'string' } as const;

function mapOf(ctx: Ctx, type: PartyType): Map<number, Contact | Company> {
  return type === 'contacts' ? ctx.state.contacts : ctx.state.companies;
}

function view(ctx: Ctx, type: PartyType, e: Contact | Company, withs: ReadonlySet<string>): Record<string, unknown> {
  return type === 'contacts' ? contactView(ctx, e as Contact, withs) : companyView(ctx, e, withs);
}

export function checkParty(ctx: Ctx, type: PartyType, item: Obj, errs: Errors): void {
  checkCommon(ctx, type, item, errs, type === 'contacts' ? CONTACT_SCHEMA : {});
  if (type === 'contacts' && isObj(item._embedded)) checkRefs(ctx, 'companies', item._embedded.companies, '_embedded.companies', errs);
}

/** Create a contact/company from a validated body item. */
export function createParty(ctx: Ctx, type: PartyType, item: Obj, hidden = false): Contact | Company {
  const st = ctx.state;
  const now = st.nowSec();
  const first = typeof item.first_name === 'string' ? item.first_name : '';
  const last = typeof item.last_name === 'string' ? item.last_name : '';
  const name = typeof item.name === 'string' ? item.name : [first, last].filter(Boolean).join(' ');
  const cfv = Array.isArray(item.custom_fields_values) ? st.fieldValues(type, item.custom_fields_values as never) : [];
  const base = {
    id: st.nextId(type), name,
    ...newEntityBase(ctx, item, now, cfv, hidden),
  };
  if (type === 'contacts') {
    const companies = isObj(item._embedded) && Array.isArray(item._embedded.companies)
      ? (item._embedded.companies as Obj[]).map((c) => c.id as number) : [];
    const c: Contact = { ...base, first_name: first, last_name: last, company_ids: companies };
    applyTags(ctx, c, item);
    st.contacts.set(c.id, c);
    return c;
  }
  const c: Company = { ...base };
  applyTags(ctx, c, item);
  st.companies.set(c.id, c);
  return c;
}

function updateParty(ctx: Ctx, type: PartyType, e: Contact | Company, item: Obj): void {
  const st = ctx.state;
  if (typeof item.name === 'string') e.name = item.name;
  if (type === 'contacts') {
    const c = e as Contact;
    if (typeof item.first_name === 'string') c.first_name = item.first_name;
    if (typeof item.last_name === 'string') c.last_name = item.last_name;
    if (isObj(item._embedded) && Array.isArray(item._embedded.companies)) {
      c.company_ids = (item._embedded.companies as Obj[]).map((x) => x.id as number);
    }
  }
  if (typeof item.responsible_user_id === 'number') e.responsible_user_id = item.responsible_user_id;
  if (Array.isArray(item.custom_fields_values)) {
    e.custom_fields_values = st.mergeFieldValues(e.custom_fields_values, st.fieldValues(type, item.custom_fields_values as never));
  }
  applyTags(ctx, e, item);
  e.updated_by = typeof item.updated_by === 'number' ? item.updated_by : ctx.userId;
  e.updated_at = typeof item.updated_at === 'number' ? item.updated_at : st.nowSec();
}

function list(type: PartyType) {
  return (ctx: Ctx): Reply => {
    const withs = withSet(ctx);
    const found = listFilter(ctx, mapOf(ctx, type).values(), (n) => filterValues(ctx, n));
    return listReply(ctx, type, found.map((e) => view(ctx, type, e, withs)));
  };
}

function getOne(type: PartyType) {
  return (ctx: Ctx): Reply => {
    const e = mapOf(ctx, type).get(Number(ctx.params.id));
    if (!e || e.hidden || e.is_deleted) return missing(ctx);
    return hal(view(ctx, type, e, withSet(ctx)));
  };
}

function create(type: PartyType) {
  return (ctx: Ctx): Reply => {
    const items = arrayBody(ctx);
    validateItems(items, (item, errs) => checkParty(ctx, type, item, errs));
    const created = items.map((item, i) => {
      const e = createParty(ctx, type, item);
      return {
        id: e.id, is_deleted: false, ...(type === 'contacts' ? { is_unsorted: false } : {}),
        request_id: requestIdOf(item, i), _links: links(ctx, `/api/v4/${type}/${e.id}`),
      };
    });
    return hal({ _links: links(ctx, `/api/v4/${type}`), _embedded: { [type]: created } });
  };
}

function patchMany(type: PartyType) {
  return (ctx: Ctx): Reply => {
    const items = arrayBody(ctx);
    const map = mapOf(ctx, type);
    validateItems(items, (item, errs) => {
      checkPatchId(ctx, map, item, errs);
      checkParty(ctx, type, item, errs);
    });
    const updated = items.map((item, i) => {
      const e = map.get(item.id as number) as Contact | Company;
      updateParty(ctx, type, e, item);
      return { id: e.id, name: e.name, updated_at: e.updated_at, request_id: requestIdOf(item, i), _links: links(ctx, `/api/v4/${type}/${e.id}`) };
    });
    return hal({ _links: links(ctx, `/api/v4/${type}`), _embedded: { [type]: updated } });
  };
}

function patchOne(type: PartyType) {
  return (ctx: Ctx): Reply => {
    const e = pathEntity(ctx, mapOf(ctx, type));
    const item = objectBody(ctx);
    validateItems([item], (it, errs) => {
      if (it.id !== undefined && it.id !== e.id) errs.add('NotSupportedChoice', 'id', 'id differs from the path.');
      checkParty(ctx, type, it, errs);
    });
    updateParty(ctx, type, e, item);
    return hal({ id: e.id, name: e.name, updated_at: e.updated_at, _links: links(ctx, `/api/v4/${type}/${e.id}`) });
  };
}

export const partyRoutes: Route[] = (['contacts', 'companies'] as const).flatMap((type): Route[] => [
  { method: 'GET', pattern: `/api/v4/${type}`, handler: list(type) },
  { method: 'POST', pattern: `/api/v4/${type}`, handler: create(type) },
  { method: 'PATCH', pattern: `/api/v4/${type}`, handler: patchMany(type) },
  { method: 'GET', pattern: `/api/v4/${type}/{id}`, handler: getOne(type) },
  { method: 'PATCH', pattern: `/api/v4/${type}/{id}`, handler: patchOne(type) },
]);
