/**
 * Kommo's "no" answers → coded errors. Bodies are `application/problem+json`
 * (`{title, type, status, detail, validation-errors}`), the calls API's
 * `{errors: [{title}]}`, plain text or an HTML page (403 block) — all handled safely.
 */
import { KommoApiError, type KommoApiErrorCode, type KommoItemError, type KommoValidationError } from './errors.js';
import { isRecord, type ParsedBody } from './json.js';

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

function validationErrors(json: Record<string, unknown>): KommoValidationError[] {
  const raw = json['validation-errors'] ?? json['validation_errors'];
  if (!Array.isArray(raw)) return [];
  const out: KommoValidationError[] = [];
  for (const item of raw) {
    if (!isRecord(item)) continue;
    const errors = Array.isArray(item['errors']) ? item['errors'] : [];
    const entry: KommoValidationError = {
      errors: errors.filter(isRecord).map((e) => {
        const one: { code?: string; path?: string; detail?: string } = {};
        const code = str(e['code']);
        const path = str(e['path']);
        const detail = str(e['detail']);
        if (code !== undefined) one.code = code;
        if (path !== undefined) one.path = path;
        if (detail !== undefined) one.detail = detail;
        return one;
      }),
    };
    const requestId = str(item['request_id']);
    if (requestId !== undefined) entry.request_id = requestId;
    out.push(entry);
  }
  return out;
}

/** The calls API's `errors` array, item by item (`request_id` names the item). */
export function itemErrors(json: unknown): KommoItemError[] {
  const raw = isRecord(json) ? json['errors'] : undefined;
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((e) => {
    const one: KommoItemError = {};
    const requestId = str(e['request_id']);
    const title = str(e['title']);
    const detail = str(e['detail']);
    if (requestId !== undefined) one.request_id = requestId;
    if (title !== undefined) one.title = title;
    if (detail !== undefined) one.detail = detail;
    if (typeof e['status'] === 'number') one.status = e['status'];
    return one;
  });
}

/** Titles/details of the calls API's `errors` array (and similar). */
function listedErrors(json: Record<string, unknown>): string[] {
  const raw = json['errors'];
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((e) => str(e['title']) ?? str(e['detail']) ?? '').filter((s) => s !== '');
}

export function isEntityNotFound(json: unknown): boolean {
  if (!isRecord(json)) return false;
  const texts = [str(json['title']), str(json['detail']), ...listedErrors(json)];
  return texts.some((t) => t !== undefined && /entity not found/i.test(t));
}

export interface ProblemContext {
  method: string;
  path: string;
  requestId?: string | undefined;
}

export function problemToError(status: number, body: ParsedBody, ctx: ProblemContext): KommoApiError {
  const json = isRecord(body.json) ? body.json : undefined;
  const listed = json ? listedErrors(json) : [];
  const title = (json && str(json['title'])) ?? listed[0];
  const extra = listed.slice(title !== undefined && title === listed[0] ? 1 : 0);
  let detail = json ? str(json['detail']) : undefined;
  if (detail === undefined && extra.length > 0) detail = extra.join('; ');
  if (detail === undefined && !body.isJson && body.text !== '') {
    detail = body.text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300) || undefined;
  }
  const vErrors = json ? validationErrors(json) : [];
  const type = json ? str(json['type']) : undefined;

  let code: KommoApiErrorCode;
  switch (true) {
    case status === 400 && isEntityNotFound(json):
      code = 'KOMMO_ENTITY_NOT_FOUND';
      break;
    case status === 400:
      code = vErrors.length > 0 ? 'KOMMO_VALIDATION' : 'KOMMO_BAD_REQUEST';
      break;
    case status === 422:
      code = 'KOMMO_VALIDATION';
      break;
    case status === 402:
      code = 'KOMMO_PAYMENT_REQUIRED';
      break;
    case status === 403:
      code = body.isJson ? 'KOMMO_FORBIDDEN' : 'KOMMO_BLOCKED';
      break;
    case status === 404:
      code = 'KOMMO_NOT_FOUND';
      break;
    case status === 429:
      code = 'KOMMO_RATE_LIMITED';
      break;
    default:
      code = 'KOMMO_REJECTED';
  }
  const firstValidation = vErrors[0]?.errors[0];
  const summary = [title, detail, firstValidation ? `${firstValidation.path ?? '?'}: ${firstValidation.code ?? ''} ${firstValidation.detail ?? ''}`.trim() : undefined]
    .filter((s) => s !== undefined && s !== '').join(' — ');
  const hint = code === 'KOMMO_BLOCKED' ? ' (the account or IP is blocked, usually after repeated 429s; wait before retrying)' : '';
  return new KommoApiError(code, `Kommo answered ${status} to ${ctx.method} ${ctx.path}${summary ? `: ${summary}` : ''}${hint}`, {
    status,
    method: ctx.method,
    path: ctx.path,
    title,
    detail,
    type,
    validationErrors: vErrors,
    itemErrors: json ? itemErrors(json) : [],
    requestId: ctx.requestId,
  });
}
