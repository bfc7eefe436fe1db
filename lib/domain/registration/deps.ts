/**
 * What registration needs from its collaborators, as structural subsets, so the
 * pipeline is tested with small in-memory fakes and the real KommoClient/HookRunner
 * plug in unchanged (they are wider).
 */
import type { Logger } from 'pino';
import type { CallFull } from '../call/types.js';
import type { Config, DeepReadonly } from '../../platform/config/types.js';
import type { HookInputs, HookName, HookOutputs } from '../../adapters/hooks/types.js';
import type { CallCreate, LeadCreate, PartyCreate, TaskCreate, UnsortedSipCreate } from '../../adapters/kommo/types.js';

/** A contact as search answers it (enough for registration). */
export interface RegContact {
  id: number;
  name?: string | null;
  responsible_user_id?: number | null;
  _embedded?: { leads?: ReadonlyArray<{ id: number }> | null; [k: string]: unknown } | null;
}

export interface RegTask {
  id: number;
  text?: string | null;
  entity_id?: number | null;
  entity_type?: string | null;
  is_completed?: boolean | null;
  task_type_id?: number | null;
  /** Unix seconds. */
  created_at?: number | null;
  complete_till?: number | null;
  responsible_user_id?: number | null;
}

export interface RegNote {
  id: number;
  note_type?: string | null;
  params?: { uniq?: unknown; [k: string]: unknown } | null;
}

export interface CallCreated {
  id: number;
  entityId?: number;
  entityType?: string;
}

export interface UnsortedCreated {
  uid: string;
  leadId?: number;
  contactId?: number;
}

export interface CreateOpts {
  requestId?: string;
}

/** The subset of lib/adapters/kommo's KommoClient that registration uses. */
export interface RegistrationKommo {
  /** Contacts whose PHONE really matches (the client filters full-text hits), with their leads. */
  findContactsByPhone(phone: string): Promise<readonly RegContact[]>;
  /** Optional: companies whose PHONE really matches (asked when no contact has the number). */
  findCompaniesByPhone?(phone: string): Promise<readonly RegContact[]>;
  createContact(body: PartyCreate, opts?: CreateOpts): Promise<{ id: number }>;
  updateContact(id: number, patch: Partial<PartyCreate>): Promise<unknown>;
  createLead(body: LeadCreate, opts?: CreateOpts): Promise<{ id: number }>;
  updateLead(id: number, patch: Partial<LeadCreate>): Promise<unknown>;
  createUnsortedSip(body: UnsortedSipCreate, opts?: CreateOpts): Promise<UnsortedCreated>;
  createTask(body: TaskCreate, opts?: CreateOpts): Promise<{ id: number }>;
  listTasks(filter: { entityType: string; entityId: number; isCompleted?: boolean }): Promise<readonly RegTask[]>;
  /** Complete a task with a result text (`registration.tasks.auto_complete`). */
  completeTask(id: number, resultText: string): Promise<void>;
  createCall(body: CallCreate, opts?: CreateOpts): Promise<CallCreated>;
  /** A contact with its leads (to find a lead whose create's answer was lost); null when gone. */
  getContact(id: number): Promise<RegContact | null>;
  /**
   * Optional (lib/adapters/kommo has no note listing yet): notes of an entity, to find a call
   * note whose create's answer was lost. Without it such a call is sent again.
   */
  listNotes?(entityType: string, entityId: number, filter?: { note_type?: readonly string[] }): Promise<readonly RegNote[]>;
}

export interface HookRunOutcome<T> {
  data: T;
  applied: boolean;
  error?: unknown;
}

/** The subset of lib/adapters/hooks' HookRunner that registration uses (never throws). */
export interface RegistrationHooks {
  run<H extends HookName>(
    hook: H,
    input: HookInputs[H],
    defaults: HookOutputs[H],
    opts?: { logger?: Logger },
  ): Promise<HookRunOutcome<HookOutputs[H]>>;
}

/** The configuration sections registration reads. */
export type RegistrationSettings = DeepReadonly<Pick<Config, 'registration' | 'pbx' | 'phone'>> & {
  readonly kommo: DeepReadonly<Pick<Config['kommo'], 'source' | 'tag' | 'phone_enum'>>;
};

/** One MixMonitor file of the call; `uniqueid` names the conversation that recorded it. */
export interface RecordingCandidateRef {
  path: string;
  uniqueid?: string;
}

/**
 * Makes the link to a call's recording (lib/domain/recordings' processor fits through a small
 * adapter built in bin/): finds the file among the candidates, waits until it is closed,
 * runs hook 7, converts, signs. Answers `""` when there is nothing to link. May throw or
 * be slow: the pipeline bounds it and falls back to `""`.
 */
export interface RecordingLinker {
  link(
    call: CallFull,
    candidates: ReadonlyArray<string | RecordingCandidateRef>,
    opts?: { signal?: AbortSignal; logger?: Logger },
  ): Promise<string>;
}
