/**
 * The 13 customization hooks of customizations/README.md: a closed, named set, each with a
 * typed input and output. Field names are snake_case on purpose: they are the
 * customizations' contract, documented with JSON examples in customizations/README.md.
 *
 * Conventions of the inputs:
 * - every hook that runs for a call receives `call_full` (customizations/README.md, `call_full`);
 * - the hooks that return "the body, changed" (2, 4, 5, 8, 11, 12, 13) receive that
 *   body as `params` and return the changed body itself as `data`;
 * - the FastAGI (hook 9) and click-to-call (hook 6) hooks run before any call model
 *   exists, so they have no `call_full`; hook 3 gets `call_full: null` when it runs
 *   for the FastAGI lookup.
 */
import type { CallFull, CallStage, KommoEntityRef } from '../../domain/call/types.js';

export { HOOK_NAMES, isHookName, type HookName } from '../../platform/hook-names.js';

/** Every answer of a customization, module or executable, has this envelope. */
export interface HookResult<T> {
  state: 'success' | string;
  data: T;
}

// ---------------------------------------------------------------------------
// Kommo bodies (as the connector would send them; the Kommo client adapts them)
// ---------------------------------------------------------------------------

export interface KommoFieldValue {
  value: unknown;
  enum_code?: string;
  enum_id?: number;
  [field: string]: unknown;
}

/** One entry of `custom_fields_values`: addressed by `field_id` or `field_code`. */
export interface KommoCustomFieldValues {
  field_id?: number;
  field_code?: string;
  values: KommoFieldValue[];
  [field: string]: unknown;
}

export interface KommoTagRef {
  id?: number;
  name?: string;
}

/** Kommo's `call_status`: 1 left a message … 7 busy (README, "Which calls are registered, and how"). */
export type KommoCallStatus = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Hook 2: the body for Kommo's calls API (`POST /api/v4/calls`, one element). */
export interface KommoCallBody {
  call_result?: string;
  call_status?: KommoCallStatus;
  /** Unix seconds. */
  created_at?: number;
  created_by?: number;
  direction: 'inbound' | 'outbound';
  /** Seconds, of the last conversation. */
  duration: number;
  link?: string;
  /** The client's number, already through hook 3. */
  phone: string;
  responsible_user_id?: number;
  source: string;
  [field: string]: unknown;
}

/** Hook 4: a contact to create. Any other Kommo contact field may be added. */
export interface KommoContactBody {
  /** Default `Contact <phone>`. */
  name?: string;
  first_name?: string;
  last_name?: string;
  responsible_user_id?: number;
  created_by?: number;
  /** Tag names; default `["<product tag>"]`. */
  tags?: string[];
  /** Holds the phone in the field of code `PHONE`, enum `WORK`. */
  custom_fields_values?: KommoCustomFieldValues[];
  _embedded?: { tags?: KommoTagRef[]; companies?: Array<{ id: number }>; [field: string]: unknown };
  [field: string]: unknown;
}

/** Hook 5: a lead to create. */
export interface KommoLeadBody {
  /** Default `<phone> - [missed] incoming/outgoing`. */
  name?: string;
  pipeline_id?: number;
  status_id?: number;
  responsible_user_id?: number;
  price?: number;
  custom_fields_values?: KommoCustomFieldValues[];
  _embedded?: {
    contacts?: Array<{ id: number; [field: string]: unknown }>;
    tags?: KommoTagRef[];
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** Hooks 11 and 12: the update the connector would send (may be empty → no request). */
export interface KommoEntityUpdate {
  name?: string;
  responsible_user_id?: number;
  custom_fields_values?: KommoCustomFieldValues[];
  _embedded?: { tags?: KommoTagRef[]; [field: string]: unknown };
  [field: string]: unknown;
}

/** Hook 8: a call-back task. */
export interface KommoTaskBody {
  /** Unix seconds. */
  complete_till: number;
  created_by?: number;
  entity_id: number;
  entity_type: 'contacts' | 'leads' | 'companies';
  is_completed?: boolean;
  responsible_user_id?: number;
  /** 1 call, 2 meeting, 3 email (or an account's own task type id). */
  task_type: number;
  /** Default `Call back <entity name> on a missed call from <phone>`. */
  text: string;
  [field: string]: unknown;
}

/** Hook 13: the body for `POST /api/v4/leads/unsorted/sip` (one element). */
export interface KommoUnsortedBody {
  source_uid: string;
  source_name: string;
  pipeline_id?: number;
  /** Unix seconds. */
  created_at?: number;
  metadata: {
    uniq?: string;
    duration?: number;
    service_code?: string;
    link?: string;
    phone?: string;
    /** Unix seconds. */
    called_at?: number;
    from?: string;
    [field: string]: unknown;
  };
  _embedded?: {
    contacts?: KommoContactBody[];
    leads?: KommoLeadBody[];
    companies?: Array<Record<string, unknown>>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

// ---------------------------------------------------------------------------
// Other hooks' data
// ---------------------------------------------------------------------------

/** Hook 6: the AMI Originate of click-to-call. */
export interface OriginateParams {
  caller_id: string;
  /** The employee's channel, dialled first, e.g. `PJSIP/101`. */
  channel: string;
  context: string;
  /** The client's number, dialled in `context`. */
  extension: string;
  priority: number | string;
}

export interface OriginateInput extends OriginateParams {
  /** The click-to-call request as the widget sent it (read-only). */
  request_data: Record<string, unknown>;
}

/** What the caller-side (FastAGI) lookup found; the read-only part of hook 9's input. */
export interface AutodistributionReadOnly {
  /** The caller's number, after rewriting and hook 3. */
  from?: string;
  /** The trunk the call came in on. */
  trunk?: string;
  /** The AGI request: script, arguments and `agi_*` environment. */
  request_data?: Record<string, unknown>;
  /** The contact/company found, with its responsible user. */
  entity?: KommoEntityRef;
  /** Why nothing was found: e.g. `not_found`, `timeout`, `error`. */
  error?: string;
}

/** Hook 9's data: where to route and what CallerID name to show. */
export interface AutodistributionResult {
  /** The extension to route to; `""` = the normal route. */
  number: string;
  /** CallerID name; cut to 20 characters by the connector. */
  name: string;
}

export type AutodistributionInput = AutodistributionResult & AutodistributionReadOnly;

/** Hook 7's data. */
export interface RecordFileResult {
  /** The file to link (absolute path). */
  path: string;
  /**
   * Whether the connector should still convert `path` to mp3 (when it is not one).
   * Absent → the configured default (`recordings.convert_to_mp3`).
   */
  convert_to_mp3?: boolean;
}

/** Hook 10's input: what was registered. Ids are absent when nothing was created or found. */
export interface RegisteredIds {
  call_id?: number;
  contact_id?: number;
  company_id?: number;
  lead_id?: number;
  task_id?: number;
  unsorted_uid?: string;
  /** True when the contact was created for this call (false: it already existed). */
  contact_created?: boolean;
  lead_created?: boolean;
}

// ---------------------------------------------------------------------------
// The maps
// ---------------------------------------------------------------------------

export interface HookInputs {
  need_registration: { call_full: CallFull; call_stage: CallStage };
  process_call_params: { call_full: CallFull; params: KommoCallBody };
  process_client_phone: { call_full: CallFull | null; call_stage: CallStage; phone: string };
  process_contact_creation_params: { call_full: CallFull; params: KommoContactBody };
  process_lead_creation_params: { call_full: CallFull; params: KommoLeadBody };
  process_originate_params: OriginateInput;
  process_record_file_path: { call_full: CallFull; path: string };
  /**
   * `action` absent: a call-back task is about to be created. `action: "complete"`
   * (registration.tasks.auto_complete): the open call-back task `task_id` is about to be
   * completed; `params` is that task with `is_completed: true` and `result_text`; return
   * `is_completed: false` to leave it open, or another `result_text`.
   */
  process_task_creation_params: { call_full: CallFull; params: KommoTaskBody; action?: 'complete'; task_id?: number };
  process_autodistribution: AutodistributionInput;
  post_registration: { call_full: CallFull; registered: RegisteredIds };
  process_contact_update_params: { call_full: CallFull; params: KommoEntityUpdate };
  process_lead_update_params: { call_full: CallFull; params: KommoEntityUpdate };
  process_unsorted_creation_params: { call_full: CallFull; params: KommoUnsortedBody };
}

export interface HookOutputs {
  need_registration: { result: boolean };
  process_call_params: KommoCallBody;
  process_client_phone: { phone: string };
  process_contact_creation_params: KommoContactBody;
  process_lead_creation_params: KommoLeadBody;
  process_originate_params: OriginateParams;
  process_record_file_path: RecordFileResult;
  process_task_creation_params: KommoTaskBody;
  process_autodistribution: AutodistributionResult;
  /** Nothing required; whatever the hook returns is logged at debug and otherwise ignored. */
  post_registration: Record<string, unknown>;
  process_contact_update_params: KommoEntityUpdate;
  process_lead_update_params: KommoEntityUpdate;
  process_unsorted_creation_params: KommoUnsortedBody;
}

