// Test helpers for registration: a call builder, small in-memory fakes of the Kommo
// client and the hook runner, settings from the real defaults, and a JSON-lines logger.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { NO_TIME, type CallFull, type ChannelObject, type Conversation } from '../../lib/domain/call/types.js';
import { defaults } from '../../lib/platform/config/defaults.js';
import type { HookInputs, HookName, HookOutputs } from '../../lib/adapters/hooks/types.js';
import { KommoApiError, KommoUnreachableError } from '../../lib/adapters/kommo/errors.js';
import type {
  CallCreated,
  CreateOpts,
  HookRunOutcome,
  RegContact,
  RegistrationHooks,
  RegistrationKommo,
  RegistrationSettings,
  RegNote,
  RegTask,
  UnsortedCreated,
} from '../../lib/domain/registration/deps.js';
import { createPhoneRewriter, phonesMatch } from '../../lib/platform/phone.js';
import { ContactCache } from '../../lib/domain/registration/contact-cache.js';
import type { PipelineDeps, PipelineRun } from '../../lib/domain/registration/pipeline.js';
import type { CallRecord } from '../../lib/domain/registration/types.js';

export function settings(patch: { registration?: Partial<RegistrationSettings['registration']>; pbx?: Partial<RegistrationSettings['pbx']> } = {}): RegistrationSettings {
  return {
    registration: { ...structuredClone(defaults.registration), ...patch.registration },
    pbx: { ...structuredClone(defaults.pbx), extensions: { '101': 5001, '102': 5002 }, default_user_id: 5003, ...patch.pbx },
    phone: structuredClone(defaults.phone),
    kommo: { source: 'kommo-asterisk', tag: 'kommo-asterisk', phone_enum: 'WORK' },
  } as RegistrationSettings;
}

export interface LogCapture {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

export function captureLogger(): LogCapture {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export async function tempDir(prefix = 'ka-reg-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

// ---------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------

function channel(id: string, over: Partial<ChannelObject> = {}): ChannelObject {
  return {
    id,
    name: `PJSIP/x-${id}`,
    is_primary: false,
    type: 'incoming',
    state: 'ended',
    from: { number: '', name: '' },
    to: { number: '', name: '' },
    trunk: { number: '', name: '' },
    start_time: '2026-11-20 10:00:00',
    answer_time: NO_TIME,
    end_time: '2026-11-20 10:00:30',
    was_answered: false,
    extra: {},
    ...over,
  };
}

export interface LegSpec {
  ext: string;
  userId?: number | null;
  answered?: boolean;
  start?: string;
  answer?: string;
  end?: string;
}

export interface CallSpec {
  linkedid?: string;
  direction?: 'incoming' | 'outgoing' | 'local';
  client?: string;
  /** SIP-style result (default 200 when a leg answered, else 480). */
  result?: number;
  legs?: LegSpec[];
  record?: string;
  is_ivr?: boolean;
  trunk?: string;
  entity?: CallFull['entity'];
  deal?: CallFull['deal'];
}

let seq = 0;

export function makeCall(spec: CallSpec = {}): CallFull {
  const linkedid = spec.linkedid ?? `1700000000.${++seq}`;
  const dir = spec.direction ?? 'incoming';
  const client = spec.client ?? '+7 (999) 123-45-67';
  const legs = spec.legs ?? [{ ext: '101', answered: true }];
  const firstExt = legs[0]?.ext ?? '101';
  const conversations: Record<string, Conversation> = {};
  legs.forEach((leg, i) => {
    const id = `${linkedid}.${i + 1}`;
    const answered = leg.answered ?? false;
    const userId = leg.userId === undefined ? (leg.ext === '101' ? 5001 : leg.ext === '102' ? 5002 : null) : leg.userId;
    conversations[id] = {
      channel: channel(id, {
        type: dir,
        from: { number: dir === 'incoming' ? client : leg.ext, name: '' },
        to: { number: dir === 'incoming' ? leg.ext : client, name: '' },
        trunk: { number: spec.trunk ?? 'trunk1', name: spec.trunk ?? 'trunk1' },
        start_time: leg.start ?? `2026-11-20 10:00:0${i}`,
        answer_time: answered ? (leg.answer ?? '2026-11-20 10:00:10') : NO_TIME,
        end_time: leg.end ?? '2026-11-20 10:01:05',
        was_answered: answered,
      }),
      is_parked: false,
      user: userId === null ? null : { id: userId, extension: leg.ext },
    };
  });
  const anyAnswered = legs.some((l) => l.answered);
  return {
    active_conversation_id: '',
    channel: channel(linkedid, {
      is_primary: true,
      type: dir,
      from: { number: dir === 'incoming' ? client : firstExt, name: '' },
      to: { number: dir === 'incoming' ? '74950000000' : client, name: '' },
      trunk: { number: spec.trunk ?? 'trunk1', name: spec.trunk ?? 'trunk1' },
      start_time: '2026-11-20 10:00:00',
      answer_time: anyAnswered ? '2026-11-20 10:00:10' : NO_TIME,
      end_time: '2026-11-20 10:01:05',
      was_answered: anyAnswered,
    }),
    conversations,
    entity: spec.entity ?? null,
    deal: spec.deal ?? null,
    is_ivr: spec.is_ivr ?? false,
    record: spec.record ?? '',
    result: spec.result ?? (anyAnswered ? 200 : 480),
  };
}

// ---------------------------------------------------------------------------
// Fake Kommo
// ---------------------------------------------------------------------------

export interface FakeContact {
  id: number;
  name: string;
  responsible_user_id: number;
  phones: string[];
  lead_ids: number[];
}

type Method = keyof RegistrationKommo;

export function unreachable(maybeApplied: boolean, path = '/api/v4/x'): KommoUnreachableError {
  return new KommoUnreachableError('KOMMO_TIMEOUT', 'timed out', { method: 'POST', path, attempts: 1, maybeApplied });
}

export function entityNotFound(): KommoApiError {
  return new KommoApiError('KOMMO_ENTITY_NOT_FOUND', 'Entity not found', { status: 400, method: 'POST', path: '/api/v4/calls', title: 'Entity not found' });
}

export function validation(): KommoApiError {
  return new KommoApiError('KOMMO_VALIDATION', 'bad', {
    status: 400, method: 'POST', path: '/api/v4/calls',
    validationErrors: [{ errors: [{ code: 'NotSupportedChoice', path: 'responsible_user_id' }] }],
  });
}

/**
 * A fault for one method: `before` throws without applying; `after` applies, then throws
 * (the answer was lost — a maybeApplied create).
 */
export interface Fault {
  err: unknown;
  when: 'before' | 'after';
}

export class FakeKommo implements RegistrationKommo {
  contacts = new Map<number, FakeContact>();
  companies = new Map<number, FakeContact>();
  leads = new Map<number, { id: number; name: string; contact_ids: number[]; body: Record<string, unknown> }>();
  calls: Array<{ id: number; body: Record<string, unknown>; requestId?: string; entityId: number; entityType: string }> = [];
  tasks: Array<{ id: number; body: Record<string, unknown> }> = [];
  unsorted: Array<{ uid: string; body: Record<string, unknown> }> = [];
  notes: Array<RegNote & { entity_type: string; entity_id: number }> = [];
  updates: Array<{ kind: 'contact' | 'lead'; id: number; patch: unknown }> = [];
  requests: Array<{ method: Method; args: unknown[] }> = [];
  faults = new Map<Method, Fault[]>();
  private nextId = 100;
  /** When false, listNotes is absent (like lib/adapters/kommo today). */
  constructor(readonly withLookups = true) {
    if (!withLookups) {
      (this as { listNotes?: unknown }).listNotes = undefined;
    }
  }

  seedContact(c: Partial<FakeContact> & { phones: string[] }): FakeContact {
    const contact: FakeContact = { id: c.id ?? ++this.nextId, name: c.name ?? 'Known Client', responsible_user_id: c.responsible_user_id ?? 5002, phones: c.phones, lead_ids: c.lead_ids ?? [] };
    this.contacts.set(contact.id, contact);
    return contact;
  }

  fault(method: Method, err: unknown, when: 'before' | 'after' = 'before', times = 1): void {
    const list = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push({ err, when });
    this.faults.set(method, list);
  }

  count(method: Method): number {
    return this.requests.filter((r) => r.method === method).length;
  }

  private async op<T>(method: Method, args: unknown[], apply: () => T): Promise<T> {
    this.requests.push({ method, args });
    const f = this.faults.get(method)?.shift();
    if (f?.when === 'before') throw f.err;
    const out = apply();
    if (f?.when === 'after') throw f.err;
    return out;
  }

  findContactsByPhone(phone: string): Promise<readonly RegContact[]> {
    return this.op('findContactsByPhone', [phone], () =>
      [...this.contacts.values()]
        .filter((c) => c.phones.some((p) => phonesMatch(p, phone)))
        .map((c) => ({ id: c.id, name: c.name, responsible_user_id: c.responsible_user_id, _embedded: { leads: c.lead_ids.map((id) => ({ id })) } })),
    );
  }

  findCompaniesByPhone(phone: string): Promise<readonly RegContact[]> {
    return this.op('findCompaniesByPhone', [phone], () =>
      [...this.companies.values()]
        .filter((c) => c.phones.some((p) => phonesMatch(p, phone)))
        .map((c) => ({ id: c.id, name: c.name, responsible_user_id: c.responsible_user_id, _embedded: { leads: c.lead_ids.map((id) => ({ id })) } })),
    );
  }

  createContact(body: Record<string, unknown>, opts?: CreateOpts): Promise<{ id: number }> {
    return this.op('createContact', [body, opts], () => {
      const cfv = (body.custom_fields_values as Array<{ values: Array<{ value: unknown }> }> | undefined) ?? [];
      const phones = cfv.flatMap((f) => f.values.map((v) => String(v.value)));
      const c = this.seedContact({ name: String(body.name), responsible_user_id: Number(body.responsible_user_id ?? 0), phones });
      return { id: c.id };
    });
  }

  updateContact(id: number, patch: unknown): Promise<unknown> {
    return this.op('updateContact', [id, patch], () => this.updates.push({ kind: 'contact', id, patch }));
  }

  createLead(body: Record<string, unknown>, opts?: CreateOpts): Promise<{ id: number }> {
    return this.op('createLead', [body, opts], () => {
      const id = ++this.nextId;
      const contactIds = ((body._embedded as { contacts?: Array<{ id: number }> } | undefined)?.contacts ?? []).map((c) => c.id);
      this.leads.set(id, { id, name: String(body.name), contact_ids: contactIds, body });
      for (const cid of contactIds) this.contacts.get(cid)?.lead_ids.push(id);
      return { id };
    });
  }

  updateLead(id: number, patch: unknown): Promise<unknown> {
    return this.op('updateLead', [id, patch], () => this.updates.push({ kind: 'lead', id, patch }));
  }

  createUnsortedSip(body: Record<string, unknown>, opts?: CreateOpts): Promise<UnsortedCreated> {
    return this.op('createUnsortedSip', [body, opts], () => {
      const uid = `u${++this.nextId}`;
      this.unsorted.push({ uid, body });
      return { uid, leadId: ++this.nextId, contactId: ++this.nextId };
    });
  }

  createTask(body: Record<string, unknown>, opts?: CreateOpts): Promise<{ id: number }> {
    return this.op('createTask', [body, opts], () => {
      const id = ++this.nextId;
      this.tasks.push({ id, body });
      return { id };
    });
  }

  listTasks(filter: { entityType: string; entityId: number }): Promise<readonly RegTask[]> {
    return this.op('listTasks', [filter], () =>
      this.tasks
        .filter((t) => t.body.entity_type === filter.entityType && t.body.entity_id === filter.entityId)
        .map((t) => ({
          id: t.id,
          text: String(t.body.text),
          entity_id: t.body.entity_id as number,
          entity_type: String(t.body.entity_type),
          is_completed: t.body.is_completed === true,
          task_type_id: t.body.task_type_id as number,
          created_at: Math.floor(Date.now() / 1000),
        })),
    );
  }

  completeTask(id: number, resultText: string): Promise<void> {
    return this.op('completeTask', [id, resultText], () => {
      const t = this.tasks.find((x) => x.id === id);
      if (t) t.body = { ...t.body, is_completed: true, result: { text: resultText } };
    });
  }

  createCall(body: Record<string, unknown>, opts?: CreateOpts): Promise<CallCreated> {
    return this.op('createCall', [body, opts], () => {
      const match = (c: FakeContact): boolean => c.phones.some((p) => phonesMatch(p, String(body.phone)));
      const person = [...this.contacts.values()].find(match);
      const contact = person ?? [...this.companies.values()].find(match);
      if (!contact) throw entityNotFound();
      const id = ++this.nextId;
      const lead = contact.lead_ids.length === 1 ? contact.lead_ids[0] : undefined;
      const entityType = lead ? 'leads' : person ? 'contacts' : 'companies';
      const entityId = lead ?? contact.id;
      this.calls.push({ id, body, ...(opts?.requestId ? { requestId: opts.requestId } : {}), entityId, entityType });
      this.notes.push({ id, entity_type: entityType, entity_id: entityId, note_type: 'call_in', params: { uniq: body.uniq } });
      return { id, entityId, entityType };
    });
  }

  getContact(id: number): Promise<RegContact | null> {
    return this.op('getContact', [id], () => {
      const c = this.contacts.get(id);
      return c ? { id: c.id, name: c.name, responsible_user_id: c.responsible_user_id, _embedded: { leads: c.lead_ids.map((l) => ({ id: l })) } } : null;
    });
  }

  listNotes(entityType: string, entityId: number): Promise<readonly RegNote[]> {
    return this.op('listNotes', [entityType, entityId], () => this.notes.filter((n) => n.entity_type === entityType && n.entity_id === entityId));
  }
}

// ---------------------------------------------------------------------------
// Fake hooks
// ---------------------------------------------------------------------------

type HookFn<H extends HookName> = (input: HookInputs[H], defaults: HookOutputs[H]) => HookOutputs[H];

export class FakeHooks implements RegistrationHooks {
  calls: Array<{ hook: HookName; input: unknown }> = [];
  private readonly fns = new Map<HookName, (input: unknown, defaults: unknown) => unknown>();

  on<H extends HookName>(hook: H, fn: HookFn<H>): this {
    this.fns.set(hook, fn as (input: unknown, defaults: unknown) => unknown);
    return this;
  }

  ran(hook: HookName): number {
    return this.calls.filter((c) => c.hook === hook).length;
  }

  input<H extends HookName>(hook: H, i = 0): HookInputs[H] | undefined {
    return this.calls.filter((c) => c.hook === hook)[i]?.input as HookInputs[H] | undefined;
  }

  async run<H extends HookName>(hook: H, input: HookInputs[H], defaults: HookOutputs[H]): Promise<HookRunOutcome<HookOutputs[H]>> {
    this.calls.push({ hook, input: structuredClone(input) });
    const fn = this.fns.get(hook);
    if (!fn) return { data: defaults, applied: false };
    return { data: fn(structuredClone(input), structuredClone(defaults)) as HookOutputs[H], applied: true };
  }
}

// ---------------------------------------------------------------------------
// Running the pipeline on an in-memory record
// ---------------------------------------------------------------------------


export function newRecord(call: CallFull): CallRecord {
  return {
    v: 1, id: call.channel.id, linkedid: call.channel.id, status: 'pending', created_at: 0, updated_at: 0,
    call_started_at: 0, attempts: 0, next_attempt_at: 0, last_error: null, call, steps: {},
  };
}

export interface Harness {
  deps: PipelineDeps;
  kommo: FakeKommo;
  hooks: FakeHooks;
  run(record: CallRecord, opts?: { stopAfterSaves?: number; crashOnSave?: number }): PipelineRun & { saves: number };
}

export function harness(opts: { config?: RegistrationSettings; kommo?: FakeKommo; hooks?: FakeHooks; cache?: ContactCache } = {}): Harness {
  const config = opts.config ?? settings();
  const kommo = opts.kommo ?? new FakeKommo();
  const hooks = opts.hooks ?? new FakeHooks();
  const deps: PipelineDeps = {
    config, kommo, hooks,
    cache: opts.cache ?? new ContactCache(),
    rewriter: createPhoneRewriter(config.phone.rewrite_rules),
    now: () => Date.UTC(2026, 10, 20, 10, 5, 0),
  };
  return {
    deps, kommo, hooks,
    run(record, ro = {}) {
      const r = {
        record,
        saves: 0,
        async save(mutate: (s: CallRecord['steps']) => void) {
          if (ro.crashOnSave !== undefined && r.saves + 1 === ro.crashOnSave) throw new Error('simulated crash');
          const next = structuredClone(r.record);
          mutate(next.steps);
          r.record = next;
          r.saves++;
          if (ro.stopAfterSaves !== undefined && r.saves >= ro.stopAfterSaves) throw new Error('simulated crash');
        },
        checkpoint() {},
        logger: silentLogger(),
      };
      return r;
    },
  };
}
