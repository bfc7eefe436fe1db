/** Tasks: create (call-back tasks), list by filter, complete with a result text. */
import { createOne, type EndpointContext, listAll, patchOne, positiveId, type RequestOptions, requireId } from './endpoint.js';
import type { Task, TaskCreate, TaskFilter } from './types.js';

const PATH = '/api/v4/tasks';

export async function createTask(ctx: EndpointContext, body: TaskCreate, opts?: RequestOptions): Promise<{ id: number }> {
  const item = await createOne(ctx, PATH, 'tasks', body, opts);
  return { id: requireId(item, PATH) };
}

/** Kommo's `filter[...]` query parameters for a TaskFilter. */
export function taskFilterQuery(filter: TaskFilter): Record<string, string | number | boolean | undefined> {
  const q: Record<string, string | number | boolean | undefined> = {};
  if (filter.entityType !== undefined) q['filter[entity_type]'] = filter.entityType;
  if (Array.isArray(filter.entityId)) filter.entityId.forEach((id, i) => { q[`filter[entity_id][${i}]`] = id; });
  else if (filter.entityId !== undefined) q['filter[entity_id]'] = filter.entityId;
  if (filter.isCompleted !== undefined) q['filter[is_completed]'] = filter.isCompleted ? 1 : 0;
  if (filter.responsibleUserId !== undefined) q['filter[responsible_user_id]'] = filter.responsibleUserId;
  if (filter.taskTypeId !== undefined) q['filter[task_type]'] = filter.taskTypeId;
  return q;
}

export function listTasks(ctx: EndpointContext, filter: TaskFilter, opts?: RequestOptions): Promise<Task[]> {
  return listAll<Task>(ctx, PATH, 'tasks', taskFilterQuery(filter), opts);
}

export function completeTask(ctx: EndpointContext, id: number, resultText: string, opts?: RequestOptions): Promise<void> {
  return patchOne(ctx, `${PATH}/${positiveId(id, 'task id')}`, { is_completed: true, result: { text: resultText } }, opts);
}
