/**
 * How stored entities look on the wire: HAL `_links`, `_embedded` relations, and
 * paginated lists (204 when a page is empty). Simulator-only fields are dropped here.
 */
import { hal, noContent, type Ctx, type Reply } from './http.js';
import type { Company, Contact, CustomField, Lead, Note, Pipeline, Task, Unsorted, User } from './types.js';
import { paging } from './validate.js';

export function links(ctx: Ctx, path: string): { self: { href: string } } {
  return { self: { href: `${ctx.baseUrl}${path}` } };
}

function base(e: Contact | Company | Lead, ctx: Ctx): Record<string, unknown> {
  return {
    id: e.id, name: e.name, responsible_user_id: e.responsible_user_id, group_id: e.group_id,
    created_by: e.created_by, updated_by: e.updated_by, created_at: e.created_at, updated_at: e.updated_at,
    closest_task_at: null, is_deleted: e.is_deleted, is_unsorted: e.hidden,
    custom_fields_values: e.custom_fields_values === null ? null : structuredClone(e.custom_fields_values),
    account_id: ctx.state.account.id,
  };
}

function tagsView(e: Contact | Company | Lead): Array<{ id: number; name: string; color: null }> {
  return e.tags.map((t) => ({ id: t.id, name: t.name, color: null }));
}

export function contactView(ctx: Ctx, c: Contact, withs: ReadonlySet<string>): Record<string, unknown> {
  const embedded: Record<string, unknown> = {
    tags: tagsView(c),
    companies: c.company_ids.map((id) => ({ id, _links: links(ctx, `/api/v4/companies/${id}`) })),
  };
  if (withs.has('leads')) {
    embedded.leads = ctx.state.leadsOf('contacts', c.id).map((l) => ({ id: l.id, _links: links(ctx, `/api/v4/leads/${l.id}`) }));
  }
  return {
    ...base(c, ctx), first_name: c.first_name, last_name: c.last_name,
    _links: links(ctx, `/api/v4/contacts/${c.id}`), _embedded: embedded,
  };
}

export function companyView(ctx: Ctx, c: Company, withs: ReadonlySet<string>): Record<string, unknown> {
  const embedded: Record<string, unknown> = { tags: tagsView(c) };
  if (withs.has('leads')) {
    embedded.leads = ctx.state.leadsOf('companies', c.id).map((l) => ({ id: l.id, _links: links(ctx, `/api/v4/leads/${l.id}`) }));
  }
  if (withs.has('contacts')) {
    embedded.contacts = [...ctx.state.contacts.values()].filter((k) => !k.hidden && k.company_ids.includes(c.id))
      .map((k) => ({ id: k.id, _links: links(ctx, `/api/v4/contacts/${k.id}`) }));
  }
  return { ...base(c, ctx), _links: links(ctx, `/api/v4/companies/${c.id}`), _embedded: embedded };
}

export function leadView(ctx: Ctx, l: Lead, withs: ReadonlySet<string>): Record<string, unknown> {
  const embedded: Record<string, unknown> = {
    tags: tagsView(l),
    companies: l.company_id === null ? [] : [{ id: l.company_id, _links: links(ctx, `/api/v4/companies/${l.company_id}`) }],
  };
  if (withs.has('contacts')) {
    embedded.contacts = l.contact_ids.map((id, i) => ({ id, is_main: i === 0, _links: links(ctx, `/api/v4/contacts/${id}`) }));
  }
  return {
    ...base(l, ctx), price: l.price, status_id: l.status_id, pipeline_id: l.pipeline_id, loss_reason_id: null,
    closed_at: l.closed_at, score: null, labor_cost: null,
    _links: links(ctx, `/api/v4/leads/${l.id}`), _embedded: embedded,
  };
}

export function userView(ctx: Ctx, u: User): Record<string, unknown> {
  return { ...structuredClone(u), _links: links(ctx, `/api/v4/users/${u.id}`) };
}

export function fieldView(ctx: Ctx, entity: string, f: CustomField): Record<string, unknown> {
  return {
    id: f.id, name: f.name, type: f.type, account_id: ctx.state.account.id, code: f.code, sort: f.sort,
    is_api_only: false, enums: f.enums === null ? null : structuredClone(f.enums), group_id: null,
    required_statuses: [], is_deletable: f.code === null, is_predefined: f.code !== null, entity_type: entity,
    remind: null, _links: links(ctx, `/api/v4/${entity}/custom_fields/${f.id}`),
  };
}

export function pipelineView(ctx: Ctx, p: Pipeline): Record<string, unknown> {
  return {
    id: p.id, name: p.name, sort: p.sort, is_main: p.is_main, is_unsorted_on: true, is_archive: false,
    account_id: ctx.state.account.id, _links: links(ctx, `/api/v4/leads/pipelines/${p.id}`),
    _embedded: {
      statuses: p.statuses.map((s) => ({
        id: s.id, name: s.name, sort: s.sort, is_editable: s.id !== 142 && s.id !== 143 && s.type === 0,
        pipeline_id: p.id, color: s.color, type: s.type, account_id: ctx.state.account.id,
        _links: links(ctx, `/api/v4/leads/pipelines/${p.id}/statuses/${s.id}`),
      })),
    },
  };
}

export function taskView(ctx: Ctx, t: Task): Record<string, unknown> {
  const { result, ...rest } = t;
  return { ...rest, group_id: 0, result: result ?? [], account_id: ctx.state.account.id, _links: links(ctx, `/api/v4/tasks/${t.id}`) };
}

export function noteView(ctx: Ctx, n: Note): Record<string, unknown> {
  return {
    id: n.id, entity_id: n.entity_id, note_type: n.note_type, params: structuredClone(n.params),
    responsible_user_id: n.responsible_user_id, created_by: n.created_by, updated_by: n.created_by,
    created_at: n.created_at, updated_at: n.created_at, group_id: 0, account_id: ctx.state.account.id,
    _links: links(ctx, `/api/v4/${n.entity_type}/${n.entity_id}/notes/${n.id}`),
  };
}

export function unsortedView(ctx: Ctx, u: Unsorted): Record<string, unknown> {
  return {
    uid: u.uid, source_uid: u.source_uid, source_name: u.source_name, category: u.category,
    pipeline_id: u.pipeline_id, created_at: u.created_at, metadata: structuredClone(u.metadata),
    account_id: ctx.state.account.id, _links: links(ctx, `/api/v4/leads/unsorted/${u.uid}`),
    _embedded: {
      leads: u.lead_ids.map((id) => ({ id, _links: links(ctx, `/api/v4/leads/${id}`) })),
      contacts: u.contact_ids.map((id) => ({ id, _links: links(ctx, `/api/v4/contacts/${id}`) })),
      companies: [],
    },
  };
}

/**
 * One page of `items` under `_embedded[key]`; an empty page answers 204.
 * `_links.next` is present while more items follow.
 */
export function listReply(ctx: Ctx, key: string, items: readonly unknown[], extra: Record<string, unknown> = {}): Reply {
  const { page, limit } = paging(ctx);
  const start = (page - 1) * limit;
  const slice = items.slice(start, start + limit);
  if (slice.length === 0) return noContent();
  const href = (p: number): { href: string } => {
    const q = new URLSearchParams(ctx.query);
    q.set('page', String(p));
    q.set('limit', String(limit));
    return { href: `${ctx.baseUrl}${ctx.path}?${q.toString()}` };
  };
  const pageLinks: Record<string, { href: string }> = { self: href(page) };
  if (start + limit < items.length) pageLinks.next = href(page + 1);
  if (page > 1) pageLinks.prev = href(page - 1);
  return hal({ _page: page, ...extra, _links: pageLinks, _embedded: { [key]: slice } });
}
