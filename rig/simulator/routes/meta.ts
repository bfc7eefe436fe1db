/**
 * Read-only account data: account, users, custom fields, pipelines.
 */
import { hal, noContent, type Ctx, type Reply, type Route } from '../http.js';
import { fieldView, links, listReply, pipelineView, userView } from '../render.js';
import { withSet } from '../validate.js';

function account(ctx: Ctx): Reply {
  const a = ctx.state.account;
  const withs = withSet(ctx);
  const embedded: Record<string, unknown> = {};
  if (withs.has('users_groups')) embedded.users_groups = [{ id: 0, name: 'Отдел продаж', uuid: null }];
  if (withs.has('task_types')) {
    embedded.task_types = ctx.state.taskTypes.map((t) => ({ id: t.id, name: t.name, color: null, icon_id: null, code: t.code }));
  }
  const body: Record<string, unknown> = {
    id: a.id, name: a.name, subdomain: a.subdomain, created_at: a.created_at, created_by: 0,
    updated_at: a.created_at, updated_by: 0, current_user_id: a.current_user_id, country: a.country,
    currency: a.currency, customers_mode: 'disabled', is_unsorted_on: true, is_loss_reason_enabled: true,
    is_helpbot_enabled: false, is_technical_account: false, contact_name_display_order: 1,
    _links: links(ctx, '/api/v4/account'),
  };
  if (withs.has('amojo_id')) body.amojo_id = `sim-amojo-${a.id}`;
  if (withs.has('version')) body.version = 4;
  if (withs.has('datetime_settings')) body.datetime_settings = { timezone: 'Europe/Moscow', timezone_offset: '+03:00' };
  if (Object.keys(embedded).length > 0) body._embedded = embedded;
  return hal(body);
}

function users(ctx: Ctx): Reply {
  return listReply(ctx, 'users', ctx.state.users.map((u) => userView(ctx, u)), { _total_items: ctx.state.users.length });
}

function oneUser(ctx: Ctx): Reply {
  const u = ctx.state.user(Number(ctx.params.id));
  return u ? hal(userView(ctx, u)) : { status: ctx.opts.missingEntityStatus === 404 ? 404 : 204 };
}

function fields(entity: 'contacts' | 'companies' | 'leads') {
  return (ctx: Ctx): Reply => {
    const list = ctx.state.customFields[entity].map((f) => fieldView(ctx, entity, f));
    return listReply(ctx, 'custom_fields', list, { _total_items: list.length });
  };
}

function pipelines(ctx: Ctx): Reply {
  const list = ctx.state.pipelines.map((p) => pipelineView(ctx, p));
  if (list.length === 0) return noContent();
  return hal({ _total_items: list.length, _links: links(ctx, '/api/v4/leads/pipelines'), _embedded: { pipelines: list } });
}

function onePipeline(ctx: Ctx): Reply {
  const p = ctx.state.pipeline(Number(ctx.params.id));
  if (!p) return { status: 404, contentType: 'application/problem+json',
    body: { title: 'Not Found', type: 'https://httpstatus.es/404', status: 404, detail: 'Pipeline not found' } };
  return hal(pipelineView(ctx, p));
}

export const metaRoutes: Route[] = [
  { method: 'GET', pattern: '/api/v4/account', handler: account },
  { method: 'GET', pattern: '/api/v4/users', handler: users },
  { method: 'GET', pattern: '/api/v4/users/{id}', handler: oneUser },
  { method: 'GET', pattern: '/api/v4/contacts/custom_fields', handler: fields('contacts') },
  { method: 'GET', pattern: '/api/v4/companies/custom_fields', handler: fields('companies') },
  { method: 'GET', pattern: '/api/v4/leads/custom_fields', handler: fields('leads') },
  { method: 'GET', pattern: '/api/v4/leads/pipelines', handler: pipelines },
  { method: 'GET', pattern: '/api/v4/leads/pipelines/{id}', handler: onePipeline },
];
