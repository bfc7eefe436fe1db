/**
 * Notes on a lead/contact/company, e.g. `call_in`/`call_out`: add one (a create, never
 * retried blindly) and list them (`GET /api/v4/{entity}/{id}/notes`), which is how a
 * call record whose answer was lost is found again (the call note carries our `uniq`).
 */
import { createOne, type EndpointContext, listAll, positiveId, type RequestOptions, requireId } from './endpoint.js';
import { KommoError } from './errors.js';
import type { EntityType, NoteCreate } from './types.js';

const ENTITY_TYPES: readonly EntityType[] = ['leads', 'contacts', 'companies'];

/** A note as Kommo lists it (the fields the connector reads; others are kept as they come). */
export interface Note {
  id: number;
  entity_id?: number;
  note_type?: string;
  /** For call notes: `uniq`, `duration`, `source`, `link`, `phone`, `call_result`, `call_status`. */
  params?: { uniq?: unknown; [k: string]: unknown } | null;
  responsible_user_id?: number;
  created_by?: number;
  created_at?: number;
  [field: string]: unknown;
}

export interface NoteFilter {
  /** Only these note types (`filter[note_type][]`); the result is filtered locally as well. */
  note_type?: readonly string[];
}

/** Pages of 250 read at most when listing one entity's notes. */
export const MAX_NOTE_PAGES = 20;

function notesPath(entityType: EntityType | string, entityId: number): string {
  if (!ENTITY_TYPES.includes(entityType as EntityType)) {
    throw new KommoError('KOMMO_INVALID_ARGUMENT', `notes go on leads, contacts or companies, not ${String(entityType)}`);
  }
  return `/api/v4/${entityType}/${positiveId(entityId, 'entity id')}/notes`;
}

export async function addNote(ctx: EndpointContext, entityType: EntityType, entityId: number, note: NoteCreate, opts?: RequestOptions): Promise<{ id: number }> {
  const path = notesPath(entityType, entityId);
  const item = await createOne(ctx, path, 'notes', note, opts);
  return { id: requireId(item, path) };
}

/** The notes of one entity, newest first as far as Kommo orders them; `[]` when there are none. */
export async function listNotes(
  ctx: EndpointContext,
  entityType: EntityType | string,
  entityId: number,
  filter: NoteFilter = {},
  opts?: RequestOptions,
): Promise<Note[]> {
  const path = notesPath(entityType, entityId);
  const types = filter.note_type ?? [];
  const query: Record<string, string> = { 'order[id]': 'desc' };
  types.forEach((type, i) => {
    query[`filter[note_type][${i}]`] = type;
  });
  const notes = await listAll<Note>(ctx, path, 'notes', query, opts, MAX_NOTE_PAGES);
  const wanted = new Set(types);
  return notes.filter((n) => typeof n?.id === 'number' && (wanted.size === 0 || (typeof n.note_type === 'string' && wanted.has(n.note_type))));
}
