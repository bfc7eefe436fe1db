/**
 * The simulator's in-memory store. Entities live in Maps keyed by id (unsorted by uid,
 * calls in an array in creation order); the seed (account, users, fields, pipelines,
 * task types) lives in plain arrays. Ids come from one counter per entity type, in
 * separate ranges, so an id of the wrong type never finds anything.
 */
import { defaultSeed } from './seed.js';
import type {
  Account, Call, CallNotificationRecord, Company, Contact, CustomField, CustomFieldValue, EntityType, FieldValue, Lead, Note,
  Pipeline, PipelineStatus, SeedData, SeedLead, SeedParty, Tag, Task, TaskType, Unsorted, User,
} from './types.js';

export const ID_BASE = {
  leads: 2_000_000, contacts: 3_000_000, companies: 4_000_000, tasks: 6_000_000, notes: 9_000_000, tags: 100,
} as const;

type SeqKind = keyof typeof ID_BASE;

export function digitsOf(value: unknown): string {
  return String(value).replace(/\D/g, '');
}

export function last10(value: unknown): string {
  return digitsOf(value).slice(-10);
}

export class SimState {
  account!: Account;
  users: User[] = [];
  deletedUserIds = new Set<number>();
  customFields: Record<'contacts' | 'companies' | 'leads', CustomField[]> = { contacts: [], companies: [], leads: [] };
  pipelines: Pipeline[] = [];
  taskTypes: TaskType[] = [];

  contacts = new Map<number, Contact>();
  companies = new Map<number, Company>();
  leads = new Map<number, Lead>();
  unsorted = new Map<string, Unsorted>();
  calls: Call[] = [];
  /** Popups shown by `POST /api/v2/events`, in order. */
  notifications: CallNotificationRecord[] = [];
  notes = new Map<number, Note>();
  tasks = new Map<number, Task>();
  tags = new Map<string, Tag>();

  private seq: Record<SeqKind, number> = { ...ID_BASE };
  private readonly clock: () => number;

  constructor(seed: Partial<SeedData> | undefined, clock: () => number) {
    this.clock = clock;
    this.applySeed({ ...defaultSeed(), ...seed });
  }

  /** Epoch ms. */
  nowMs(): number {
    return this.clock();
  }

  /** Unix seconds. */
  nowSec(): number {
    return Math.floor(this.clock() / 1000);
  }

  nextId(kind: SeqKind): number {
    this.seq[kind] += 1;
    return this.seq[kind];
  }

  /** Replace the parts of the seed that are given; add the given contacts/companies/leads. */
  applySeed(data: Partial<SeedData>): void {
    if (data.account) this.account = { ...data.account };
    if (data.users) this.users = structuredClone(data.users);
    if (data.deletedUserIds) this.deletedUserIds = new Set(data.deletedUserIds);
    if (data.contactCustomFields) this.customFields.contacts = structuredClone(data.contactCustomFields);
    if (data.companyCustomFields) this.customFields.companies = structuredClone(data.companyCustomFields);
    if (data.leadCustomFields) this.customFields.leads = structuredClone(data.leadCustomFields);
    if (data.pipelines) this.pipelines = structuredClone(data.pipelines);
    if (data.taskTypes) this.taskTypes = structuredClone(data.taskTypes);
    for (const c of data.companies ?? []) this.seedParty('companies', c);
    for (const c of data.contacts ?? []) this.seedParty('contacts', c);
    for (const l of data.leads ?? []) this.seedLead(l);
  }

  /** Drop every entity; keep account, users, fields, pipelines, task types. */
  clearEntities(): void {
    this.contacts.clear();
    this.companies.clear();
    this.leads.clear();
    this.unsorted.clear();
    this.calls.length = 0;
    this.notifications.length = 0;
    this.notes.clear();
    this.tasks.clear();
    this.tags.clear();
    this.seq = { ...ID_BASE };
  }

  user(id: number): User | undefined {
    return this.users.find((u) => u.id === id);
  }

  field(entity: 'contacts' | 'companies' | 'leads', ref: { field_id?: unknown; field_code?: unknown }): CustomField | undefined {
    const list = this.customFields[entity];
    if (typeof ref.field_id === 'number') return list.find((f) => f.id === ref.field_id);
    if (typeof ref.field_code === 'string') return list.find((f) => f.code === ref.field_code);
    return undefined;
  }

  pipeline(id: number): Pipeline | undefined {
    return this.pipelines.find((p) => p.id === id);
  }

  mainPipeline(): Pipeline {
    const main = this.pipelines.find((p) => p.is_main) ?? this.pipelines[0];
    if (!main) throw new Error('simulator seed has no pipeline');
    return main;
  }

  status(pipeline: Pipeline, statusId: number): PipelineStatus | undefined {
    return pipeline.statuses.find((s) => s.id === statusId);
  }

  /** The first regular status (not incoming, not won/lost): where new leads go. */
  firstStatus(pipeline: Pipeline): PipelineStatus {
    const st = pipeline.statuses.find((s) => s.type === 0 && s.id !== 142 && s.id !== 143) ?? pipeline.statuses[0];
    if (!st) throw new Error(`pipeline ${pipeline.id} has no status`);
    return st;
  }

  incomingStatus(pipeline: Pipeline): PipelineStatus {
    return pipeline.statuses.find((s) => s.type === 1) ?? this.firstStatus(pipeline);
  }

  tag(name: string): Tag {
    let tag = this.tags.get(name);
    if (!tag) {
      tag = { id: this.nextId('tags'), name };
      this.tags.set(name, tag);
    }
    return tag;
  }

  /** Build stored custom field values from already-validated input. */
  fieldValues(entity: 'contacts' | 'companies' | 'leads',
    input: ReadonlyArray<{ field_id?: unknown; field_code?: unknown; values: FieldValue[] }>): CustomFieldValue[] {
    const out: CustomFieldValue[] = [];
    for (const item of input) {
      const field = this.field(entity, item);
      if (!field) continue;
      const values = item.values.map((v) => {
        const en = field.enums?.find((e) => (v.enum_id !== undefined ? e.id === v.enum_id : e.value === v.enum_code))
          ?? (field.type === 'multitext' ? field.enums?.[0] : undefined);
        return en ? { value: v.value, enum_id: en.id, enum_code: en.value } : { value: v.value };
      });
      out.push({ field_id: field.id, field_name: field.name, field_code: field.code, field_type: field.type, values });
    }
    return out;
  }

  /** Merge values into an entity's custom fields: a given field replaces that field only. */
  mergeFieldValues(current: CustomFieldValue[] | null, update: CustomFieldValue[]): CustomFieldValue[] | null {
    const out = (current ?? []).filter((cf) => !update.some((u) => u.field_id === cf.field_id));
    out.push(...update.filter((u) => u.values.length > 0));
    return out.length > 0 ? out : null;
  }

  /** Visible (not hidden, not deleted) contacts and companies whose PHONE value has these last 10 digits. */
  findByPhone(phone: string): Array<{ type: 'contacts' | 'companies'; entity: Contact | Company }> {
    const want = last10(phone);
    if (want.length === 0) return [];
    const hits: Array<{ type: 'contacts' | 'companies'; entity: Contact | Company }> = [];
    const scan = (type: 'contacts' | 'companies', map: Map<number, Contact | Company>): void => {
      for (const e of map.values()) {
        if (e.hidden || e.is_deleted) continue;
        const phones = (e.custom_fields_values ?? []).filter((cf) => cf.field_code === 'PHONE').flatMap((cf) => cf.values);
        if (phones.some((v) => last10(v.value) === want)) hits.push({ type, entity: e });
      }
    };
    scan('contacts', this.contacts);
    scan('companies', this.companies);
    return hits;
  }

  /** Visible leads linked to a contact or a company. */
  leadsOf(type: 'contacts' | 'companies', id: number): Lead[] {
    return [...this.leads.values()].filter((l) => !l.hidden && !l.is_deleted
      && (type === 'contacts' ? l.contact_ids.includes(id) : l.company_id === id));
  }

  isActiveLead(lead: Lead): boolean {
    return lead.status_id !== 142 && lead.status_id !== 143;
  }

  entityExists(type: EntityType, id: number): boolean {
    const e = type === 'leads' ? this.leads.get(id) : type === 'contacts' ? this.contacts.get(id) : this.companies.get(id);
    return e !== undefined && !e.hidden && !e.is_deleted;
  }

  private seedParty(type: 'contacts' | 'companies', s: SeedParty): void {
    const now = this.nowSec();
    const id = s.id ?? this.nextId(type);
    if (s.id !== undefined && s.id > this.seq[type]) this.seq[type] = s.id;
    const cfv = [
      ...(s.phones?.length ? [{ field_code: 'PHONE', values: s.phones.map((value) => ({ value, enum_code: 'WORK' })) }] : []),
      ...(s.emails?.length ? [{ field_code: 'EMAIL', values: s.emails.map((value) => ({ value, enum_code: 'WORK' })) }] : []),
      ...(s.custom_fields_values ?? []),
    ];
    const values = this.fieldValues(type, cfv.map((c) => ({ ...c, values: c.values.map((v) => ({ ...v })) })));
    const owner = this.account.current_user_id;
    const base = {
      id, name: s.name, responsible_user_id: s.responsible_user_id ?? owner, group_id: 0,
      created_by: s.created_by ?? owner, updated_by: s.created_by ?? owner, created_at: now, updated_at: now,
      is_deleted: false, custom_fields_values: values.length ? values : null,
      tags: (s.tags ?? []).map((t) => this.tag(t)), hidden: false,
    };
    if (type === 'contacts') {
      const [first = '', ...rest] = s.name.split(' ');
      this.contacts.set(id, { ...base, first_name: first, last_name: rest.join(' '), company_ids: [...(s.company_ids ?? [])] });
    } else {
      this.companies.set(id, base);
    }
  }

  private seedLead(s: SeedLead): void {
    const now = this.nowSec();
    const id = s.id ?? this.nextId('leads');
    if (s.id !== undefined && s.id > this.seq.leads) this.seq.leads = s.id;
    const pipeline = (s.pipeline_id !== undefined ? this.pipeline(s.pipeline_id) : undefined) ?? this.mainPipeline();
    const owner = this.account.current_user_id;
    const statusId = s.status_id ?? this.firstStatus(pipeline).id;
    this.leads.set(id, {
      id, name: s.name, price: s.price ?? 0, responsible_user_id: s.responsible_user_id ?? owner, group_id: 0,
      created_by: owner, updated_by: owner, created_at: now, updated_at: now, is_deleted: false,
      custom_fields_values: null, tags: [], hidden: false, status_id: statusId, pipeline_id: pipeline.id,
      closed_at: statusId === 142 || statusId === 143 ? now : null,
      contact_ids: [...(s.contact_ids ?? [])], company_id: s.company_id ?? null,
    });
  }
}
