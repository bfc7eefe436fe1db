/**
 * The connector's default Kommo bodies for registration (what hooks 2, 4, 5, 8 and 13
 * receive as `params`), and who is responsible. Pure: facts in, plain objects out.
 * Optional fields are omitted, never `null` (Kommo answers 400 NotNullable).
 */
import type { CallFull } from '../call/types.js';
import type {
  KommoCallBody,
  KommoCallStatus,
  KommoContactBody,
  KommoEntityUpdate,
  KommoLeadBody,
  KommoTaskBody,
  KommoUnsortedBody,
} from '../../adapters/hooks/types.js';
import type { CallCreate, LeadCreate, PartyCreate, TaskCreate, UnsortedSipCreate } from '../../adapters/kommo/types.js';
import { isMissed, lastConversationDuration, lastRungConversation, talkedConversation } from '../call/facts.js';
import { callStartedAt, callStatusOf, kommoDirection } from './call-facts.js';
import type { RegistrationSettings } from './deps.js';
import type { StepResults } from './types.js';

/** Drop `undefined` and `null` members (shallow), so nothing optional is sent as null. */
export function compact<T extends object>(body: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (v !== undefined && v !== null) out[k] = v;
  return out as T;
}

/** The employee who talked with the client (Kommo user id), or undefined. */
export function talkedUserId(call: CallFull): number | undefined {
  return talkedConversation(call)?.user?.id;
}

/**
 * Responsible user. A missed call: the entity's responsible user, else the user whose
 * phone rang last, else `pbx.default_user_id`. An answered call: the employee who
 * talked first of all, then the same order.
 */
export function responsibleUserId(call: CallFull, steps: StepResults, config: RegistrationSettings): number | undefined {
  const entity =
    steps.contact_responsible_user_id ?? steps.company_responsible_user_id ?? call.entity?.responsible_user_id ?? undefined;
  const rang = lastRungConversation(call)?.user?.id;
  const fallback = entity ?? rang ?? config.pbx.default_user_id;
  return isMissed(call) ? fallback : (talkedUserId(call) ?? fallback);
}

/** Responsible user of a contact/lead the connector creates (no entity yet). */
export function newEntityResponsible(call: CallFull, config: RegistrationSettings): number | undefined {
  return talkedUserId(call) ?? lastRungConversation(call)?.user?.id ?? config.pbx.default_user_id;
}

function startSec(call: CallFull, nowMs: number): number {
  return Math.floor((callStartedAt(call) ?? nowMs) / 1000);
}

function phoneField(phone: string, config: RegistrationSettings): KommoContactBody['custom_fields_values'] {
  return [{ field_code: 'PHONE', values: [{ value: phone, enum_code: config.kommo.phone_enum }] }];
}

/** Hook 4 defaults. */
export function contactBody(call: CallFull, phone: string, config: RegistrationSettings): KommoContactBody {
  return compact({
    name: `Contact ${phone}`,
    responsible_user_id: newEntityResponsible(call, config),
    tags: [config.kommo.tag],
    custom_fields_values: phoneField(phone, config),
  });
}

/** `<phone> - [missed] incoming/outgoing` */
export function leadName(call: CallFull, phone: string): string {
  const dir = kommoDirection(call) === 'inbound' ? 'incoming' : 'outgoing';
  return `${phone} - ${isMissed(call) ? 'missed ' : ''}${dir}`;
}

/** Hook 5 defaults. */
export function leadBody(call: CallFull, phone: string, contactId: number, config: RegistrationSettings): KommoLeadBody {
  const reg = config.registration;
  return compact({
    name: leadName(call, phone),
    pipeline_id: reg.lead_pipeline_id,
    status_id: reg.lead_status_id,
    responsible_user_id: newEntityResponsible(call, config),
    _embedded: { contacts: [{ id: contactId }], tags: [{ name: config.kommo.tag }] },
  });
}

/** Hook 13 defaults. Kommo writes the call event itself (`is_call_event_needed`). */
/** `uniq` is the call's journal key (record.linkedid): the linkedid, server-qualified with several servers. */
export function unsortedBody(call: CallFull, phone: string, config: RegistrationSettings, nowMs: number, uniq: string = call.channel.id): KommoUnsortedBody {
  const at = startSec(call, nowMs);
  const responsible = newEntityResponsible(call, config);
  const lead: KommoLeadBody = compact({ name: leadName(call, phone), responsible_user_id: responsible });
  const contact: KommoContactBody = compact({
    name: `Contact ${phone}`,
    responsible_user_id: responsible,
    custom_fields_values: phoneField(phone, config),
  });
  return compact({
    source_uid: config.kommo.source,
    source_name: config.kommo.source,
    pipeline_id: config.registration.lead_pipeline_id,
    created_at: at,
    metadata: compact({
      uniq,
      duration: lastConversationDuration(call),
      service_code: config.kommo.source,
      link: call.record || undefined,
      phone,
      called_at: at,
      from: phone,
      is_call_event_needed: true,
    }),
    _embedded: { leads: [lead], contacts: [contact] },
  });
}

/** Hook 2 defaults (uniq and request_id are added after the hook). */
export function callBody(call: CallFull, phone: string, steps: StepResults, config: RegistrationSettings, nowMs: number): KommoCallBody {
  const { call_status, call_result } = callStatusOf(call);
  return compact({
    direction: kommoDirection(call),
    duration: lastConversationDuration(call),
    source: config.kommo.source,
    phone,
    link: call.record || undefined,
    call_result,
    call_status: call_status as KommoCallStatus,
    responsible_user_id: responsibleUserId(call, steps, config),
    created_by: talkedUserId(call),
    created_at: startSec(call, nowMs),
  });
}

export interface TaskTarget {
  entity_id: number;
  entity_type: 'leads' | 'contacts' | 'companies';
  name: string;
}

/** A lead created here, else the lead Kommo put the call on, else the known lead, else the contact. */
export function taskTarget(call: CallFull, steps: StepResults, phone: string): TaskTarget | undefined {
  const name = steps.contact_name ?? steps.company_name ?? call.entity?.name ?? `Contact ${phone}`;
  if (steps.lead_created && steps.lead_id) return { entity_id: steps.lead_id, entity_type: 'leads', name };
  if (steps.call_entity_type === 'leads' && steps.call_entity_id) {
    return { entity_id: steps.call_entity_id, entity_type: 'leads', name };
  }
  if (steps.lead_id) return { entity_id: steps.lead_id, entity_type: 'leads', name };
  if (steps.contact_id) return { entity_id: steps.contact_id, entity_type: 'contacts', name };
  if (steps.company_id) return { entity_id: steps.company_id, entity_type: 'companies', name };
  if ((steps.call_entity_type === 'contacts' || steps.call_entity_type === 'companies') && steps.call_entity_id) {
    return { entity_id: steps.call_entity_id, entity_type: steps.call_entity_type, name };
  }
  return undefined;
}

/** Hook 8 defaults. */
export function taskBody(
  call: CallFull,
  phone: string,
  target: TaskTarget,
  steps: StepResults,
  config: RegistrationSettings,
  nowMs: number,
): KommoTaskBody {
  const tasks = config.registration.tasks;
  return compact({
    complete_till: Math.floor(nowMs / 1000) + Math.max(0, tasks.deadline_minutes) * 60,
    entity_id: target.entity_id,
    entity_type: target.entity_type,
    is_completed: false,
    responsible_user_id: responsibleUserId(call, steps, config),
    task_type: tasks.task_type_id,
    text: `Call back ${target.name} on a missed call from ${phone}`,
  });
}

// ---------------------------------------------------------------------------
// Hook shape → Kommo shape. The hooks speak the field names of customizations/README.md (`tags` as names,
// `task_type`) with loosely typed values; Kommo wants `_embedded.tags[{name}]` and
// `task_type_id`. A value of the wrong type that a hook put in is left for Kommo to
// refuse (400 → the record is `failed`, visible, retryable).
// ---------------------------------------------------------------------------

type AnyBody = Record<string, unknown>;

/** `tags: ["a"]` → `_embedded.tags: [{name: "a"}]` (merged with tags already there). */
export function withEmbeddedTags<T extends object>(body: T): T {
  const b = body as AnyBody;
  if (!Array.isArray(b.tags)) return body;
  const { tags, ...rest } = b;
  const names = (tags as unknown[]).filter((t): t is string => typeof t === 'string' && t !== '');
  const embedded = (typeof rest._embedded === 'object' && rest._embedded !== null ? rest._embedded : {}) as AnyBody;
  const existing = Array.isArray(embedded.tags) ? (embedded.tags as AnyBody[]) : [];
  const have = new Set(existing.map((t) => t.name));
  const merged = [...existing, ...names.filter((n) => !have.has(n)).map((name) => ({ name }))];
  if (merged.length === 0) return rest as T;
  return { ...rest, _embedded: { ...embedded, tags: merged } } as T;
}

/** A contact body for Kommo. */
export function toKommoContact(body: KommoContactBody): PartyCreate {
  return withEmbeddedTags(compact(body)) as PartyCreate;
}

/** A lead body for Kommo. */
export function toKommoLead(body: KommoLeadBody): LeadCreate {
  return withEmbeddedTags(compact(body)) as LeadCreate;
}

/** An update (hooks 11/12) for Kommo. */
export function toKommoUpdate(body: KommoEntityUpdate): Partial<PartyCreate> & Partial<LeadCreate> {
  return withEmbeddedTags(compact(body)) as Partial<PartyCreate> & Partial<LeadCreate>;
}

/** A call body for Kommo. */
export function toKommoCall(body: KommoCallBody, uniq: string): CallCreate {
  return { ...compact(body), uniq } as CallCreate;
}

/**
 * An incoming-lead body for Kommo: tags of its contact and lead as `_embedded.tags`, and
 * the required metadata fields a hook dropped taken back from the defaults.
 */
export function toKommoUnsorted(body: KommoUnsortedBody, defaults: KommoUnsortedBody): UnsortedSipCreate {
  const emb = body._embedded;
  const d = defaults.metadata;
  const m = body.metadata ?? {};
  const metadata = {
    ...compact(m),
    uniq: m.uniq ?? d.uniq ?? '',
    duration: m.duration ?? d.duration ?? 0,
    service_code: m.service_code ?? d.service_code ?? '',
    phone: m.phone ?? d.phone ?? '',
    called_at: m.called_at ?? d.called_at ?? 0,
    from: m.from ?? d.from ?? '',
  };
  return compact({
    ...body,
    metadata,
    ...(emb
      ? {
          _embedded: {
            ...(emb.contacts ? { contacts: emb.contacts.map((c) => toKommoContact(c)) } : {}),
            ...(emb.leads ? { leads: emb.leads.map((l) => toKommoLead(l)) } : {}),
            ...(emb.companies ? { companies: emb.companies as PartyCreate[] } : {}),
          },
        }
      : {}),
  }) as UnsortedSipCreate;
}

/** A task body for Kommo: `task_type` → `task_type_id`. */
export function toKommoTask(body: KommoTaskBody): TaskCreate {
  const { task_type, ...rest } = compact(body) as KommoTaskBody & { task_type_id?: unknown };
  const typeId = typeof rest.task_type_id === 'number' ? rest.task_type_id : task_type;
  return { ...rest, task_type_id: typeId } as TaskCreate;
}
