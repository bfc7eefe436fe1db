/**
 * `POST /api/v4/calls`. Kommo puts the call on the entity matching the phone's last 10
 * digits; with no such entity it answers 400 "Entity not found" → KOMMO_ENTITY_NOT_FOUND
 * (create the contact first). Kommo does not de-duplicate by `uniq`.
 */
import { KommoApiError, KommoError } from './errors.js';
import { callOptions, type EndpointContext, newRequestId, type RequestOptions } from './endpoint.js';
import { embedded, isRecord } from './json.js';
import { isEntityNotFound } from './problem.js';
import type { CallCreate } from './types.js';

const PATH = '/api/v4/calls';

export async function createCall(ctx: EndpointContext, body: CallCreate, opts?: RequestOptions): Promise<{ id: number; entityId: number; entityType: string }> {
  const requestId = newRequestId(opts, body);
  const res = await ctx.http.send({
    method: 'POST', path: PATH, body: [{ ...body, request_id: requestId }], idempotent: false,
    ...callOptions(opts), requestId,
  });
  const item = embedded(res.body, 'calls')?.[0];
  if (isRecord(item) && typeof item['id'] === 'number') return callResult(item, PATH);
  // Some answers are 2xx with the failure in `errors` and no call.
  if (isEntityNotFound(res.body)) {
    throw new KommoApiError('KOMMO_ENTITY_NOT_FOUND', `Kommo found no contact or company for the call's phone`, {
      status: res.status, method: 'POST', path: PATH, title: 'Entity not found', requestId,
    });
  }
  const errors = isRecord(res.body) && Array.isArray(res.body['errors']) ? res.body['errors'] : [];
  throw new KommoError('KOMMO_BAD_RESPONSE', `Kommo's answer to ${PATH} holds no call (${errors.length} error(s))`, {
    path: PATH, status: res.status, maybeApplied: errors.length === 0,
  });
}

/** One `_embedded.calls` entry → the call's id and where Kommo put it. */
export function callResult(item: Record<string, unknown>, path: string): { id: number; entityId: number; entityType: string } {
  const id = item['id'];
  if (typeof id !== 'number') {
    throw new KommoError('KOMMO_BAD_RESPONSE', `Kommo's answer to ${path} lacks the call's id`, { path, maybeApplied: true });
  }
  const entityId = typeof item['entity_id'] === 'number' ? item['entity_id'] : 0;
  const entityType = typeof item['entity_type'] === 'string' ? item['entity_type'] : '';
  return { id, entityId, entityType };
}
