/**
 * Strict request validation, the way Kommo answers it: a body of the wrong shape is a
 * plain 400, more than 250 items a 422, and per-item problems a 400 with
 * `validation-errors: [{request_id, errors: [{code, path, detail}]}]`. A batch with any
 * invalid item changes nothing.
 */
import { fail, SimHttpError, validationReply, type Ctx, type FieldError, type ItemErrors } from './http.js';
import type { SimState } from './state.js';

export const MAX_ITEMS = 250;

export type Kind = 'int' | 'number' | 'string' | 'bool' | 'object' | 'array';

const DETAIL: Record<Kind, string> = {
  int: 'This value should be of type int.',
  number: 'This value should be of type numeric.',
  string: 'This value should be of type string.',
  bool: 'This value should be of type bool.',
  object: 'This value should be of type object.',
  array: 'This value should be of type array.',
};

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function typeOk(v: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'int': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'string': return typeof v === 'string';
    case 'bool': return typeof v === 'boolean';
    case 'object': return isObj(v);
    case 'array': return Array.isArray(v);
  }
}

/** Errors of one item, each with a dotted path (`custom_fields_values.0.values.0.value`). */
export class Errors {
  readonly list: FieldError[] = [];
  add(code: string, path: string, detail: string): void {
    this.list.push({ code, path, detail });
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** Every JSON null in `value` is a NotNullable error naming its path. */
export function findNulls(value: unknown, path: string, errs: Errors): void {
  if (value === null) {
    errs.add('NotNullable', path, 'This value should not be null.');
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => findNulls(v, join(path, String(i)), errs));
  } else if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) findNulls(v, join(path, k), errs);
  }
}

export function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

/** Type-check the keys of `schema` present in `obj` (nulls are reported by findNulls). */
export function checkSchema(obj: Obj, schema: Record<string, Kind>, prefix: string, errs: Errors): void {
  for (const [key, kind] of Object.entries(schema)) {
    const v = obj[key];
    if (v === undefined || v === null) continue;
    if (!typeOk(v, kind)) errs.add('InvalidType', join(prefix, key), DETAIL[kind]);
  }
}

export function required(obj: Obj, keys: readonly string[], prefix: string, errs: Errors): void {
  for (const key of keys) {
    if (obj[key] === undefined) errs.add('NotBlank', join(prefix, key), 'This value should not be blank.');
  }
}

export function oneOf(obj: Obj, key: string, allowed: readonly unknown[], prefix: string, errs: Errors): void {
  const v = obj[key];
  if (v === undefined || v === null) return;
  if (!allowed.includes(v)) errs.add('NotSupportedChoice', join(prefix, key), 'The value you selected is not a valid choice.');
}

/** `key` must name an assignable user (`allowZero`: 0 means "robot", as for created_by). */
export function checkUser(ctx: Ctx, obj: Obj, key: string, prefix: string, errs: Errors, allowZero = false): void {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) return;
  if (allowZero && v === 0) return;
  const user = ctx.state.user(v);
  if (!user || (ctx.opts.rejectInactiveUsers && !user.rights.is_active)) {
    errs.add('NotSupportedChoice', join(prefix, key), 'The value you selected is not a valid choice.');
  }
}

/** The body of an array endpoint: an array of 1..250 objects, else 400/422. */
export function arrayBody(ctx: Ctx, max = MAX_ITEMS): Obj[] {
  const body = ctx.body;
  if (body === undefined) fail(400, 'Request body is empty');
  if (!Array.isArray(body)) fail(400, 'Request body must be a JSON array of objects');
  if (body.length === 0) fail(400, 'Request body must not be an empty array');
  if (body.length > max) fail(422, `Too many items in one request: ${body.length}, at most ${max}`);
  body.forEach((item, i) => {
    if (!isObj(item)) {
      throw new SimHttpError(validationReply([{ request_id: String(i), errors: [{ code: 'InvalidType', path: '', detail: DETAIL.object }] }]));
    }
  });
  return body as Obj[];
}

/** The body of a single-entity endpoint (PATCH /x/{id}): one object. */
export function objectBody(ctx: Ctx): Obj {
  if (ctx.body === undefined) fail(400, 'Request body is empty');
  if (!isObj(ctx.body)) fail(400, 'Request body must be a JSON object');
  return ctx.body;
}

export function requestIdOf(item: Obj, index: number): string {
  return typeof item.request_id === 'string' ? item.request_id : String(index);
}

/**
 * Run `check` on every item; if any item has errors, throw the 400 answer for all of
 * them. `request_id` must be a string; nulls are always reported.
 */
export function validateItems(items: readonly Obj[], check: (item: Obj, errs: Errors, index: number) => void): void {
  const failed: ItemErrors[] = [];
  items.forEach((item, i) => {
    const errs = new Errors();
    findNulls(item, '', errs);
    checkSchema(item, { request_id: 'string' }, '', errs);
    check(item, errs, i);
    if (!errs.empty) failed.push({ request_id: requestIdOf(item, i), errors: errs.list });
  });
  if (failed.length > 0) throw new SimHttpError(validationReply(failed));
}

/** `custom_fields_values` of a contact/company/lead body. */
export function checkCustomFields(state: SimState, entity: 'contacts' | 'companies' | 'leads', value: unknown,
  prefix: string, errs: Errors): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) {
    errs.add('InvalidType', prefix, DETAIL.array);
    return;
  }
  value.forEach((cf, i) => {
    const p = join(prefix, String(i));
    if (!isObj(cf)) {
      if (cf !== null) errs.add('InvalidType', p, DETAIL.object);
      return;
    }
    checkSchema(cf, { field_id: 'int', field_code: 'string', values: 'array' }, p, errs);
    if (cf.field_id === undefined && cf.field_code === undefined) {
      errs.add('NotBlank', join(p, 'field_id'), 'field_id or field_code is required.');
      return;
    }
    const field = state.field(entity, cf);
    if (!field) {
      if (typeOk(cf.field_id, 'int') || typeOk(cf.field_code, 'string')) {
        errs.add('NotSupportedChoice', join(p, cf.field_id !== undefined ? 'field_id' : 'field_code'), 'Unknown custom field.');
      }
      return;
    }
    if (cf.values === undefined) errs.add('NotBlank', join(p, 'values'), 'This value should not be blank.');
    if (!Array.isArray(cf.values)) return;
    cf.values.forEach((v, j) => {
      const vp = join(join(p, 'values'), String(j));
      if (!isObj(v)) {
        if (v !== null) errs.add('InvalidType', vp, DETAIL.object);
        return;
      }
      checkSchema(v, { enum_id: 'int', enum_code: 'string' }, vp, errs);
      if (v.value === undefined && field.type !== 'select' && field.type !== 'multiselect') {
        errs.add('NotBlank', join(vp, 'value'), 'This value should not be blank.');
      }
      const textual = ['text', 'textarea', 'multitext', 'url'].includes(field.type);
      if (v.value !== undefined && v.value !== null) {
        if (textual && typeof v.value !== 'string') errs.add('InvalidType', join(vp, 'value'), DETAIL.string);
        if (field.type === 'numeric' && typeof v.value !== 'string' && typeof v.value !== 'number') {
          errs.add('InvalidType', join(vp, 'value'), DETAIL.number);
        }
        if (field.type === 'checkbox' && typeof v.value !== 'boolean') errs.add('InvalidType', join(vp, 'value'), DETAIL.bool);
      }
      if (typeof v.enum_id === 'number' && !field.enums?.some((e) => e.id === v.enum_id)) {
        errs.add('NotSupportedChoice', join(vp, 'enum_id'), 'The value you selected is not a valid choice.');
      }
      if (typeof v.enum_code === 'string' && !field.enums?.some((e) => e.value === v.enum_code)) {
        errs.add('NotSupportedChoice', join(vp, 'enum_code'), 'The value you selected is not a valid choice.');
      }
    });
  });
}

/** `_embedded.tags`: `[{name}]` or `[{id}]`. */
export function checkTags(value: unknown, prefix: string, errs: Errors): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) {
    errs.add('InvalidType', prefix, DETAIL.array);
    return;
  }
  value.forEach((t, i) => {
    const p = join(prefix, String(i));
    if (!isObj(t)) {
      if (t !== null) errs.add('InvalidType', p, DETAIL.object);
      return;
    }
    checkSchema(t, { id: 'int', name: 'string' }, p, errs);
    if (t.id === undefined && t.name === undefined) errs.add('NotBlank', join(p, 'name'), 'This value should not be blank.');
  });
}

/** `[{id}]` references to existing visible entities. */
export function checkRefs(ctx: Ctx, type: 'contacts' | 'companies' | 'leads', value: unknown, prefix: string, errs: Errors): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) {
    errs.add('InvalidType', prefix, DETAIL.array);
    return;
  }
  value.forEach((r, i) => {
    const p = join(prefix, String(i));
    if (!isObj(r)) {
      if (r !== null) errs.add('InvalidType', p, DETAIL.object);
      return;
    }
    if (r.id === undefined) errs.add('NotBlank', join(p, 'id'), 'This value should not be blank.');
    else if (!typeOk(r.id, 'int')) errs.add('InvalidType', join(p, 'id'), DETAIL.int);
    else if (!ctx.state.entityExists(type, r.id as number)) errs.add('NotSupportedChoice', join(p, 'id'), 'Entity not found.');
  });
}

/** `page`/`limit` of a list request: positive ints, limit ≤ 250 (else 422). */
export function paging(ctx: Ctx): { page: number; limit: number } {
  const num = (name: string, dflt: number): number => {
    const raw = ctx.query.get(name);
    if (raw === null) return dflt;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) fail(400, `Query parameter ${name} must be a positive integer`);
    return Number(raw);
  };
  const page = num('page', 1);
  const limit = num('limit', 50);
  if (limit > MAX_ITEMS) fail(422, `limit must be at most ${MAX_ITEMS}`);
  return { page, limit };
}

/** `with=a,b` as a set. */
export function withSet(ctx: Ctx): Set<string> {
  return new Set((ctx.query.get('with') ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}

/** `filter[name]` or `filter[name][]` values as strings. */
export function filterValues(ctx: Ctx, name: string): string[] {
  return [...ctx.query.getAll(`filter[${name}]`), ...ctx.query.getAll(`filter[${name}][]`)]
    .flatMap((v) => v.split(','))
    .filter((v) => v !== '');
}

/** Run `check` on a nested object, reporting its errors under `prefix`. */
export function nested(errs: Errors, prefix: string, check: (sub: Errors) => void): void {
  const sub = new Errors();
  check(sub);
  for (const e of sub.list) errs.add(e.code, join(prefix, e.path), e.detail);
}

/**
 * `_embedded.<key>` of a create body: absent, or an array of at most one object,
 * each checked by `visit` (its errors reported under `_embedded.<key>.<i>`).
 */
export function eachEmbedded(errs: Errors, emb: Obj, key: string, visit: (sub: Obj, se: Errors) => void): void {
  const list = emb[key];
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) {
    errs.add('InvalidType', `_embedded.${key}`, 'This value should be of type array.');
    return;
  }
  if (list.length > 1) errs.add('NotSupportedChoice', `_embedded.${key}`, 'At most one entity of each type.');
  list.forEach((sub, j) =>
    nested(errs, `_embedded.${key}.${j}`, (se) => {
      if (!isObj(sub)) return se.add('InvalidType', '', 'This value should be of type object.');
      visit(sub, se);
    }),
  );
}
