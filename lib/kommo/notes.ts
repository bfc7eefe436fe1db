/** Notes on a lead/contact/company, e.g. `call_in`/`call_out`. A create: never retried blindly. */
import { createOne, type EndpointContext, positiveId, type RequestOptions, requireId } from './endpoint.js';
import { KommoError } from './errors.js';
import type { EntityType, NoteCreate } from './types.js';

const ENTITY_TYPES: readonly EntityType[] = ['leads', 'contacts', 'companies'];

export async function addNote(ctx: EndpointContext, entityType: EntityType, entityId: number, note: NoteCreate, opts?: RequestOptions): Promise<{ id: number }> {
  if (!ENTITY_TYPES.includes(entityType)) {
    throw new KommoError('KOMMO_INVALID_ARGUMENT', `notes go on leads, contacts or companies, not ${String(entityType)}`);
  }
  const path = `/api/v4/${entityType}/${positiveId(entityId, 'entity id')}/notes`;
  const item = await createOne(ctx, path, 'notes', note, opts);
  return { id: requireId(item, path) };
}
