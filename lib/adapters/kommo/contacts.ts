/**
 * Contacts: search by phone (full-text query on the last digits, then a real PHONE match),
 * get, create, update (minimal diffs only: echoing stale ids fails `NotSupportedChoice`).
 */
import { createOne, type EndpointContext, getOne, listAll, patchOne, positiveId, type RequestOptions, requireId } from './endpoint.js';
import { filterByPhone, phoneQuery } from './phone-match.js';
import type { Contact, PartyCreate } from './types.js';

const PATH = '/api/v4/contacts';

export async function findContactsByPhone(ctx: EndpointContext, phone: string, matchDigits: number, opts?: RequestOptions): Promise<Contact[]> {
  const query = phoneQuery(phone, matchDigits);
  const found = await listAll<Contact>(ctx, PATH, 'contacts', { query, with: 'leads' }, opts, 4);
  return filterByPhone(found, phone, matchDigits);
}

export function getContact(ctx: EndpointContext, id: number, opts?: RequestOptions): Promise<Contact | null> {
  return getOne<Contact>(ctx, `${PATH}/${positiveId(id, 'contact id')}`, { with: 'leads' }, opts);
}

export async function createContact(ctx: EndpointContext, body: PartyCreate, opts?: RequestOptions): Promise<{ id: number }> {
  const item = await createOne(ctx, PATH, 'contacts', body, opts);
  return { id: requireId(item, PATH) };
}

export function updateContact(ctx: EndpointContext, id: number, patch: Partial<PartyCreate>, opts?: RequestOptions): Promise<void> {
  return patchOne(ctx, `${PATH}/${positiveId(id, 'contact id')}`, patch, opts);
}
