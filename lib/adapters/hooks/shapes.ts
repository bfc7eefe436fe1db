/**
 * Hand-written runtime validators for each hook's `data` (no dependencies).
 *
 * A validator returns the data to use — a fresh object, never the hook's own — or
 * the first wrong field as a path (`data.params` is not used: paths start at `data`,
 * e.g. `data._embedded.contacts[0].id`). Along the way it:
 * - strips keys set to `null` from the Kommo bodies (hooks 2, 4, 5, 8, 11, 12, 13;
 *   Kommo rejects nulls), so `null` means "leave this field out";
 * - keeps only the fields the connector uses where customizations/README.md says so: hook 9 keeps
 *   `number` and `name` (read-only fields are dropped) and cuts `name` to 20
 *   characters; hooks 1, 3, 6, 7 keep their own fields only;
 * - rejects CR, LF and NUL in strings that end up in AMI/AGI protocol lines.
 */
import type { HookName, HookOutputs } from './types.js';

export type ShapeResult<T> = { ok: true; data: T } | { ok: false; path: string; message: string };

/** The longest CallerID name Asterisk is given (README, "Autodistribution"). */
export const CALLERID_NAME_MAX = 20;

class ShapeFailure {
  constructor(
    readonly path: string,
    readonly message: string,
  ) {}
}

type Obj = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new ShapeFailure(path, message);
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : `${typeof value}`;
}

function object(value: unknown, path: string): Obj {
  if (!isObject(value)) fail(path, `must be an object, got ${describe(value)}`);
  return value;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, `must be an array, got ${describe(value)}`);
  return value;
}

interface StrRule {
  required?: boolean;
  nonEmpty?: boolean;
  /** Reject CR, LF and NUL (the value goes into a protocol line). */
  line?: boolean;
  max?: number;
}

const LINE_BREAKING = /[\r\n\0]/;

function str(obj: Obj, key: string, path: string, rule: StrRule = {}): void {
  const value = obj[key];
  const at = `${path}.${key}`;
  if (value === undefined) {
    if (rule.required) fail(at, 'is required');
    return;
  }
  if (typeof value !== 'string') fail(at, `must be a string, got ${describe(value)}`);
  if (rule.nonEmpty && value.length === 0) fail(at, 'must not be empty');
  if (rule.line && LINE_BREAKING.test(value)) fail(at, 'must not contain CR, LF or NUL');
  if (rule.max !== undefined && value.length > rule.max) fail(at, `must be at most ${rule.max} characters`);
}

function int(obj: Obj, key: string, path: string, rule: { required?: boolean; min?: number; max?: number } = {}): void {
  const value = obj[key];
  const at = `${path}.${key}`;
  if (value === undefined) {
    if (rule.required) fail(at, 'is required');
    return;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(at, `must be an integer, got ${describe(value)}`);
  if (rule.min !== undefined && value < rule.min) fail(at, `must be at least ${rule.min}`);
  if (rule.max !== undefined && value > rule.max) fail(at, `must be at most ${rule.max}`);
}

function bool(obj: Obj, key: string, path: string, required = false): void {
  const value = obj[key];
  const at = `${path}.${key}`;
  if (value === undefined) {
    if (required) fail(at, 'is required');
    return;
  }
  if (typeof value !== 'boolean') fail(at, `must be true or false, got ${describe(value)}`);
}

function oneOf(obj: Obj, key: string, path: string, allowed: readonly string[], required = false): void {
  const value = obj[key];
  const at = `${path}.${key}`;
  if (value === undefined) {
    if (required) fail(at, 'is required');
    return;
  }
  if (typeof value !== 'string' || !allowed.includes(value)) fail(at, `must be one of ${allowed.join(', ')}`);
}

/** Deep copy without the keys whose value is `null`. Arrays keep their length. */
export function stripNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => stripNulls(item)) as T;
  if (isObject(value)) {
    const out: Obj = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== null) out[key] = stripNulls(item);
    }
    return out as T;
  }
  return value;
}

const graphemes: Intl.Segmenter | undefined =
  typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : undefined;

/**
 * Cut `name` to at most `max` characters (Unicode code points, after NFC), never inside
 * a user-perceived character (grapheme cluster) — so a Cyrillic, accented or emoji name
 * never ends in half a character. Trailing spaces left by the cut are removed.
 */
export function truncateName(name: string, max: number = CALLERID_NAME_MAX): string {
  const text = name.normalize('NFC');
  let count = 0;
  for (const _ of text) {
    if (++count > max) break;
  }
  if (count <= max) return text;
  const parts = graphemes ? Array.from(graphemes.segment(text), (s) => s.segment) : Array.from(text);
  let out = '';
  let used = 0;
  for (const part of parts) {
    const size = Array.from(part).length;
    if (used + size > max) break;
    out += part;
    used += size;
  }
  return out.trimEnd();
}

// ---------------------------------------------------------------------------
// Kommo pieces
// ---------------------------------------------------------------------------

function customFields(obj: Obj, path: string): void {
  if (obj.custom_fields_values === undefined) return;
  const at = `${path}.custom_fields_values`;
  array(obj.custom_fields_values, at).forEach((entry, i) => {
    const p = `${at}[${i}]`;
    const field = object(entry, p);
    int(field, 'field_id', p, { min: 1 });
    str(field, 'field_code', p, { nonEmpty: true });
    if (field.field_id === undefined && field.field_code === undefined) fail(p, 'needs field_id or field_code');
    array(field.values, `${p}.values`).forEach((v, j) => object(v, `${p}.values[${j}]`));
  });
}

function tagRefs(value: unknown, path: string): void {
  array(value, path).forEach((entry, i) => {
    const p = `${path}[${i}]`;
    const tag = object(entry, p);
    int(tag, 'id', p, { min: 1 });
    str(tag, 'name', p, { nonEmpty: true });
    if (tag.id === undefined && tag.name === undefined) fail(p, 'needs id or name');
  });
}

function idRefs(value: unknown, path: string): void {
  array(value, path).forEach((entry, i) => int(object(entry, `${path}[${i}]`), 'id', `${path}[${i}]`, { required: true, min: 1 }));
}

function embedded(obj: Obj, path: string, lists: { contacts?: boolean; companies?: boolean }): Obj | undefined {
  if (obj._embedded === undefined) return undefined;
  const at = `${path}._embedded`;
  const emb = object(obj._embedded, at);
  if (emb.tags !== undefined) tagRefs(emb.tags, `${at}.tags`);
  if (lists.contacts && emb.contacts !== undefined) idRefs(emb.contacts, `${at}.contacts`);
  if (lists.companies && emb.companies !== undefined) idRefs(emb.companies, `${at}.companies`);
  return emb;
}

function contactBody(value: unknown, path: string, inUnsorted = false): Obj {
  const c = object(value, path);
  str(c, 'name', path);
  str(c, 'first_name', path);
  str(c, 'last_name', path);
  int(c, 'responsible_user_id', path, { min: 0 });
  int(c, 'created_by', path, { min: 0 });
  if (c.tags !== undefined) {
    array(c.tags, `${path}.tags`).forEach((tag, i) => {
      if (typeof tag !== 'string' || tag.length === 0) fail(`${path}.tags[${i}]`, 'must be a non-empty string');
    });
  }
  customFields(c, path);
  embedded(c, path, { companies: !inUnsorted });
  return c;
}

function leadBody(value: unknown, path: string, inUnsorted = false): Obj {
  const l = object(value, path);
  str(l, 'name', path);
  int(l, 'pipeline_id', path, { min: 1 });
  int(l, 'status_id', path, { min: 1 });
  int(l, 'responsible_user_id', path, { min: 0 });
  int(l, 'price', path, { min: 0 });
  customFields(l, path);
  embedded(l, path, { contacts: !inUnsorted, companies: !inUnsorted });
  return l;
}

function entityUpdate(value: unknown, path: string): Obj {
  const u = object(value, path);
  str(u, 'name', path);
  int(u, 'responsible_user_id', path, { min: 0 });
  customFields(u, path);
  embedded(u, path, {});
  return u;
}

function callBody(value: unknown, path: string): Obj {
  const c = object(value, path);
  str(c, 'phone', path, { required: true, nonEmpty: true });
  oneOf(c, 'direction', path, ['inbound', 'outbound'], true);
  int(c, 'duration', path, { required: true, min: 0 });
  str(c, 'source', path, { required: true, nonEmpty: true });
  str(c, 'call_result', path);
  int(c, 'call_status', path, { min: 1, max: 7 });
  int(c, 'created_at', path, { min: 0 });
  int(c, 'created_by', path, { min: 0 });
  int(c, 'responsible_user_id', path, { min: 0 });
  str(c, 'link', path);
  return c;
}

function taskBody(value: unknown, path: string): Obj {
  const t = object(value, path);
  str(t, 'text', path, { required: true, nonEmpty: true });
  int(t, 'complete_till', path, { required: true, min: 0 });
  int(t, 'entity_id', path, { required: true, min: 1 });
  oneOf(t, 'entity_type', path, ['contacts', 'leads', 'companies'], true);
  int(t, 'task_type', path, { required: true, min: 1 });
  bool(t, 'is_completed', path);
  int(t, 'responsible_user_id', path, { min: 0 });
  int(t, 'created_by', path, { min: 0 });
  return t;
}

function unsortedBody(value: unknown, path: string): Obj {
  const u = object(value, path);
  str(u, 'source_uid', path, { required: true, nonEmpty: true });
  str(u, 'source_name', path, { required: true, nonEmpty: true });
  int(u, 'pipeline_id', path, { min: 1 });
  int(u, 'created_at', path, { min: 0 });
  const meta = object(u.metadata, `${path}.metadata`);
  const mp = `${path}.metadata`;
  for (const key of ['uniq', 'service_code', 'link', 'phone', 'from']) str(meta, key, mp);
  int(meta, 'duration', mp, { min: 0 });
  int(meta, 'called_at', mp, { min: 0 });
  if (u._embedded !== undefined) {
    const at = `${path}._embedded`;
    const emb = object(u._embedded, at);
    if (emb.contacts !== undefined) array(emb.contacts, `${at}.contacts`).forEach((c, i) => contactBody(c, `${at}.contacts[${i}]`, true));
    if (emb.leads !== undefined) array(emb.leads, `${at}.leads`).forEach((l, i) => leadBody(l, `${at}.leads[${i}]`, true));
    if (emb.companies !== undefined) array(emb.companies, `${at}.companies`).forEach((c, i) => object(c, `${at}.companies[${i}]`));
  }
  return u;
}

// ---------------------------------------------------------------------------
// Per hook
// ---------------------------------------------------------------------------

type Validator = (data: unknown, path: string) => unknown;

/** Kommo bodies: nulls stripped first, then checked; unknown fields pass through. */
const kommo =
  (check: (value: unknown, path: string) => Obj): Validator =>
  (data, path) =>
    check(stripNulls(data), path);

const VALIDATORS: { [H in HookName]: Validator } = {
  need_registration: (data, path) => {
    const d = object(data, path);
    bool(d, 'result', path, true);
    return { result: d.result };
  },
  process_call_params: kommo(callBody),
  process_client_phone: (data, path) => {
    const d = object(data, path);
    str(d, 'phone', path, { required: true, nonEmpty: true, line: true, max: 64 });
    return { phone: d.phone };
  },
  process_contact_creation_params: kommo((v, p) => contactBody(v, p)),
  process_lead_creation_params: kommo((v, p) => leadBody(v, p)),
  process_originate_params: (data, path) => {
    const d = object(data, path);
    str(d, 'caller_id', path, { required: true, line: true, max: 256 });
    for (const key of ['channel', 'context', 'extension']) str(d, key, path, { required: true, nonEmpty: true, line: true, max: 256 });
    const priority = d.priority;
    if (typeof priority === 'string') str(d, 'priority', path, { nonEmpty: true, line: true, max: 80 });
    else int(d, 'priority', path, { required: true, min: 1 });
    return { caller_id: d.caller_id, channel: d.channel, context: d.context, extension: d.extension, priority };
  },
  process_record_file_path: (data, path) => {
    const d = object(data, path);
    str(d, 'path', path, { required: true, nonEmpty: true, line: true, max: 4096 });
    bool(d, 'convert_to_mp3', path);
    return d.convert_to_mp3 === undefined ? { path: d.path } : { path: d.path, convert_to_mp3: d.convert_to_mp3 };
  },
  process_task_creation_params: kommo(taskBody),
  process_autodistribution: (data, path) => {
    const d = object(data, path);
    str(d, 'number', path, { required: true, line: true, max: 80 });
    str(d, 'name', path, { required: true, line: true });
    // Read-only fields (from, trunk, request_data, entity, error) are dropped.
    return { number: d.number, name: truncateName(d.name as string) };
  },
  post_registration: (data, path) => (data === undefined ? {} : object(data, path)),
  process_contact_update_params: kommo(entityUpdate),
  process_lead_update_params: kommo(entityUpdate),
  process_unsorted_creation_params: kommo(unsortedBody),
};

/**
 * Check a hook's `data` (already a plain JSON value) and return what the connector may
 * use. The returned object is new; the hook cannot keep a reference into it.
 */
export function validateHookData<H extends HookName>(hook: H, data: unknown): ShapeResult<HookOutputs[H]> {
  try {
    return { ok: true, data: VALIDATORS[hook](data, 'data') as HookOutputs[H] };
  } catch (err) {
    if (err instanceof ShapeFailure) return { ok: false, path: err.path, message: `${err.path} ${err.message}` };
    throw err;
  }
}
