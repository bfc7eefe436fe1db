/**
 * Helpers shared by the endpoint modules: list all pages, get one by id, create one item
 * (always with a `request_id`), patch one item.
 */
import { randomUUID } from 'node:crypto';
import { KommoError } from './errors.js';
import type { HttpClient, HttpRequest, RequestOptions } from './http.js';
import { embedded, isRecord, stripNulls } from './json.js';

export interface EndpointContext {
  http: HttpClient;
}

export type { RequestOptions };

/** Kommo's page size limit. */
export const MAX_PAGE = 250;

export function newRequestId(opts?: RequestOptions, body?: Record<string, unknown>): string {
  const fromBody = body?.['request_id'];
  return opts?.requestId ?? (typeof fromBody === 'string' && fromBody !== '' ? fromBody : randomUUID());
}

/** The per-call options every request carries. */
export function callOptions(opts: RequestOptions | undefined): Pick<HttpRequest, 'signal' | 'requestId' | 'retryBudgetMs' | 'priority'> {
  return { signal: opts?.signal, requestId: opts?.requestId, retryBudgetMs: opts?.retryBudgetMs, priority: opts?.priority };
}

function badResponse(path: string, what: string, maybeApplied: boolean): KommoError {
  return new KommoError('KOMMO_BAD_RESPONSE', `Kommo's answer to ${path} lacks ${what}`, { path, maybeApplied });
}

/** GET every page of a list (`_embedded[key]`), following `_links.next` until it stops. */
export async function listAll<T>(
  ctx: EndpointContext,
  path: string,
  key: string,
  query: HttpRequest['query'],
  opts: RequestOptions | undefined,
  maxPages = 200,
): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; page <= maxPages; page++) {
    const res = await ctx.http.send({
      method: 'GET', path, query: { ...query, page, limit: MAX_PAGE }, idempotent: true,
      ...callOptions(opts),
    });
    if (res.body === null) break;
    const items = embedded(res.body, key);
    if (!items) throw badResponse(path, `_embedded.${key}`, false);
    out.push(...(items as T[]));
    const links = isRecord(res.body) ? res.body['_links'] : undefined;
    const next = isRecord(links) ? links['next'] : undefined;
    if (!isRecord(next) || items.length === 0) break;
  }
  return out;
}

/** GET one entity; null when Kommo answers 204 or 404. */
export async function getOne<T>(
  ctx: EndpointContext,
  path: string,
  query: HttpRequest['query'],
  opts: RequestOptions | undefined,
): Promise<T | null> {
  try {
    const res = await ctx.http.send({ method: 'GET', path, query, idempotent: true, ...callOptions(opts) });
    if (res.body === null) return null;
    if (!isRecord(res.body) || typeof res.body['id'] !== 'number') throw badResponse(path, 'an id', false);
    return res.body as T;
  } catch (err) {
    if (err instanceof KommoError && err.code === 'KOMMO_NOT_FOUND') return null;
    throw err;
  }
}

/** POST `[{...body, request_id}]` and return the first item of `_embedded[key]`. */
export async function createOne(
  ctx: EndpointContext,
  path: string,
  key: string,
  body: Record<string, unknown>,
  opts: RequestOptions | undefined,
): Promise<Record<string, unknown> & { id?: unknown }> {
  const requestId = newRequestId(opts, body);
  const res = await ctx.http.send({
    method: 'POST', path, body: [{ ...body, request_id: requestId }], idempotent: false,
    ...callOptions(opts), requestId,
  });
  const item = embedded(res.body, key)?.[0];
  if (!isRecord(item)) throw badResponse(path, `_embedded.${key}[0]`, true);
  return item;
}

export function requireId(item: Record<string, unknown>, path: string, field = 'id'): number {
  const id = item[field];
  if (typeof id !== 'number') throw badResponse(path, field, true);
  return id;
}

/** PATCH one entity with a minimal diff; an empty diff sends nothing. */
export async function patchOne(
  ctx: EndpointContext,
  path: string,
  patch: Record<string, unknown>,
  opts: RequestOptions | undefined,
): Promise<void> {
  const body = stripNulls(patch);
  if (!isRecord(body) || Object.keys(body).length === 0) return;
  await ctx.http.send({ method: 'PATCH', path, body, idempotent: true, ...callOptions(opts) });
}

export function positiveId(id: number, what: string): number {
  if (!Number.isInteger(id) || id <= 0) {
    throw new KommoError('KOMMO_INVALID_ARGUMENT', `${what} must be a positive integer, got ${String(id)}`);
  }
  return id;
}
