/** Leads: get (with contacts), create, minimal-diff update, link contacts. */
import { KommoError } from './errors.js';
import { callOptions, createOne, type EndpointContext, getOne, MAX_PAGE, patchOne, positiveId, type RequestOptions, requireId } from './endpoint.js';
import type { Lead, LeadCreate } from './types.js';

const PATH = '/api/v4/leads';

export function getLead(ctx: EndpointContext, id: number, opts?: RequestOptions): Promise<Lead | null> {
  return getOne<Lead>(ctx, `${PATH}/${positiveId(id, 'lead id')}`, { with: 'contacts' }, opts);
}

export async function createLead(ctx: EndpointContext, body: LeadCreate, opts?: RequestOptions): Promise<{ id: number }> {
  const item = await createOne(ctx, PATH, 'leads', body, opts);
  return { id: requireId(item, PATH) };
}

export function updateLead(ctx: EndpointContext, id: number, patch: Partial<LeadCreate>, opts?: RequestOptions): Promise<void> {
  return patchOne(ctx, `${PATH}/${positiveId(id, 'lead id')}`, patch, opts);
}

/** Link contacts to an existing lead. Linking twice changes nothing, so it is retried like a GET. */
export async function linkContactsToLead(ctx: EndpointContext, leadId: number, contactIds: readonly number[], opts?: RequestOptions): Promise<void> {
  if (contactIds.length === 0) return;
  if (contactIds.length > MAX_PAGE) {
    throw new KommoError('KOMMO_INVALID_ARGUMENT', `at most ${MAX_PAGE} contacts can be linked at once`);
  }
  const body = contactIds.map((id) => ({ to_entity_id: positiveId(id, 'contact id'), to_entity_type: 'contacts' }));
  await ctx.http.send({
    method: 'POST', path: `${PATH}/${positiveId(leadId, 'lead id')}/link`, body, idempotent: true,
    ...callOptions(opts),
  });
}
