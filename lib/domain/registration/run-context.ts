/**
 * What every pipeline step works with: the journal record, a `save` that persists a
 * step's result before the next step starts, a `checkpoint` that stops cleanly when
 * the registrar closes, and `createOnce`, the write-ahead wrapper of every create.
 */
import type { Logger } from 'pino';
import type { CallFull, KommoEntityRef } from '../call/types.js';
import { KommoError } from '../../adapters/kommo/errors.js';
import type { PhoneRewriter } from '../../platform/phone.js';
import type { ContactCache } from './contact-cache.js';
import type { PhoneLock } from './phone-lock.js';
import type { RecordingLinker, RegistrationHooks, RegistrationKommo, RegistrationSettings } from './deps.js';
import type { CallRecord, CreateKind, StepResults } from './types.js';

export interface PipelineDeps {
  config: RegistrationSettings;
  kommo: RegistrationKommo;
  hooks: RegistrationHooks;
  cache: ContactCache;
  rewriter: PhoneRewriter;
  now: () => number;
  /** Serialises steps 2–3 per client number (the registrar shares one); absent → no serialisation. */
  phoneLock?: PhoneLock;
  /** Optional: the recording link step runs only with a linker. */
  recordings?: RecordingLinker;
  /** Upper bound of the recording link step (ms); past it the call goes on with `""`. */
  recordingTimeoutMs?: number;
  /**
   * The journal's call-back tasks of a client not yet completed by a later call
   * (`CallStore.callBackTasks`): auto_complete asks Kommo only when there is one.
   * Absent → Kommo is always asked.
   */
  callBackTasks?: (phone: string, sinceMs: number) => number[];
}

export interface PipelineRun {
  /** The current journal record (replaced after every save). */
  record: CallRecord;
  /** Persist a step's result (fsynced) before going on. */
  save(mutate: (steps: StepResults) => void): Promise<void>;
  /** Throws RegistrationStoppedError when the registrar is closing. */
  checkpoint(): void;
  logger: Logger;
}

/**
 * Is it certain that a failed create did not reach Kommo? True for "Kommo answered no"
 * and for failures the client knows were never sent; false for a lost answer
 * (`maybeApplied`) and for anything that is not a Kommo error (a crash, a bug).
 */
export function definitelyNotApplied(err: unknown): boolean {
  // A 2xx whose body was not understood may well have created the entity.
  return err instanceof KommoError && !err.maybeApplied && err.code !== 'KOMMO_BAD_RESPONSE';
}

export function clearIntent(steps: StepResults, kind: CreateKind): void {
  if (!steps.intents) return;
  delete steps.intents[kind];
  if (Object.keys(steps.intents).length === 0) delete steps.intents;
}

/** Was a create of this kind started and its outcome never learnt? */
export function uncertain(run: PipelineRun, kind: CreateKind): boolean {
  return run.record.steps.intents?.[kind] !== undefined;
}

/**
 * Write-ahead create: record the intent (with a stable request_id) → send → record
 * the result and drop the intent. When the outcome is unknown (lost answer, crash)
 * the intent stays, and the next attempt looks in Kommo before creating again.
 */
export async function createOnce<T>(
  run: PipelineRun,
  kind: CreateKind,
  send: (requestId: string) => Promise<T>,
  apply: (steps: StepResults, result: T) => void,
): Promise<T> {
  const requestId = run.record.steps.intents?.[kind] ?? `${run.record.linkedid}:${kind}`;
  await run.save((s) => {
    s.intents = { ...s.intents, [kind]: requestId };
  });
  let result: T;
  try {
    result = await send(requestId);
  } catch (err) {
    if (definitelyNotApplied(err)) await run.save((s) => clearIntent(s, kind));
    throw err;
  }
  await run.save((s) => {
    apply(s, result);
    clearIntent(s, kind);
  });
  return result;
}

/** `call_full` as later hooks see it: `entity`, `deal` and `record` filled with what registration found. */
export function callView(record: CallRecord): CallFull {
  const { call, steps } = record;
  const found = (id: number, type: 'contacts' | 'companies', name?: string, responsible?: number): KommoEntityRef => ({
    id,
    type,
    ...(name ? { name } : {}),
    ...(responsible ? { responsible_user_id: responsible } : {}),
  });
  const entity =
    call.entity ??
    (steps.contact_id
      ? found(steps.contact_id, 'contacts', steps.contact_name, steps.contact_responsible_user_id)
      : steps.company_id
        ? found(steps.company_id, 'companies', steps.company_name, steps.company_responsible_user_id)
        : null);
  const deal = call.deal ?? (steps.lead_id ? { id: steps.lead_id } : null);
  return { ...call, entity, deal, record: steps.record_link || call.record };
}

/**
 * Before a manual retry of a failed record that has created nothing yet: forget what
 * was only looked up (hook 1's verdict, the normalised phone, the contact found, its
 * lead, the update hooks), so a fix made since — in Kommo, a hook, the config — is
 * seen. A record that created anything (or has a create in doubt) keeps every step:
 * re-deciding midway could leave half a registration.
 */
export function forgetLookups(steps: StepResults): void {
  const createdSomething =
    steps.contact_created === true ||
    steps.lead_created === true ||
    steps.unsorted_uid !== undefined ||
    steps.call_id !== undefined ||
    steps.intents !== undefined;
  if (createdSomething) return;
  for (const key of [
    'need_registration', 'client_phone', 'contact_id', 'contact_name', 'contact_responsible_user_id', 'contact_created',
    'contact_update_done', 'lead_id', 'lead_created', 'lead_update_done', 'entities_done',
    'company_id', 'company_name', 'company_responsible_user_id',
  ] as const) {
    delete steps[key];
  }
}
