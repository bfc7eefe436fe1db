/**
 * Call-back tasks that close themselves (`registration.tasks.auto_complete`, issue 12 part 2).
 *
 * - A missed call whose client already has an open call-back task (created within
 *   `auto_complete_window_hours`) gets no second one: the pipeline records that task's id.
 * - An answered call (either direction) completes the client's open call-back tasks with
 *   "Reached on <date> by <user>", each through hook 8 (`process_task_creation_params`)
 *   with `action: "complete"` and `task_id` in its input; the hook may change the
 *   `result_text` or return `is_completed: false` to leave the task open. Each completion
 *   is journalled (`steps.tasks_completed`) before the next, so a retry completes none twice.
 *
 * "Call-back task" = an open task of the configured `task_type_id` on the entity the
 * connector puts the client's call-back tasks on (`taskTarget`: the lead, else the contact
 * or company), created within the window. Kommo is asked (one `GET /api/v4/tasks`) only
 * when the journal holds a call-back task this connector made for the client within the
 * window and no later call completed (`PipelineDeps.callBackTasks`, from memory): the
 * calls of clients with no call-back task — nearly all of them — cost no request. When
 * Kommo is asked, every open call-back task on the entity counts, one an employee made by
 * hand of the same type too: reaching the client is what it asked for.
 */
import { talkedConversation } from '../call/facts.js';
import type { KommoTaskBody } from '../../adapters/hooks/types.js';
import type { RegTask } from './deps.js';
import { callView, type PipelineDeps, type PipelineRun } from './run-context.js';
import { taskTarget } from './bodies.js';

/** Is `t` an open call-back task of ours within the window (every field must say so)? */
export function isOpenCallBack(t: RegTask, taskTypeId: number, sinceSec: number): boolean {
  return t.is_completed !== true && t.task_type_id === taskTypeId && typeof t.created_at === 'number' && t.created_at >= sinceSec;
}

/**
 * The client's open call-back tasks within the window, oldest first: one request, on the
 * entity a call-back task of this client is put on (`taskTarget`); none when this call
 * created the client's contact (a new contact has no tasks).
 */
export async function openCallBackTasks(deps: PipelineDeps, run: PipelineRun, phone: string): Promise<RegTask[]> {
  const steps = run.record.steps;
  const tasks = deps.config.registration.tasks;
  if (steps.contact_created || steps.unsorted_uid !== undefined) return [];
  const target = taskTarget(run.record.call, steps, phone);
  if (!target) return [];
  const sinceSec = Math.floor(deps.now() / 1000) - tasks.auto_complete_window_hours * 3600;
  if (deps.callBackTasks && deps.callBackTasks(phone, sinceSec * 1000).length === 0) return [];
  const out: RegTask[] = [];
  for (const entity of [{ entityType: target.entity_type, entityId: target.entity_id }]) {
    const list = await deps.kommo.listTasks({ ...entity, isCompleted: false });
    for (const t of list) if (isOpenCallBack(t, tasks.task_type_id, sinceSec) && !out.some((o) => o.id === t.id)) out.push(t);
  }
  return out.sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0) || a.id - b.id);
}

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `Reached on 2026-12-03 14:05 by user 5003 (extension 103)` — the call's start, PBX local time. */
export function reachedText(run: PipelineRun, nowMs: number): string {
  const call = run.record.call;
  const startMs = Number(call.channel.extra?.['start_ms']) || nowMs;
  const d = new Date(startMs);
  const when = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const user = talkedConversation(call)?.user;
  const who = user ? `user ${user.id}${user.extension ? ` (extension ${user.extension})` : ''}` : 'an employee';
  return `Reached on ${when} by ${who}`;
}

/** Hook 8's view of a completion: the task as a creation body, completed, with the result text. */
type CompletionBody = KommoTaskBody & { result_text: string };

/** Step 5 for an answered call: complete the client's open call-back tasks, exactly once each. */
export async function completeCallBackTasks(deps: PipelineDeps, run: PipelineRun, phone: string): Promise<void> {
  const { kommo, hooks } = deps;
  const log = run.logger;
  const done = new Set(run.record.steps.tasks_completed ?? []);
  for (const task of await openCallBackTasks(deps, run, phone)) {
    if (done.has(task.id)) continue;
    const defaults = {
      text: task.text || 'Call back',
      complete_till: task.complete_till ?? 0,
      entity_id: task.entity_id ?? 0,
      entity_type: task.entity_type ?? 'contacts',
      task_type: task.task_type_id ?? deps.config.registration.tasks.task_type_id,
      ...(task.responsible_user_id ? { responsible_user_id: task.responsible_user_id } : {}),
      is_completed: true,
      result_text: reachedText(run, deps.now()),
    } as CompletionBody;
    const { data } = await hooks.run(
      'process_task_creation_params',
      { call_full: callView(run.record), params: defaults, action: 'complete', task_id: task.id },
      defaults,
      { logger: log },
    );
    const body = data as Partial<CompletionBody>;
    if (body.is_completed === false) {
      log.info({ task_id: task.id }, 'hook 8 left the call-back task open');
    } else {
      const text = typeof body.result_text === 'string' && body.result_text.trim() ? body.result_text : defaults.result_text;
      await kommo.completeTask(task.id, text);
      log.info({ task_id: task.id }, 'client reached: call-back task completed');
    }
    await run.save((s) => {
      s.tasks_completed = [...(s.tasks_completed ?? []), task.id];
    });
    done.add(task.id);
  }
  await run.save((s) => {
    s.tasks_completed_done = true;
  });
}
