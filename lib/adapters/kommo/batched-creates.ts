/**
 * The creates registration makes in bulk — call records, contacts, leads, tasks — through
 * one coalescer each (batch.ts), when `maxItems` > 1. A create with its own AbortSignal,
 * retry budget or the realtime priority is not coalesced: it goes alone, as before, so a
 * waiting caller or a CLI deadline never rides in a registration batch.
 */
import { createCoalescer, type Coalescer, type CoalescerStats } from './batch.js';
import { callResult, createCall } from './calls.js';
import { createContact } from './contacts.js';
import { type EndpointContext, newRequestId, type RequestOptions, requireId } from './endpoint.js';
import { createLead } from './leads.js';
import { createTask } from './tasks.js';
import type { CallCreate, LeadCreate, PartyCreate, TaskCreate } from './types.js';

export interface BatchedCreates {
  createCall(body: CallCreate, opts?: RequestOptions): Promise<{ id: number; entityId: number; entityType: string }>;
  createContact(body: PartyCreate, opts?: RequestOptions): Promise<{ id: number }>;
  createLead(body: LeadCreate, opts?: RequestOptions): Promise<{ id: number }>;
  createTask(body: TaskCreate, opts?: RequestOptions): Promise<{ id: number }>;
  /** Per endpoint: requests sent, items, largest batch. */
  stats(): Record<'calls' | 'contacts' | 'leads' | 'tasks', CoalescerStats>;
}

const alone = (opts: RequestOptions | undefined): boolean =>
  opts?.signal !== undefined || opts?.retryBudgetMs !== undefined || opts?.priority === 'realtime';

export interface BatchOptions {
  maxItems: number;
  /** During a backlog, at most one request of a kind per `lingerMs` (batch.ts). */
  lingerMs?: number;
  /** Is there a backlog (requests waiting for a rate-limit slot)? */
  busy?: () => boolean;
}

export function createBatchedCreates(ctx: EndpointContext, opts: BatchOptions): BatchedCreates {
  const on = opts.maxItems > 1;
  const make = (path: string, key: string): Coalescer => createCoalescer(ctx, {
    path, key, maxItems: opts.maxItems,
    ...(opts.lingerMs !== undefined ? { lingerMs: opts.lingerMs } : {}), ...(opts.busy ? { busy: opts.busy } : {}),
  });
  const c = {
    calls: make('/api/v4/calls', 'calls'),
    contacts: make('/api/v4/contacts', 'contacts'),
    leads: make('/api/v4/leads', 'leads'),
    tasks: make('/api/v4/tasks', 'tasks'),
  };
  const viaBatch = async (co: Coalescer, path: string, body: object, opts: RequestOptions | undefined): Promise<{ id: number }> => {
    const item = await co.submit(body as Record<string, unknown>, newRequestId(opts, body as Record<string, unknown>));
    return { id: requireId(item, path) };
  };
  return {
    async createCall(body, opts) {
      if (!on || alone(opts)) return createCall(ctx, body, opts);
      const item = await c.calls.submit(body as unknown as Record<string, unknown>, newRequestId(opts, body as unknown as Record<string, unknown>));
      return callResult(item, '/api/v4/calls');
    },
    createContact: (body, opts) => (!on || alone(opts) ? createContact(ctx, body, opts) : viaBatch(c.contacts, '/api/v4/contacts', body, opts)),
    createLead: (body, opts) => (!on || alone(opts) ? createLead(ctx, body, opts) : viaBatch(c.leads, '/api/v4/leads', body, opts)),
    createTask: (body, opts) => (!on || alone(opts) ? createTask(ctx, body, opts) : viaBatch(c.tasks, '/api/v4/tasks', body, opts)),
    stats: () => ({ calls: c.calls.stats(), contacts: c.contacts.stats(), leads: c.leads.stats(), tasks: c.tasks.stats() }),
  };
}
