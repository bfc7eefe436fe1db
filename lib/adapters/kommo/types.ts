/**
 * Kommo entities as the client returns them: Kommo's own snake_case shape (the hooks and
 * `call_full` hand them on unchanged), typed where the connector relies on a field and
 * open (`[field: string]: unknown`) for everything else.
 */

export interface FieldValue {
  value: string | number | boolean;
  enum_id?: number;
  enum_code?: string;
  [field: string]: unknown;
}

export interface CustomFieldValue {
  field_id?: number;
  field_code?: string | null;
  field_name?: string;
  field_type?: string;
  values: FieldValue[];
  [field: string]: unknown;
}

export interface Account {
  id: number;
  name: string;
  subdomain: string;
  current_user_id?: number;
  [field: string]: unknown;
}

export interface User {
  id: number;
  name: string;
  email?: string;
  rights?: { is_admin?: boolean; is_active?: boolean; [field: string]: unknown };
  [field: string]: unknown;
}

export interface CustomFieldEnum {
  id: number;
  value: string;
  sort?: number;
}

export interface CustomField {
  id: number;
  name: string;
  type: string;
  code: string | null;
  sort?: number;
  enums: CustomFieldEnum[] | null;
  [field: string]: unknown;
}

export interface PipelineStatus {
  id: number;
  name: string;
  pipeline_id?: number;
  type?: number;
  sort?: number;
  [field: string]: unknown;
}

export interface Pipeline {
  id: number;
  name: string;
  is_main: boolean;
  sort?: number;
  _embedded?: { statuses?: PipelineStatus[]; [field: string]: unknown };
  [field: string]: unknown;
}

export interface EntityLink {
  id: number;
  [field: string]: unknown;
}

interface Party {
  id: number;
  name: string;
  responsible_user_id: number;
  created_by?: number;
  custom_fields_values: CustomFieldValue[] | null;
  _embedded?: {
    tags?: Array<{ id?: number; name: string }>;
    leads?: EntityLink[];
    companies?: EntityLink[];
    contacts?: EntityLink[];
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export type Contact = Party;
export type Company = Party;

export interface Lead {
  id: number;
  name: string;
  price?: number;
  responsible_user_id: number;
  pipeline_id?: number;
  status_id?: number;
  closed_at?: number | null;
  _embedded?: { contacts?: EntityLink[]; companies?: EntityLink[]; tags?: Array<{ id?: number; name: string }>; [field: string]: unknown };
  [field: string]: unknown;
}

export interface Task {
  id: number;
  text: string;
  complete_till: number;
  task_type_id: number;
  entity_id: number | null;
  entity_type: string | null;
  responsible_user_id: number;
  is_completed: boolean;
  result?: { text?: string } | null;
  [field: string]: unknown;
}

export type EntityType = 'contacts' | 'companies' | 'leads';

/** Body of a contact/company create; anything else Kommo accepts may be added. */
export interface PartyCreate {
  name?: string;
  first_name?: string;
  last_name?: string;
  responsible_user_id?: number;
  custom_fields_values?: Array<{ field_id?: number; field_code?: string; values: FieldValue[] }>;
  _embedded?: { tags?: Array<{ name?: string; id?: number }>; companies?: Array<{ id: number }>; [field: string]: unknown };
  [field: string]: unknown;
}

export interface LeadCreate {
  name?: string;
  price?: number;
  pipeline_id?: number;
  status_id?: number;
  responsible_user_id?: number;
  _embedded?: { contacts?: Array<{ id: number; is_main?: boolean }>; companies?: Array<{ id: number }>; tags?: Array<{ name?: string; id?: number }>; [field: string]: unknown };
  [field: string]: unknown;
}

export interface UnsortedSipCreate {
  source_uid: string;
  source_name: string;
  pipeline_id?: number;
  created_at?: number;
  metadata: {
    uniq: string;
    duration: number;
    service_code: string;
    link?: string;
    phone: string | number;
    called_at: number;
    from: string;
    is_call_event_needed?: boolean;
    [field: string]: unknown;
  };
  _embedded?: { leads?: LeadCreate[]; contacts?: PartyCreate[]; companies?: PartyCreate[] };
  [field: string]: unknown;
}

export interface TaskCreate {
  text: string;
  complete_till: number;
  task_type_id?: number;
  entity_id?: number;
  entity_type?: EntityType | string;
  responsible_user_id?: number;
  created_by?: number;
  is_completed?: boolean;
  [field: string]: unknown;
}

export interface TaskFilter {
  entityType?: EntityType | string;
  entityId?: number | number[];
  isCompleted?: boolean;
  responsibleUserId?: number;
  taskTypeId?: number;
}

export interface CallCreate {
  direction: 'inbound' | 'outbound';
  duration: number;
  source: string;
  phone: string;
  uniq?: string;
  link?: string;
  call_result?: string;
  call_status?: number;
  call_responsible?: number | string;
  responsible_user_id?: number;
  created_by?: number;
  created_at?: number;
  [field: string]: unknown;
}

export interface NoteCreate {
  note_type: string;
  params?: Record<string, unknown>;
  responsible_user_id?: number;
  created_by?: number;
  [field: string]: unknown;
}

export interface PhoneField {
  fieldId: number;
  enumId: number;
  enumCode: string;
}

/** A ringing call's popup (`POST /api/v2/events`, type `phone_call`). */
export interface CallNotification {
  /** The client's number, in any format (Kommo matches its trailing digits). */
  phone: string;
  /** Kommo user ids to show it to; never empty (Kommo would show it to everyone). */
  users: readonly number[];
}
