/**
 * The journal record of one call's registration (README, "Nothing lost, nothing twice").
 *
 * One record per call (linkedid). It holds the finished `call_full`, written before
 * any Kommo request, and the result of every pipeline step, written before the next
 * step starts, so a retry resumes where it stopped and never creates anything twice.
 */
import type { CallFull } from '../call/types.js';

export type RecordStatus = 'pending' | 'done' | 'failed' | 'skipped';

/** Creates that may have reached Kommo without the connector learning the result. */
export type CreateKind = 'contact' | 'lead' | 'unsorted' | 'call' | 'task';

export interface StepResults {
  /** Built-in lists and hook 1 said "register" (asked once per record). */
  need_registration?: boolean;
  /** Client number after built-in rewriting and hook 3. */
  client_phone?: string;
  /**
   * The recording link (`call_full.record` from here on), resolved once before any
   * body that carries it; `""` = no recording, it failed or took too long. Absent when
   * the registrar has no recording linker.
   */
  record_link?: string;
  /** The client's contact: found, or created by this registration. */
  contact_id?: number;
  contact_name?: string;
  contact_responsible_user_id?: number;
  /** True when this registration created the contact (or the unsorted lead's contact). */
  contact_created?: boolean;
  /** No contact, but a company has the number (nothing is created then). */
  company_id?: number;
  company_name?: string;
  company_responsible_user_id?: number;
  /** Hook 11 ran and its update (if any) was sent. */
  contact_update_done?: boolean;
  /** The client's lead: existing (call_full.deal / the contact's single lead) or created here. */
  lead_id?: number;
  lead_created?: boolean;
  /** Hook 12 ran and its update (if any) was sent. */
  lead_update_done?: boolean;
  /** Incoming lead (`leads/unsorted/sip`). */
  unsorted_uid?: string;
  /** Set once step 3 (entities) is complete. */
  entities_done?: boolean;
  /** The call record (Kommo answers with the note id) and where Kommo put it. */
  call_id?: number;
  call_entity_id?: number;
  call_entity_type?: string;
  /** Task id, or 0 when no task was needed. */
  task_id?: number;
  /** auto_complete: call-back tasks completed by this (answered) call, saved one by one. */
  tasks_completed?: number[];
  /** auto_complete: the completion step is over. */
  tasks_completed_done?: boolean;
  post_registration_done?: boolean;
  /**
   * Write-ahead intent of a create: the request_id sent. Present while the create
   * is in flight or when its outcome is unknown (maybeApplied, or a crash): the
   * next attempt looks in Kommo before creating again.
   */
  intents?: Partial<Record<CreateKind, string>>;
}

export interface RecordError {
  code: string;
  message: string;
  /** HTTP status when Kommo answered. */
  status?: number;
}

export interface CallRecord {
  /** Format version. */
  v: 1;
  /** Safe file id derived from the linkedid (never a path). */
  id: string;
  /**
   * The call's key: its linkedid, or `<server>.<linkedid>` with several AMI servers
   * (store.ts `callKeyOf`). Also the `uniq` sent to Kommo.
   */
  linkedid: string;
  status: RecordStatus;
  /** Why a record was skipped (hook 1, lists, internal call, no number). */
  skip_reason?: string;
  /** Unix ms. */
  created_at: number;
  updated_at: number;
  /** Call start (Unix ms), for listByPeriod. */
  call_started_at: number;
  attempts: number;
  /** Unix ms; the worker does not start the record before that. */
  next_attempt_at: number;
  last_error: RecordError | null;
  call: CallFull;
  steps: StepResults;
}

export interface StoreStats {
  pending: number;
  done: number;
  failed: number;
  skipped: number;
  /** Files moved to quarantine since the store was opened. */
  quarantined: number;
  /** Oldest pending record's call start (Unix ms), or null. */
  oldest_pending_at: number | null;
}
