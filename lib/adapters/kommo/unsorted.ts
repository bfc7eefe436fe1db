/** Incoming leads from calls: `POST /api/v4/leads/unsorted/sip`. */
import { KommoError } from './errors.js';
import { createOne, type EndpointContext, type RequestOptions } from './endpoint.js';
import { embedded, isRecord } from './json.js';
import type { UnsortedSipCreate } from './types.js';

const PATH = '/api/v4/leads/unsorted/sip';

function firstId(item: Record<string, unknown>, key: string): number | undefined {
  const first = embedded(item, key)?.[0];
  return isRecord(first) && typeof first['id'] === 'number' ? first['id'] : undefined;
}

export async function createUnsortedSip(ctx: EndpointContext, body: UnsortedSipCreate, opts?: RequestOptions): Promise<{ uid: string; leadId?: number; contactId?: number }> {
  const item = await createOne(ctx, PATH, 'unsorted', body, opts);
  const uid = item['uid'];
  if (typeof uid !== 'string' || uid === '') {
    throw new KommoError('KOMMO_BAD_RESPONSE', `Kommo's answer to ${PATH} lacks a uid`, { path: PATH, maybeApplied: true });
  }
  const out: { uid: string; leadId?: number; contactId?: number } = { uid };
  const leadId = firstId(item, 'leads');
  const contactId = firstId(item, 'contacts');
  if (leadId !== undefined) out.leadId = leadId;
  if (contactId !== undefined) out.contactId = contactId;
  return out;
}
