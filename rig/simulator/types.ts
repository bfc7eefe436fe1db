/**
 * Data types of the Kommo simulator: the seed (account, users, fields, pipelines),
 * the stored entities and the options. Entities are stored close to the shape Kommo
 * answers with; relations and simulator-only flags (`hidden`) live beside them and are
 * stripped by `render.ts`.
 */

export interface Account {
  id: number;
  name: string;
  subdomain: string;
  /** The user every token of this simulator acts as (created_by/updated_by default). */
  current_user_id: number;
  country: string;
  currency: string;
  created_at: number;
}

export type Right = 'A' | 'G' | 'M' | 'D';

export interface User {
  id: number;
  name: string;
  email: string;
  lang: string;
  rights: {
    leads: Record<string, Right>;
    contacts: Record<string, Right>;
    companies: Record<string, Right>;
    tasks: Record<string, Right>;
    mail_access: boolean;
    catalog_access: boolean;
    is_admin: boolean;
    is_free: boolean;
    is_active: boolean;
    group_id: number | null;
    role_id: number | null;
  };
}

export interface CustomFieldEnum {
  id: number;
  value: string;
  sort: number;
}

export type CustomFieldType =
  | 'text' | 'numeric' | 'checkbox' | 'select' | 'multiselect' | 'multitext'
  | 'date' | 'url' | 'textarea' | 'radiobutton';

export interface CustomField {
  id: number;
  name: string;
  type: CustomFieldType;
  code: string | null;
  sort: number;
  enums: CustomFieldEnum[] | null;
}

export interface PipelineStatus {
  id: number;
  name: string;
  sort: number;
  /** 0 regular, 1 "incoming leads" (unsorted). 142 won and 143 lost are regular. */
  type: 0 | 1;
  color: string;
}

export interface Pipeline {
  id: number;
  name: string;
  sort: number;
  is_main: boolean;
  statuses: PipelineStatus[];
}

export interface TaskType {
  id: number;
  name: string;
  code: string | null;
}

export interface FieldValue {
  value: string | number | boolean;
  enum_id?: number;
  enum_code?: string;
}

export interface CustomFieldValue {
  field_id: number;
  field_name: string;
  field_code: string | null;
  field_type: CustomFieldType;
  values: FieldValue[];
}

export interface Tag {
  id: number;
  name: string;
}

interface Base {
  id: number;
  name: string;
  responsible_user_id: number;
  group_id: number;
  created_by: number;
  updated_by: number;
  created_at: number;
  updated_at: number;
  is_deleted: boolean;
  custom_fields_values: CustomFieldValue[] | null;
  tags: Tag[];
  /** Created through an incoming (unsorted) lead that is not accepted yet. */
  hidden: boolean;
}

export interface Contact extends Base {
  first_name: string;
  last_name: string;
  company_ids: number[];
}

export type Company = Base;

export interface Lead extends Base {
  price: number;
  status_id: number;
  pipeline_id: number;
  closed_at: number | null;
  contact_ids: number[];
  company_id: number | null;
}

export type EntityType = 'leads' | 'contacts' | 'companies';

export interface Note {
  id: number;
  entity_id: number;
  entity_type: EntityType;
  note_type: string;
  params: Record<string, unknown>;
  responsible_user_id: number;
  created_by: number;
  created_at: number;
}

export interface Call {
  id: number;
  /** The note written on the entity. */
  note_id: number;
  entity_id: number;
  entity_type: EntityType;
  request_id: string;
  body: Record<string, unknown>;
  created_at: number;
}

/** One popup shown by `POST /api/v2/events` (type `phone_call`). */
export interface CallNotificationRecord {
  /** 1, 2, … in order of arrival. */
  id: number;
  /** Epoch ms the request was handled. */
  at: number;
  phone_number: string;
  /** Who it was shown to (every active user when the request named nobody). */
  users: number[];
  user_names: string[];
  /** The request had no `users`: Kommo shows it to everyone. */
  to_everyone: boolean;
  /** What the popup offers to open, or null: an unknown number ("create a contact"). */
  shown: { entity_type: EntityType; entity_id: number; name: string } | null;
}

export interface Task {
  id: number;
  text: string;
  complete_till: number;
  task_type_id: number;
  entity_id: number | null;
  entity_type: EntityType | null;
  responsible_user_id: number;
  created_by: number;
  updated_by: number;
  created_at: number;
  updated_at: number;
  is_completed: boolean;
  duration: number;
  result: { text: string } | null;
}

export interface Unsorted {
  uid: string;
  source_uid: string;
  source_name: string;
  category: 'sip';
  pipeline_id: number;
  created_at: number;
  metadata: Record<string, unknown>;
  lead_ids: number[];
  contact_ids: number[];
  status: 'pending' | 'accepted' | 'declined';
  duplicate: boolean;
}

/** A contact or company as given to `seed()`: validation is skipped on purpose. */
export interface SeedParty {
  id?: number;
  name: string;
  responsible_user_id?: number;
  created_by?: number;
  /** Phone values, stored in the PHONE field with enum WORK. */
  phones?: string[];
  emails?: string[];
  /** Extra values, by field code or id: `{field_code: 'POSITION', values: [{value}]}`. */
  custom_fields_values?: Array<{ field_id?: number; field_code?: string; values: FieldValue[] }>;
  /** Contacts only: linked companies. */
  company_ids?: number[];
  tags?: string[];
}

export interface SeedLead {
  id?: number;
  name: string;
  price?: number;
  pipeline_id?: number;
  status_id?: number;
  responsible_user_id?: number;
  contact_ids?: number[];
  company_id?: number;
}

export interface SeedData {
  account: Account;
  users: User[];
  /** Users that existed once: ids kept by old entities, rejected in new bodies. */
  deletedUserIds: number[];
  contactCustomFields: CustomField[];
  companyCustomFields: CustomField[];
  leadCustomFields: CustomField[];
  pipelines: Pipeline[];
  taskTypes: TaskType[];
  contacts: SeedParty[];
  companies: SeedParty[];
  leads: SeedLead[];
}

export interface OAuthOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** The first refresh token; single-use like every later one. */
  refreshToken: string;
  /** Accepted once by the `authorization_code` grant. */
  authorizationCode?: string;
  accessTokenTtlSeconds?: number;
  /** A refresh revokes the access token issued with the old pair (default true). */
  revokeOldAccessToken?: boolean;
}

export interface SimLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SimulatorOptions {
  host?: string;
  port?: number;
  /** Requests admitted per sliding 1 s window for the account (default 7; 0 = off). */
  rateLimitPerSecond?: number;
  /** This many 429s within 10 s block the account (default 20). */
  blockAfter429s?: number;
  /** How long a block lasts (default 60 000 ms). */
  blockMs?: number;
  /** 429 body: problem JSON, plain text, or a random pick per answer (default 'json'). */
  rateLimitBody?: 'json' | 'text' | 'random';
  /** Accepted as Bearer forever. Default: a random JWT-looking token (see `sim.longLivedToken`). */
  longLivedToken?: string;
  oauth?: OAuthOptions;
  latencyMs?: number;
  unsortedDuplicates?: 'reject' | 'tag';
  /** What GET of an unknown/hidden entity by id answers (default 204, as Kommo does). */
  missingEntityStatus?: 204 | 404;
  /** Reject deactivated users (`rights.is_active: false`) in bodies (default true). */
  rejectInactiveUsers?: boolean;
  /** Keep at most this many request-log entries (default 10 000). */
  maxLogEntries?: number;
  seed?: Partial<SeedData>;
  logger?: SimLogger;
  /** Clock in ms (default Date.now): timestamps, token expiry, rate windows. */
  now?: () => number;
}

export interface RequestLogEntry {
  /** Epoch ms of arrival. */
  at: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** Parsed JSON (secrets redacted), raw text when not JSON, or undefined. */
  body: unknown;
  /** 0 when no HTTP answer was given (down, or the client went away). */
  status: number;
  auth: 'ok' | 'none' | 'bad';
  route: string;
}

export interface SimCounters {
  total: number;
  byStatus: Record<number, number>;
  rateLimited: number;
  /** Keyed 'METHOD /route/{pattern}', e.g. 'POST /oauth2/access_token', 'GET /api/v4/contacts'. */
  byRoute: Record<string, number>;
  /** Successful refresh_token grants. */
  refreshes: number;
  /** Requests dropped without an answer by `faults.down`. */
  dropped: number;
  /** Answers given while the account was blocked (403 HTML). */
  blocked: number;
}
