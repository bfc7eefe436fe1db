/**
 * Pipeline steps 2 and 3 (README, "Which calls are registered, and how"): find the client's contact; none → an
 * incoming lead (hook 13) or a contact (hook 4) and, if configured, a lead (hook 5);
 * found → hooks 11 and 12 (an empty update sends nothing).
 *
 * Every result is saved before the next request. A create whose outcome is unknown
 * (see run-context.ts) is looked for before it is sent again: the contact by a fresh
 * phone search, the lead among the new contact's leads (when the client can list them).
 */
import type { KommoEntityUpdate } from '../../adapters/hooks/types.js';
import { KommoApiError } from '../../adapters/kommo/errors.js';
import { contactBody, leadBody, toKommoContact, toKommoLead, toKommoUnsorted, toKommoUpdate, unsortedBody } from './bodies.js';
import type { CachedContact } from './contact-cache.js';
import type { RegContact } from './deps.js';
import { callView, clearIntent, createOnce, uncertain, type PipelineDeps, type PipelineRun } from './run-context.js';

export type EntitiesOutcome = 'ok' | 'unknown_client';

function toCached(c: RegContact): CachedContact {
  const leads = c._embedded?.leads ?? [];
  return {
    id: c.id,
    ...(c.name ? { name: c.name } : {}),
    ...(typeof c.responsible_user_id === 'number' ? { responsible_user_id: c.responsible_user_id } : {}),
    lead_ids: leads.map((l) => l.id).filter((id) => typeof id === 'number'),
  };
}

/**
 * The client's contact: the cache, else the contact `call_full` already carries (found by
 * autodistribution for this very call), else a search. A pending create intent bypasses
 * both shortcuts: only a fresh search can tell whether that create happened.
 */
async function findContact(deps: PipelineDeps, run: PipelineRun, phone: string): Promise<CachedContact | undefined> {
  const fresh = uncertain(run, 'contact');
  if (!fresh) {
    const cached = deps.cache.get(phone);
    if (cached) return cached;
    const known = run.record.call.entity;
    if (known?.type === 'contacts' && typeof known.id === 'number' && known.id > 0) {
      return {
        id: known.id,
        ...(typeof known.name === 'string' ? { name: known.name } : {}),
        ...(typeof known.responsible_user_id === 'number' ? { responsible_user_id: known.responsible_user_id } : {}),
        lead_ids: [],
      };
    }
  }
  const list = await deps.kommo.findContactsByPhone(phone);
  const first = list[0];
  if (!first) return undefined;
  const found = toCached(first);
  deps.cache.set(phone, found);
  return found;
}

/** No contact: does a company have the number? (Then the call goes on the company.) */
async function findCompany(deps: PipelineDeps, run: PipelineRun, phone: string): Promise<CachedContact | undefined> {
  const known = run.record.call.entity;
  if (known?.type === 'companies' && typeof known.id === 'number' && known.id > 0) {
    return {
      id: known.id,
      ...(typeof known.name === 'string' ? { name: known.name } : {}),
      ...(typeof known.responsible_user_id === 'number' ? { responsible_user_id: known.responsible_user_id } : {}),
      lead_ids: [],
    };
  }
  if (!deps.kommo.findCompaniesByPhone || uncertain(run, 'contact') || uncertain(run, 'unsorted')) return undefined;
  const first = (await deps.kommo.findCompaniesByPhone(phone))[0];
  return first ? toCached(first) : undefined;
}

function isDuplicateUniq(err: unknown): boolean {
  if (!(err instanceof KommoApiError)) return false;
  return err.validationErrors.some((v) => v.errors.some((e) => e.code === 'Duplicate' && (e.path ?? '').includes('uniq')));
}

function isEmptyUpdate(update: KommoEntityUpdate | undefined | null): boolean {
  return !update || typeof update !== 'object' || Object.keys(update).length === 0;
}

export async function resolveEntities(deps: PipelineDeps, run: PipelineRun, phone: string): Promise<EntitiesOutcome> {
  const { config, kommo, hooks } = deps;
  const reg = config.registration;
  const call = run.record.call;
  const log = run.logger;

  const st0 = run.record.steps;
  if (st0.contact_id === undefined && st0.unsorted_uid === undefined && st0.company_id === undefined) {
    const found = await findContact(deps, run, phone);
    const company = found ? undefined : await findCompany(deps, run, phone);
    if (found) {
      const ours = uncertain(run, 'contact');
      const single = found.lead_ids.length === 1 ? found.lead_ids[0] : undefined;
      const existingLead = call.deal?.id ?? single;
      await run.save((s) => {
        s.contact_id = found.id;
        if (found.name) s.contact_name = found.name;
        if (found.responsible_user_id !== undefined) s.contact_responsible_user_id = found.responsible_user_id;
        s.contact_created = ours;
        if (!ours && existingLead !== undefined) {
          s.lead_id = existingLead;
          s.lead_created = false;
        }
        clearIntent(s, 'contact');
      });
      if (ours) log.warn({ contact_id: found.id }, 'contact create had an unknown outcome; found it, not creating again');
    } else if (company) {
      const existingLead = call.deal?.id ?? (company.lead_ids.length === 1 ? company.lead_ids[0] : undefined);
      await run.save((s) => {
        s.company_id = company.id;
        if (company.name) s.company_name = company.name;
        if (company.responsible_user_id !== undefined) s.company_responsible_user_id = company.responsible_user_id;
        if (existingLead !== undefined) {
          s.lead_id = existingLead;
          s.lead_created = false;
        }
      });
    } else if (reg.use_unsorted) {
      const retrying = uncertain(run, 'unsorted');
      if (retrying) log.warn('incoming lead create had an unknown outcome; sending it again (Kommo refuses or tags a duplicate uniq)');
      run.checkpoint();
      const defaults = unsortedBody(callView(run.record), phone, config, deps.now(), run.record.linkedid);
      const body = (
        await hooks.run('process_unsorted_creation_params', { call_full: callView(run.record), params: defaults }, defaults, { logger: log })
      ).data;
      try {
        await createOnce(run, 'unsorted', (requestId) => kommo.createUnsortedSip(toKommoUnsorted(body, defaults), { requestId }), (s, r) => {
          s.unsorted_uid = r.uid;
          if (r.contactId !== undefined) {
            s.contact_id = r.contactId;
            s.contact_created = true;
            const name = body._embedded?.contacts?.[0]?.name;
            if (name) s.contact_name = name;
          }
          if (r.leadId !== undefined) {
            s.lead_id = r.leadId;
            s.lead_created = true;
          }
        });
      } catch (err) {
        // Our own earlier create did reach Kommo, which now refuses the same uniq.
        if (!retrying || !isDuplicateUniq(err)) throw err;
        log.warn('incoming lead already exists (our earlier attempt); not creating again');
        await run.save((s) => {
          s.unsorted_uid = '';
          s.contact_created = true;
          s.lead_created = true;
          clearIntent(s, 'unsorted');
        });
      }
    } else if (reg.create_contact) {
      run.checkpoint();
      const defaults = contactBody(call, phone, config);
      const body = (
        await hooks.run('process_contact_creation_params', { call_full: callView(run.record), params: defaults }, defaults, { logger: log })
      ).data;
      const created = await createOnce(run, 'contact', (requestId) => kommo.createContact(toKommoContact(body), { requestId }), (s, r) => {
        s.contact_id = r.id;
        s.contact_created = true;
        if (typeof body.name === 'string') s.contact_name = body.name;
        if (typeof body.responsible_user_id === 'number') s.contact_responsible_user_id = body.responsible_user_id;
      });
      deps.cache.set(phone, {
        id: created.id,
        ...(typeof body.name === 'string' ? { name: body.name } : {}),
        ...(typeof body.responsible_user_id === 'number' ? { responsible_user_id: body.responsible_user_id } : {}),
        lead_ids: [],
      });
    } else {
      return 'unknown_client';
    }
  }

  const steps = run.record.steps;
  run.checkpoint();
  if (steps.contact_created && steps.unsorted_uid === undefined && reg.create_lead && steps.lead_id === undefined && steps.contact_id) {
    await createLead(deps, run, phone, steps.contact_id);
  }

  if (!run.record.steps.contact_created && run.record.steps.unsorted_uid === undefined) {
    await runUpdateHooks(deps, run);
  }
  return 'ok';
}

async function createLead(deps: PipelineDeps, run: PipelineRun, phone: string, contactId: number): Promise<void> {
  const { kommo, hooks, config } = deps;
  const log = run.logger;
  if (uncertain(run, 'lead')) {
    // Only this registration links leads to a contact it has just created.
    const contact = await kommo.getContact(contactId);
    const ids = (contact?._embedded?.leads ?? []).map((l) => l.id);
    const newest = ids.length > 0 ? Math.max(...ids) : undefined;
    if (newest !== undefined) {
      await run.save((s) => {
        s.lead_id = newest;
        s.lead_created = true;
        clearIntent(s, 'lead');
      });
      log.warn({ lead_id: newest }, 'lead create had an unknown outcome; found it on the contact, not creating again');
      return;
    }
  }
  const defaults = leadBody(run.record.call, phone, contactId, config);
  const body = (
    await hooks.run('process_lead_creation_params', { call_full: callView(run.record), params: defaults }, defaults, { logger: log })
  ).data;
  await createOnce(run, 'lead', (requestId) => kommo.createLead(toKommoLead(body), { requestId }), (s, r) => {
    s.lead_id = r.id;
    s.lead_created = true;
  });
}

/** Hooks 11 and 12 for an existing contact / lead. The connector itself sends no update. */
async function runUpdateHooks(deps: PipelineDeps, run: PipelineRun): Promise<void> {
  const { kommo, hooks } = deps;
  const log = run.logger;
  const steps = run.record.steps;
  if (!steps.contact_update_done && steps.contact_id !== undefined) {
    const contactId = steps.contact_id;
    const update = (
      await hooks.run('process_contact_update_params', { call_full: callView(run.record), params: {} }, {}, { logger: log })
    ).data;
    if (!isEmptyUpdate(update)) await kommo.updateContact(contactId, toKommoUpdate(update));
    await run.save((s) => {
      s.contact_update_done = true;
    });
    run.checkpoint();
  }
  const leadId = run.record.steps.lead_id;
  if (!run.record.steps.lead_update_done && leadId !== undefined && !run.record.steps.lead_created) {
    const update = (
      await hooks.run('process_lead_update_params', { call_full: callView(run.record), params: {} }, {}, { logger: log })
    ).data;
    if (!isEmptyUpdate(update)) await kommo.updateLead(leadId, toKommoUpdate(update));
    await run.save((s) => {
      s.lead_update_done = true;
    });
  }
}
