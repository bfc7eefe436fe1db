/**
 * The simulator's own HTTP API under `/__sim/` (no Kommo auth, no rate limit, no
 * faults): read state, request log and counters; inject faults; reset; seed.
 *
 *   GET  /__sim/state      entities and seed as JSON (Maps as arrays)
 *   GET  /__sim/requests   request log (`?since=<index>` for the tail)
 *   GET  /__sim/counters
 *   GET  /__sim/notifications   popups shown (POST /api/v2/events), `?since=<index>`
 *   POST /__sim/faults     {down: ms} | {up: true} | {slow: ms} | {hang: true | "POST /api/v4/calls"} |
 *                          {fail: count, status?, route?: "GET /api/v4/contacts"} | {expire: true} | {clear: true}
 *   POST /__sim/reset
 *   POST /__sim/seed       Partial<SeedData>
 *   POST /__sim/access-token   mint an OAuth access token → {access_token}
 */
import { fail, type Reply } from './http.js';
import type { SimState } from './state.js';
import type { RequestLogEntry, SeedData, SimCounters } from './types.js';
import { isObj } from './validate.js';

export interface InspectTarget {
  readonly state: SimState;
  readonly requests: RequestLogEntry[];
  readonly counters: SimCounters;
  readonly faults: {
    down(ms?: number): void; up(): void; slow(ms: number): void; hang(route?: string): void;
    fail(count: number, status?: number, route?: string): void; expireAccessTokens(): void; clear(): void;
  };
  faultSnapshot(): Record<string, unknown>;
  issueAccessToken(): string;
  seed(data: Partial<SeedData>): void;
  reset(): void;
}

function json(body: unknown, status = 200): Reply {
  return { status, body, contentType: 'application/json' };
}

/** A JSON view of the whole store. */
export function stateSnapshot(st: SimState): Record<string, unknown> {
  return {
    account: st.account, users: st.users, deletedUserIds: [...st.deletedUserIds], customFields: st.customFields,
    pipelines: st.pipelines, taskTypes: st.taskTypes,
    contacts: [...st.contacts.values()], companies: [...st.companies.values()], leads: [...st.leads.values()],
    unsorted: [...st.unsorted.values()], calls: st.calls, notifications: st.notifications, notes: [...st.notes.values()], tasks: [...st.tasks.values()],
  };
}

function num(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(400, `${name} must be a non-negative number`);
  return v;
}

function faults(sim: InspectTarget, body: unknown): Reply {
  if (!isObj(body)) fail(400, 'body must be a JSON object such as {"fail": 2, "status": 503}');
  let after: (() => void) | undefined;
  const done: string[] = [];
  if (body.clear === true) { sim.faults.clear(); done.push('clear'); }
  if (body.up === true) { sim.faults.up(); done.push('up'); }
  if (body.slow !== undefined) { sim.faults.slow(num(body.slow, 'slow')); done.push('slow'); }
  if (body.hang === true) { sim.faults.hang(); done.push('hang'); }
  if (typeof body.hang === 'string') { sim.faults.hang(body.hang); done.push('hang'); }
  if (body.fail !== undefined) {
    const status = body.status === undefined ? 500 : num(body.status, 'status');
    if (body.route !== undefined && typeof body.route !== 'string') fail(400, 'route must be a string such as "POST /api/v4/calls"');
    sim.faults.fail(num(body.fail, 'fail'), status, body.route);
    done.push('fail');
  }
  if (body.expire === true) { sim.faults.expireAccessTokens(); done.push('expire'); }
  if (body.down !== undefined) {
    // Over HTTP, "down" needs a duration: nothing could bring it up again.
    const ms = num(body.down, 'down (ms)');
    after = () => sim.faults.down(ms);
    done.push('down');
  }
  if (done.length === 0) fail(400, 'no known fault in body: down, up, slow, hang, fail, expire, clear');
  return { ...json({ applied: done, faults: { ...sim.faultSnapshot(), ...(after ? { down: true } : {}) } }), after };
}

/** Answer a `/__sim/...` request. */
export function inspect(sim: InspectTarget, method: string, path: string, query: URLSearchParams, body: unknown): Reply {
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  switch (route) {
    case 'GET /__sim/state': return json(stateSnapshot(sim.state));
    case 'GET /__sim/requests': {
      const since = Number(query.get('since') ?? 0);
      return json(sim.requests.slice(Number.isInteger(since) && since > 0 ? since : 0));
    }
    case 'GET /__sim/counters': return json(sim.counters);
    case 'GET /__sim/notifications': {
      const since = Number(query.get('since') ?? 0);
      return json(sim.state.notifications.slice(Number.isInteger(since) && since > 0 ? since : 0));
    }
    case 'GET /__sim/faults': return json(sim.faultSnapshot());
    case 'POST /__sim/faults': return faults(sim, body);
    case 'POST /__sim/reset': sim.reset(); return json({ reset: true });
    case 'POST /__sim/seed':
      if (!isObj(body)) fail(400, 'body must be a JSON object (Partial<SeedData>)');
      sim.seed(body as Partial<SeedData>);
      return json({ seeded: Object.keys(body) });
    case 'POST /__sim/access-token': return json({ access_token: sim.issueAccessToken() });
    default: return fail(404, `no simulator route ${route}`);
  }
}
