/**
 * Tasks: list with filters, create, complete/update (single and batch).
 */
import { hal, type Ctx, type Reply, type Route } from '../http.js';
import { links, listReply, taskView } from '../render.js';
import type { EntityType, Task } from '../types.js';
import {
  arrayBody, checkSchema, checkUser, filterValues, isObj, objectBody, oneOf, required, requestIdOf,
  validateItems, type Errors, type Obj,
} from '../validate.js';
import { fail } from '../http.js';

const TASK_SCHEMA = {
  id: 'int', text: 'string', complete_till: 'int', task_type_id: 'int', entity_id: 'int', entity_type: 'string',
  responsible_user_id: 'int', created_by: 'int', updated_by: 'int', created_at: 'int', updated_at: 'int',
  is_completed: 'bool', duration: 'int', result: 'object',
} as const;

const ENTITY_TYPES = ['leads', 'contacts', 'companies'] as const;

function checkTask(ctx: Ctx, item: Obj, errs: Errors, creating: boolean): void {
  checkSchema(item, TASK_SCHEMA, '', errs);
  if (creating) required(item, ['text', 'complete_till'], '', errs);
  oneOf(item, 'entity_type', ENTITY_TYPES, '', errs);
  if (typeof item.task_type_id === 'number' && !ctx.state.taskTypes.some((t) => t.id === item.task_type_id)) {
    errs.add('NotSupportedChoice', 'task_type_id', 'The value you selected is not a valid choice.');
  }
  if ((item.entity_id === undefined) !== (item.entity_type === undefined)) {
    errs.add('NotBlank', item.entity_id === undefined ? 'entity_id' : 'entity_type', 'entity_id and entity_type go together.');
  }
  if (typeof item.entity_id === 'number' && ENTITY_TYPES.includes(item.entity_type as EntityType)
    && !ctx.state.entityExists(item.entity_type as EntityType, item.entity_id)) {
    errs.add('NotSupportedChoice', 'entity_id', 'Entity not found.');
  }
  if (isObj(item.result)) {
    checkSchema(item.result, { text: 'string' }, 'result', errs);
    required(item.result, ['text'], 'result', errs);
  }
  checkUser(ctx, item, 'responsible_user_id', '', errs);
  checkUser(ctx, item, 'created_by', '', errs, true);
  checkUser(ctx, item, 'updated_by', '', errs, true);
}

function applyTask(ctx: Ctx, t: Task, item: Obj): void {
  if (typeof item.text === 'string') t.text = item.text;
  if (typeof item.complete_till === 'number') t.complete_till = item.complete_till;
  if (typeof item.task_type_id === 'number') t.task_type_id = item.task_type_id;
  if (typeof item.entity_id === 'number') {
    t.entity_id = item.entity_id;
    t.entity_type = item.entity_type as EntityType;
  }
  if (typeof item.responsible_user_id === 'number') t.responsible_user_id = item.responsible_user_id;
  if (typeof item.is_completed === 'boolean') t.is_completed = item.is_completed;
  if (typeof item.duration === 'number') t.duration = item.duration;
  if (isObj(item.result) && typeof item.result.text === 'string') t.result = { text: item.result.text };
  t.updated_by = typeof item.updated_by === 'number' ? item.updated_by : ctx.userId;
  t.updated_at = typeof item.updated_at === 'number' ? item.updated_at : ctx.state.nowSec();
}

function list(ctx: Ctx): Reply {
  let tasks = [...ctx.state.tasks.values()];
  const types = filterValues(ctx, 'entity_type');
  if (types.length > 0) tasks = tasks.filter((t) => t.entity_type !== null && types.includes(t.entity_type));
  const ids = filterValues(ctx, 'entity_id');
  if (ids.length > 0) tasks = tasks.filter((t) => ids.includes(String(t.entity_id)));
  const resp = filterValues(ctx, 'responsible_user_id');
  if (resp.length > 0) tasks = tasks.filter((t) => resp.includes(String(t.responsible_user_id)));
  const taskIds = filterValues(ctx, 'id');
  if (taskIds.length > 0) tasks = tasks.filter((t) => taskIds.includes(String(t.id)));
  const done = ctx.query.get('filter[is_completed]');
  if (done !== null) {
    if (!['0', '1', 'true', 'false'].includes(done)) fail(400, 'filter[is_completed] must be 0 or 1');
    const want = done === '1' || done === 'true';
    tasks = tasks.filter((t) => t.is_completed === want);
  }
  return listReply(ctx, 'tasks', tasks.map((t) => taskView(ctx, t)));
}

function create(ctx: Ctx): Reply {
  const items = arrayBody(ctx);
  validateItems(items, (item, errs) => checkTask(ctx, item, errs, true));
  const st = ctx.state;
  const out = items.map((item, i) => {
    const now = st.nowSec();
    const t: Task = {
      id: st.nextId('tasks'), text: '', complete_till: 0, task_type_id: 1, entity_id: null, entity_type: null,
      responsible_user_id: ctx.userId, created_by: typeof item.created_by === 'number' ? item.created_by : ctx.userId,
      updated_by: ctx.userId, created_at: typeof item.created_at === 'number' ? item.created_at : now, updated_at: now,
      is_completed: false, duration: 0, result: null,
    };
    applyTask(ctx, t, item);
    st.tasks.set(t.id, t);
    return { id: t.id, request_id: requestIdOf(item, i), _links: links(ctx, `/api/v4/tasks/${t.id}`) };
  });
  return hal({ _links: links(ctx, '/api/v4/tasks'), _embedded: { tasks: out } });
}

function patchMany(ctx: Ctx): Reply {
  const items = arrayBody(ctx);
  validateItems(items, (item, errs) => {
    if (item.id === undefined) errs.add('NotBlank', 'id', 'This value should not be blank.');
    else if (typeof item.id === 'number' && !ctx.state.tasks.has(item.id)) errs.add('NotFound', 'id', 'Task not found.');
    checkTask(ctx, item, errs, false);
  });
  const out = items.map((item, i) => {
    const t = ctx.state.tasks.get(item.id as number) as Task;
    applyTask(ctx, t, item);
    return { id: t.id, updated_at: t.updated_at, request_id: requestIdOf(item, i), _links: links(ctx, `/api/v4/tasks/${t.id}`) };
  });
  return hal({ _links: links(ctx, '/api/v4/tasks'), _embedded: { tasks: out } });
}

function patchOne(ctx: Ctx): Reply {
  const item = objectBody(ctx);
  const t = ctx.state.tasks.get(Number(ctx.params.id));
  if (!t) fail(404, 'Task not found');
  validateItems([item], (it, errs) => checkTask(ctx, it, errs, false));
  applyTask(ctx, t, item);
  return hal({ id: t.id, updated_at: t.updated_at, _links: links(ctx, `/api/v4/tasks/${t.id}`) });
}

function getOne(ctx: Ctx): Reply {
  const t = ctx.state.tasks.get(Number(ctx.params.id));
  if (!t) return { status: ctx.opts.missingEntityStatus === 404 ? 404 : 204 };
  return hal(taskView(ctx, t));
}

export const taskRoutes: Route[] = [
  { method: 'GET', pattern: '/api/v4/tasks', handler: list },
  { method: 'POST', pattern: '/api/v4/tasks', handler: create },
  { method: 'PATCH', pattern: '/api/v4/tasks', handler: patchMany },
  { method: 'GET', pattern: '/api/v4/tasks/{id}', handler: getOne },
  { method: 'PATCH', pattern: '/api/v4/tasks/{id}', handler: patchOne },
];
