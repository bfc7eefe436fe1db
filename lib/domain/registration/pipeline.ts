/**
 * The registration pipeline of one finished call (README, "Which calls are registered, and how"), resumable step by
 * step from its journal record:
 *
 *   0. built-in lists + hook 1 `need_registration`      → steps.need_registration
 *   1. client number: rewriting + hook 3                 → steps.client_phone
 *   1b. recording link (lib/domain/recordings via RecordingLinker, bounded; "" on failure) → steps.record_link
 *   2–3. contact / incoming lead / lead, hooks 4 5 11 12 13 (entities.ts) → steps.entities_done
 *   4. the call record, `POST /api/v4/calls`, hook 2     → steps.call_id
 *   5. call-back task for a missed call, hook 8          → steps.task_id (0 = none needed)
 *   6. hook 10 `post_registration`                       → steps.post_registration_done
 *
 * A step whose result is in the record is not run again, so a retry never creates a
 * second contact, lead, task or call. The pipeline throws Kommo's errors as they are;
 * the worker decides between waiting and `failed`.
 */
import type { CallFull } from '../call/types.js';
import type { KommoTaskBody } from '../../adapters/hooks/types.js';
import type { RecordingCandidateRef } from './deps.js';
import { isInternalNumber, normalizeClientPhone, digitsOnly } from '../../platform/phone.js';
import { KommoError } from '../../adapters/kommo/errors.js';
import { completeCallBackTasks, openCallBackTasks } from './task-closing.js';
import { callBody, compact, taskBody, taskTarget, toKommoCall, toKommoTask } from './bodies.js';
import { isMissed } from '../call/facts.js';
import { rawClientNumber } from './call-facts.js';
import { resolveEntities } from './entities.js';
import { matchRule, withRule } from './rules.js';
import { registrationVerdict } from './filter.js';
import { callView, clearIntent, createOnce, uncertain, type PipelineDeps, type PipelineRun } from './run-context.js';

export type { PipelineDeps, PipelineRun } from './run-context.js';

export type PipelineOutcome = { status: 'done' } | { status: 'skipped'; reason: string };

const STAGE = 'call_ended' as const;

export async function runPipeline(deps: PipelineDeps, run: PipelineRun): Promise<PipelineOutcome> {
  const { config, hooks } = deps;
  const call = run.record.call;
  const log = run.logger;

  // 0. Should it be registered at all?
  if (!run.record.steps.need_registration) {
    const verdict = await registrationVerdict(STAGE, call, { config, hooks, logger: log, rewriter: deps.rewriter });
    if (!verdict.register) return { status: 'skipped', reason: verdict.reason };
    await run.save((s) => {
      s.need_registration = true;
    });
  }
  run.checkpoint();

  // 1. The client's number.
  if (run.record.steps.client_phone === undefined) {
    const normalized = normalizeClientPhone(rawClientNumber(call), deps.rewriter);
    if (normalized === null) return { status: 'skipped', reason: 'no_client_number' };
    if (isInternalNumber(normalized, config.phone.internal_max_digits) && !config.registration.register_internal) {
      return { status: 'skipped', reason: 'internal' };
    }
    const out = await hooks.run('process_client_phone', { call_full: call, call_stage: STAGE, phone: normalized }, { phone: normalized }, { logger: log });
    const phone = typeof out.data.phone === 'string' && digitsOnly(out.data.phone) !== '' ? out.data.phone : normalized;
    await run.save((s) => {
      s.client_phone = phone;
    });
  }
  const phone = run.record.steps.client_phone as string;
  run.checkpoint();

  // 1b. The recording link, before any body that carries it (incoming lead, call record).
  if (deps.recordings && run.record.steps.record_link === undefined) {
    const link = await resolveRecordLink(deps, run);
    await run.save((s) => {
      s.record_link = link;
    });
  }
  run.checkpoint();

  // 2–3. Contact, lead or incoming lead.
  if (!run.record.steps.entities_done) {
    // a per-number rule for an unknown client shapes what is created (before hooks 4, 5, 13)
    const ruled = { ...deps, config: withRule(deps.config, matchRule(deps.config.registration.rules, run.record.call, false)) };
    const resolve = (): ReturnType<typeof resolveEntities> => resolveEntities(ruled, run, phone);
    const outcome = deps.phoneLock ? await deps.phoneLock.run(phone, resolve) : await resolve();
    if (outcome === 'unknown_client') return { status: 'skipped', reason: 'unknown_client' };
    const s = run.record.steps;
    const known = !s.contact_created && s.unsorted_uid === undefined && (s.contact_id !== undefined || s.company_id !== undefined);
    if (known && matchRule(deps.config.registration.rules, run.record.call, true)?.register === false) return { status: 'skipped', reason: 'rule' };
    await run.save((s) => {
      s.entities_done = true;
    });
  }
  run.checkpoint();

  // 4. The call record.
  if (run.record.steps.call_id === undefined) {
    if (run.record.steps.unsorted_uid !== undefined) {
      // The incoming lead carries the call (metadata.is_call_event_needed): its contact is
      // hidden until accepted, so the calls API would answer "Entity not found".
      await run.save((s) => {
        s.call_id = 0;
      });
    } else {
      await registerCall(deps, run, phone);
    }
  }
  run.checkpoint();

  // 5. Call-back task (missed), or completing the open one (answered, auto_complete).
  if (run.record.steps.task_id === undefined) await createCallBackTask(deps, run, phone);
  run.checkpoint();
  if (!run.record.steps.tasks_completed_done && autoCompletes(deps.config, run.record.call)) await completeCallBackTasks(deps, run, phone);
  run.checkpoint();

  // 6. Hook 10.
  if (!run.record.steps.post_registration_done) {
    const s = run.record.steps;
    const registered = compact({
      call_id: s.call_id || undefined,
      contact_id: s.contact_id,
      company_id: s.company_id,
      lead_id: s.lead_id,
      task_id: s.task_id || undefined,
      unsorted_uid: s.unsorted_uid,
      contact_created: s.contact_created ?? false,
      lead_created: s.lead_created ?? false,
    });
    await hooks.run('post_registration', { call_full: callView(run.record), registered }, {}, { logger: log });
    await run.save((st) => {
      st.post_registration_done = true;
    });
  }
  return { status: 'done' };
}

/** An answered call completes the client's open call-back tasks (registration.tasks). */
function autoCompletes(config: PipelineDeps['config'], call: PipelineRun['record']['call']): boolean {
  const tasks = config.registration.tasks;
  return tasks.enabled && tasks.auto_complete && !isMissed(call);
}

/** Default bound of the recording step: MixMonitor's close + hook 7 + a conversion, with room. */
export const DEFAULT_RECORDING_TIMEOUT_MS = 120_000;

/** The MixMonitor files the bridge stored with the call (`channel.extra.recording_candidates`, else `recording_file`). */
export function recordingCandidates(call: CallFull): RecordingCandidateRef[] {
  const extra = call.channel.extra ?? {};
  const list = extra['recording_candidates'];
  const out: RecordingCandidateRef[] = [];
  if (Array.isArray(list)) {
    for (const c of list) {
      if (typeof c === 'string' && c !== '') out.push({ path: c });
      else if (c && typeof c === 'object' && typeof (c as RecordingCandidateRef).path === 'string') {
        const { path, uniqueid } = c as RecordingCandidateRef;
        out.push(typeof uniqueid === 'string' && uniqueid !== '' ? { path, uniqueid } : { path });
      }
    }
  }
  const single = extra['recording_file'];
  if (out.length === 0 && typeof single === 'string' && single !== '') out.push({ path: single });
  return out;
}

/**
 * The link to the call's recording, or `""`: no candidate, the linker failed, or it took
 * longer than `recordingTimeoutMs` (it is then aborted). Never throws.
 */
async function resolveRecordLink(deps: PipelineDeps, run: PipelineRun): Promise<string> {
  const linker = deps.recordings;
  const call = run.record.call;
  if (!linker) return call.record;
  const candidates = recordingCandidates(call);
  if (candidates.length === 0) return call.record;
  const limit = deps.recordingTimeoutMs ?? DEFAULT_RECORDING_TIMEOUT_MS;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      resolve('');
      run.logger.warn({ timeout_ms: limit }, 'recording link took too long; the call is registered without it');
      controller.abort(new Error('recording link timed out'));
    }, limit);
  });
  try {
    const link = await Promise.race([linker.link(call, candidates, { signal: controller.signal, logger: run.logger }), timeout]);
    return !timedOut && typeof link === 'string' ? link : '';
  } catch (err) {
    run.logger.warn({ err }, 'recording link failed; the call is registered without it');
    return '';
  } finally {
    clearTimeout(timer);
  }
}

function isEntityNotFound(err: unknown): boolean {
  return err instanceof KommoError && err.code === 'KOMMO_ENTITY_NOT_FOUND';
}

async function registerCall(deps: PipelineDeps, run: PipelineRun, phone: string, retried = false): Promise<void> {
  const { kommo, hooks, config } = deps;
  const log = run.logger;
  const linkedid = run.record.linkedid;

  if (uncertain(run, 'call') && (await findLostCall(deps, run))) return;

  const defaults = callBody(callView(run.record), phone, run.record.steps, config, deps.now());
  const changed = (await hooks.run('process_call_params', { call_full: callView(run.record), params: defaults }, defaults, { logger: log })).data;
  const body = toKommoCall(changed, linkedid);
  try {
    await createOnce(run, 'call', (requestId) => kommo.createCall(body, { requestId }), (s, r) => {
      s.call_id = r.id;
      if (r.entityId !== undefined) s.call_entity_id = r.entityId;
      if (r.entityType !== undefined) s.call_entity_type = r.entityType;
    });
  } catch (err) {
    if (!isEntityNotFound(err) || retried) throw err;
    // Kommo matches the call by phone and found no entity: the contact we knew (cache or
    // an earlier search) is gone. Look again (and create one if configured), once.
    deps.cache.delete(phone);
    log.warn({ contact_id: run.record.steps.contact_id }, 'Kommo found no entity for the call; resolving the contact again');
    if (run.record.steps.contact_created) throw err;
    await run.save((s) => {
      delete s.contact_id;
      delete s.contact_name;
      delete s.contact_responsible_user_id;
      delete s.company_id;
      delete s.company_name;
      delete s.company_responsible_user_id;
      delete s.contact_created;
      delete s.contact_update_done;
      delete s.lead_id;
      delete s.lead_created;
      delete s.lead_update_done;
      delete s.entities_done;
    });
    const outcome = await resolveEntities(deps, run, phone);
    if (outcome === 'unknown_client') throw err;
    await run.save((s) => {
      s.entities_done = true;
      if (s.unsorted_uid !== undefined) s.call_id = 0; // the new incoming lead carries the call
    });
    if (run.record.steps.call_id === undefined) await registerCall(deps, run, phone, true);
  }
}

/**
 * The answer to a call create was lost. A call cannot be searched, but its note can:
 * look for a call note with our `uniq` on the lead and the contact, when the client
 * can list notes. Returns true when found (and saved).
 */
async function findLostCall(deps: PipelineDeps, run: PipelineRun): Promise<boolean> {
  const { kommo } = deps;
  if (!kommo.listNotes) {
    run.logger.warn('call create had an unknown outcome and notes cannot be listed; sending it again (may duplicate)');
    return false;
  }
  const s = run.record.steps;
  const candidates: Array<[string, number]> = [];
  if (s.lead_id) candidates.push(['leads', s.lead_id]);
  if (s.contact_id) candidates.push(['contacts', s.contact_id]);
  for (const [type, id] of candidates) {
    const notes = await kommo.listNotes(type, id, { note_type: ['call_in', 'call_out'] });
    const note = notes.find((n) => n.params && String(n.params.uniq) === run.record.linkedid);
    if (note) {
      await run.save((st) => {
        st.call_id = note.id;
        st.call_entity_id = id;
        st.call_entity_type = type;
        clearIntent(st, 'call');
      });
      run.logger.warn({ call_id: note.id }, 'call create had an unknown outcome; found its note, not sending again');
      return true;
    }
  }
  return false;
}

async function createCallBackTask(deps: PipelineDeps, run: PipelineRun, phone: string): Promise<void> {
  const { kommo, hooks, config } = deps;
  const log = run.logger;
  const call = run.record.call;
  const noTask = async (): Promise<void> =>
    run.save((s) => {
      s.task_id = 0;
    });
  if (!config.registration.tasks.enabled || !isMissed(call)) return noTask();
  const target = taskTarget(call, run.record.steps, phone);
  if (!target) {
    log.warn('missed call has no Kommo entity to put a call-back task on');
    return noTask();
  }
  if (config.registration.tasks.auto_complete && !uncertain(run, 'task')) {
    const open = await openCallBackTasks(deps, run, phone);
    if (open.length > 0) {
      await run.save((s) => {
        s.task_id = open[0]!.id;
      });
      log.info({ task_id: open[0]!.id }, 'the client has an open call-back task already; not creating a second one');
      return;
    }
  }
  const defaults = taskBody(call, phone, target, run.record.steps, config, deps.now());
  const body: KommoTaskBody = (
    await hooks.run('process_task_creation_params', { call_full: callView(run.record), params: defaults }, defaults, { logger: log })
  ).data;

  if (uncertain(run, 'task')) {
    const open = await kommo.listTasks({ entityType: body.entity_type, entityId: body.entity_id, isCompleted: false });
    const same = open.find((t) => t.text === body.text);
    if (same) {
      await run.save((s) => {
        s.task_id = same.id;
        clearIntent(s, 'task');
      });
      log.warn({ task_id: same.id }, 'task create had an unknown outcome; found it, not creating again');
      return;
    }
  }
  await createOnce(run, 'task', (requestId) => kommo.createTask(toKommoTask(body), { requestId }), (s, r) => {
    s.task_id = r.id;
  });
}
