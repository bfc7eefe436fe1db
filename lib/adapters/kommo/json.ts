/**
 * JSON in and out of Kommo.
 *
 * Out: Kommo answers 400 `NotNullable` to a JSON `null` in an optional field, so nothing
 * we send ever contains `null`: keys whose value is null/undefined are dropped, and so are
 * null/undefined array items, recursively. Non-finite numbers (which JSON would turn into
 * null) are a caller bug and throw KOMMO_INVALID_ARGUMENT naming the path.
 *
 * In: bodies are parsed defensively — problem+json, hal+json, plain text, HTML or nothing.
 */
import { KommoError } from './errors.js';

export type Json = string | number | boolean | Json[] | { [key: string]: Json };

/** A deep copy of `value` without null/undefined anywhere. */
export function stripNulls(value: unknown, path = '$'): Json | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new KommoError('KOMMO_INVALID_ARGUMENT', `${path} is ${value}, which JSON cannot carry`, { path });
      }
      return value;
    case 'bigint':
      return Number(value);
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new KommoError('KOMMO_INVALID_ARGUMENT', `${path} is an invalid Date`, { path });
    }
    return value.toISOString();
  }
  if (Array.isArray(value)) {
    const out: Json[] = [];
    value.forEach((item, i) => {
      const v = stripNulls(item, `${path}[${i}]`);
      if (v !== undefined) out.push(v);
    });
    return out;
  }
  const out: { [key: string]: Json } = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const v = stripNulls(item, `${path}.${key}`);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Encode a request body: nulls stripped, never the literal `null`. */
export function encodeJson(value: unknown): string {
  const stripped = stripNulls(value);
  if (stripped === undefined) {
    throw new KommoError('KOMMO_INVALID_ARGUMENT', 'the request body is null or undefined');
  }
  return JSON.stringify(stripped);
}

export interface ParsedBody {
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  json: unknown;
  /** The raw text (first 2 KiB kept for diagnostics). */
  text: string;
  isJson: boolean;
}

/** Parse a response body whatever it is; never throws. */
export function parseBody(text: string, contentType: string | undefined): ParsedBody {
  const snippet = text.length > 2048 ? `${text.slice(0, 2048)}…` : text;
  const trimmed = text.trim();
  if (trimmed === '') return { json: undefined, text: '', isJson: false };
  const ct = (contentType ?? '').toLowerCase();
  const looksJson = ct.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[');
  if (!looksJson) return { json: undefined, text: snippet, isJson: false };
  try {
    return { json: JSON.parse(trimmed) as unknown, text: snippet, isJson: true };
  } catch {
    return { json: undefined, text: snippet, isJson: false };
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `obj._embedded[key]` as an array, or undefined. */
export function embedded(body: unknown, key: string): unknown[] | undefined {
  if (!isRecord(body)) return undefined;
  const emb = body['_embedded'];
  if (!isRecord(emb)) return undefined;
  const list = emb[key];
  return Array.isArray(list) ? list : undefined;
}
