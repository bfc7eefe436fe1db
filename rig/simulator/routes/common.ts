/**
 * Pieces shared by the contact, company and lead endpoints: the common body checks,
 * tags, the full-text `query` match, and the "missing entity" answer.
 */
import { fail, type Ctx, type Reply } from '../http.js';
import { digitsOf } from '../state.js';
import type { Company, Contact, CustomFieldValue, Lead, Tag } from '../types.js';
import {
  checkCustomFields, checkSchema, checkTags, checkUser, isObj, type Errors, type Kind, type Obj,
} from '../validate.js';

export const COMMON_SCHEMA: Record<string, Kind> = {
  id: 'int', name: 'string', responsible_user_id: 'int', created_by: 'int', updated_by: 'int',
  created_at: 'int', updated_at: 'int', custom_fields_values: 'array', _embedded: 'object',
  tags_to_add: 'array', tags_to_delete: 'array',
};

/** Checks every entity body shares; `embedded` lists the extra `_embedded` keys allowed. */
export function checkCommon(ctx: Ctx, entity: 'contacts' | 'companies' | 'leads', item: Obj, errs: Errors,
  schema: Record<string, Kind>): void {
  checkSchema(item, { ...COMMON_SCHEMA, ...schema }, '', errs);
  checkUser(ctx, item, 'responsible_user_id', '', errs);
  checkUser(ctx, item, 'created_by', '', errs, true);
  checkUser(ctx, item, 'updated_by', '', errs, true);
  checkCustomFields(ctx.state, entity, item.custom_fields_values, 'custom_fields_values', errs);
  checkTags(item.tags_to_add, 'tags_to_add', errs);
  checkTags(item.tags_to_delete, 'tags_to_delete', errs);
  if (isObj(item._embedded)) checkTags(item._embedded.tags, '_embedded.tags', errs);
}

/** Patch targets: `id` required and naming a visible entity. */
export function checkPatchId(ctx: Ctx, map: Map<number, Contact | Company | Lead>, item: Obj, errs: Errors): void {
  if (item.id === undefined) {
    errs.add('NotBlank', 'id', 'This value should not be blank.');
    return;
  }
  if (typeof item.id !== 'number') return;
  const e = map.get(item.id);
  if (!e || e.hidden || e.is_deleted) errs.add('NotFound', 'id', 'Entity not found.');
}

function resolveTags(ctx: Ctx, list: unknown): Tag[] {
  if (!Array.isArray(list)) return [];
  const out: Tag[] = [];
  for (const t of list) {
    if (!isObj(t)) continue;
    let tag: Tag | undefined;
    if (typeof t.name === 'string') tag = ctx.state.tag(t.name);
    else if (typeof t.id === 'number') tag = [...ctx.state.tags.values()].find((x) => x.id === t.id);
    if (tag && !out.some((x) => x.id === tag.id)) out.push(tag);
  }
  return out;
}

/** Apply `_embedded.tags` (replace), `tags_to_add`, `tags_to_delete`. */
/**
 * The fields every created contact, company and lead shares: people and times
 * from the body when given (Kommo accepts them), else the token's user and now.
 */
export function newEntityBase(ctx: Ctx, item: Obj, now: number, cfv: CustomFieldValue[], hidden: boolean) {
  const userOr = (key: string): number => (typeof item[key] === 'number' ? (item[key] as number) : ctx.userId);
  const timeOr = (key: string): number => (typeof item[key] === 'number' ? (item[key] as number) : now);
  return {
    responsible_user_id: userOr('responsible_user_id'),
    group_id: 0,
    created_by: userOr('created_by'),
    updated_by: userOr('updated_by'),
    created_at: timeOr('created_at'),
    updated_at: timeOr('updated_at'),
    is_deleted: false,
    custom_fields_values: cfv.length > 0 ? cfv : null,
    tags: [] as Tag[],
    hidden,
  };
}

export function applyTags(ctx: Ctx, e: { tags: Tag[] }, item: Obj): void {
  if (isObj(item._embedded) && item._embedded.tags !== undefined) e.tags = resolveTags(ctx, item._embedded.tags);
  for (const t of resolveTags(ctx, item.tags_to_add)) if (!e.tags.some((x) => x.id === t.id)) e.tags.push(t);
  const del = resolveTags(ctx, item.tags_to_delete);
  e.tags = e.tags.filter((t) => !del.some((d) => d.id === t.id));
}

/**
 * Kommo's full-text `query`: a substring of the name or of any custom field value; a
 * numeric query (digits with + ( ) - . spaces) also matches the digits of any value.
 * Phones are not special: a number inside a comment or another field matches too.
 */
export function matchesQuery(e: Contact | Company | Lead, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (q === '') return true;
  const hay: string[] = [e.name, ...('first_name' in e ? [e.first_name, e.last_name] : [])];
  for (const cf of e.custom_fields_values ?? []) for (const v of cf.values) hay.push(String(v.value));
  const lower = hay.map((h) => h.toLowerCase());
  if (lower.some((h) => h.includes(q))) return true;
  if (/^[\d\s+().-]+$/.test(q)) {
    const qd = digitsOf(q);
    if (qd.length > 0) return lower.some((h) => digitsOf(h).includes(qd));
  }
  return String(e.id) === q;
}

/** Filter, order and return the visible entities of a list request. */
export function listFilter<T extends Contact | Company | Lead>(ctx: Ctx, all: Iterable<T>,
  filterValues: (name: string) => string[]): T[] {
  let list = [...all].filter((e) => !e.hidden && !e.is_deleted);
  const query = ctx.query.get('query');
  if (query !== null) list = list.filter((e) => matchesQuery(e, query));
  const ids = filterValues('id');
  if (ids.length > 0) list = list.filter((e) => ids.includes(String(e.id)));
  const resp = filterValues('responsible_user_id');
  if (resp.length > 0) list = list.filter((e) => resp.includes(String(e.responsible_user_id)));
  for (const key of ['id', 'created_at', 'updated_at'] as const) {
    const dir = ctx.query.get(`order[${key}]`);
    if (dir === null) continue;
    if (dir !== 'asc' && dir !== 'desc') fail(400, `order[${key}] must be asc or desc`);
    list.sort((a, b) => (dir === 'asc' ? a[key] - b[key] : b[key] - a[key]));
  }
  return list;
}

/** What GET of an unknown or hidden entity answers. */
export function missing(ctx: Ctx): Reply {
  if (ctx.opts.missingEntityStatus === 404) fail(404, 'Entity not found');
  return { status: 204 };
}

/** The id from the path for PATCH/POST on one entity: 404 if unknown or hidden. */
export function pathEntity<T extends Contact | Company | Lead>(ctx: Ctx, map: Map<number, T>): T {
  const e = map.get(Number(ctx.params.id));
  if (!e || e.hidden || e.is_deleted) fail(404, 'Entity not found');
  return e;
}
