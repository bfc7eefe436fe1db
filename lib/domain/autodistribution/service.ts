/**
 * Autodistribution (README, "Autodistribution"): caller number → rewriting → hook 3 →
 * Kommo look-up (contact, else company; cached) → responsible user →
 * extension → hook 9 → the answer the dialplan acts on.
 *
 * It never throws and always answers within `budgetMs`: a slow or absent
 * Kommo yields status "timeout"/"error", which the bundled dialplan treats
 * as "not found" and sends the call down the normal route.
 */
import type { Logger } from 'pino';
import { LookupCache } from './cache.js';
import { errorCode } from '../../platform/errors.js';

export type AutodistStatus = 'found' | 'not_found' | 'timeout' | 'error';

export interface AutodistRequest {
  /** Caller number as Asterisk gave it (agi_callerid). */
  callerNumber: string;
  callerName?: string;
  /** The trunk / DID the call came in on, when known. */
  trunk?: string;
  /** agi_* environment and script query, handed to hook 9 as `request_data`. */
  requestData: Record<string, string>;
  /**
   * Milliseconds of the budget already spent before the request got here (the FastAGI
   * connection and its environment block): the budget runs from the connection.
   */
  spentMs?: number;
}

export interface AutodistAnswer {
  status: AutodistStatus;
  /** Extension to dial, "" unless found. */
  extension: string;
  /** CallerID name, at most `nameMax` characters, "" when none. */
  name: string;
  /** Why it was not found (for logs): no-number, no-entity, no-responsible, no-extension, inactive-user, kommo-error, budget. */
  reason: string;
  elapsedMs: number;
}

/** What autodistribution needs from the Kommo client (a subset of KommoClient). */
export interface LookupClient {
  findContactsByPhone(phone: string, opts?: { signal?: AbortSignal; priority?: 'realtime' }): Promise<readonly LookupEntity[]>;
  findCompaniesByPhone(phone: string, opts?: { signal?: AbortSignal; priority?: 'realtime' }): Promise<readonly LookupEntity[]>;
  listUsers(opts?: { signal?: AbortSignal }): Promise<readonly LookupUser[]>;
}

export interface LookupEntity {
  id: number;
  name?: string | null;
  responsible_user_id?: number | null;
  /** A contact's leads (the search asks `with=leads`). */
  _embedded?: { leads?: ReadonlyArray<{ id: number }> | null } | null;
}

/** A contact autodistribution found for a caller (given to `AutodistDeps.onContactFound`). */
export interface FoundContact {
  id: number;
  name: string;
  responsible_user_id: number | null;
  lead_ids: readonly number[];
}

export interface LookupUser {
  id: number;
  name?: string;
  rights?: { is_active?: boolean } | null;
}

/** What autodistribution needs from the hook runner. */
export interface AutodistHooks {
  /** Whether the hook's file exists now (when absent: assume it may run). */
  isActive?(hook: 'process_client_phone' | 'process_autodistribution'): boolean;
  run(hook: 'process_client_phone', input: Record<string, unknown>, defaults: { phone: string }, opts?: { logger?: Logger; signal?: AbortSignal }): Promise<{ data: { phone: string } }>;
  run(hook: 'process_autodistribution', input: Record<string, unknown>, defaults: { number: string; name: string }, opts?: { logger?: Logger; signal?: AbortSignal }): Promise<{ data: { number: string; name: string } }>;
}

export interface AutodistOptions {
  budgetMs: number;
  /** extension → Kommo user id (config pbx.extensions). */
  extensions: Readonly<Record<string, number>>;
  positiveTtlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  nameMax: number;
  /** Upper bound for a background look-up that outlives the budget. */
  lookupTimeoutMs: number;
  /** How often the user list (for deactivated users) is refreshed. */
  usersRefreshMs?: number;
  matchDigits?: number;
  /** Search companies in parallel with contacts (default true). */
  searchCompanies?: boolean;
}

export interface AutodistDeps {
  kommo: LookupClient;
  hooks: AutodistHooks;
  /** Digits-only, rewritten client number, or null for anonymous/empty. */
  normalizePhone: (raw: string) => string | null;
  /** Cut a name to at most `max` characters without breaking a character. */
  truncateName: (name: string, max: number) => string;
  logger: Logger;
  now?: () => number;
  /**
   * Told of every caller found to be a contact (cached or not), with the number as looked
   * up: bin/ feeds registration's contact cache with it, so the call's registration needs
   * no search of its own (one process, `start`).
   */
  onContactFound?: (phone: string, contact: FoundContact) => void;
}

interface Hit {
  entity: { id: number; type: 'contacts' | 'companies'; name: string; responsible_user_id: number | null };
  leadIds?: readonly number[];
}
type LookupValue = Hit | null;

export interface Autodistribution {
  handle(request: AutodistRequest, logger?: Logger): Promise<AutodistAnswer>;
  /** Load the user list now (called at start; failures are logged, not fatal). */
  refreshUsers(): Promise<void>;
  stats(): { cacheSize: number; hits: number; misses: number; answers: Record<AutodistStatus, number> };
  close(): void;
}

const BUDGET = Symbol('budget');

export function createAutodistribution(opts: AutodistOptions, deps: AutodistDeps): Autodistribution {
  const now = deps.now ?? Date.now;
  const matchDigits = opts.matchDigits ?? 10;
  const cache = new LookupCache<LookupValue>({
    positiveTtlMs: opts.positiveTtlMs,
    negativeTtlMs: opts.negativeTtlMs,
    maxEntries: opts.maxEntries,
    now,
  });
  const userToExtension = new Map<number, string>();
  for (const [ext, userId] of Object.entries(opts.extensions)) {
    if (!userToExtension.has(userId)) userToExtension.set(userId, ext);
  }
  let inactiveUsers = new Set<number>();
  const answers: Record<AutodistStatus, number> = { found: 0, not_found: 0, timeout: 0, error: 0 };
  let usersTimer: NodeJS.Timeout | undefined;

  async function refreshUsers(): Promise<void> {
    try {
      const users = await deps.kommo.listUsers({ signal: AbortSignal.timeout(opts.lookupTimeoutMs) });
      inactiveUsers = new Set(users.filter((u) => u.rights?.is_active === false).map((u) => u.id));
    } catch (err) {
      deps.logger.warn({ err, code: errorCode(err) }, 'could not load Kommo users; deactivated users are not filtered until the next refresh');
    }
  }
  if (opts.usersRefreshMs && opts.usersRefreshMs > 0) {
    usersTimer = setInterval(() => void refreshUsers(), opts.usersRefreshMs);
    usersTimer.unref();
  }

  async function lookup(phone: string): Promise<LookupValue> {
    const signal = AbortSignal.timeout(opts.lookupTimeoutMs);
    // Both searches at once: an unknown caller then costs one round trip, not two.
    const [contacts, companies] = await Promise.all([
      // A caller is waiting: served before registration in the shared rate limiter.
      deps.kommo.findContactsByPhone(phone, { signal, priority: 'realtime' }),
      opts.searchCompanies === false ? [] : deps.kommo.findCompaniesByPhone(phone, { signal, priority: 'realtime' }),
    ]);
    const contact = contacts[0];
    if (contact) {
      const leadIds = (contact._embedded?.leads ?? []).map((l) => l.id).filter((id) => typeof id === 'number');
      return { entity: toEntity(contact, 'contacts'), leadIds };
    }
    const company = companies[0];
    if (company) return { entity: toEntity(company, 'companies') };
    return null;
  }

  /** `budget()` fires when the answer is no longer awaited: hooks still running are stopped with it. */
  async function resolve(request: AutodistRequest, log: Logger, budget: () => AbortSignal): Promise<Omit<AutodistAnswer, 'elapsedMs'>> {
    // Only a hook that will run needs the signal (creating one costs microseconds a call).
    const hookOpts = (hook: 'process_client_phone' | 'process_autodistribution') =>
      deps.hooks.isActive?.(hook) === false ? { logger: log } : { logger: log, signal: budget() };
    const normalized = deps.normalizePhone(request.callerNumber);
    if (!normalized) return notFound('no-number');
    const hooked = await deps.hooks.run(
      'process_client_phone',
      { call_full: null, phone: normalized, call_stage: 'conversation_requested' },
      { phone: normalized },
      hookOpts('process_client_phone'),
    );
    const phone = hooked.data.phone;
    const key = phone.slice(-matchDigits);

    let value: LookupValue;
    let lookupError: unknown;
    try {
      value = await cache.getOrLoad(key, () => lookup(phone), (v) => v !== null);
    } catch (err) {
      lookupError = err;
      value = null;
    }

    let status: AutodistStatus = 'not_found';
    let reason = 'no-entity';
    let extension = '';
    let name = '';
    if (lookupError !== undefined) {
      status = 'error';
      reason = 'kommo-error';
      log.warn({ err: lookupError, code: errorCode(lookupError) }, 'Kommo look-up failed; the call takes the normal route');
    } else if (value) {
      if (value.entity.type === 'contacts' && deps.onContactFound) {
        const e = value.entity;
        deps.onContactFound(phone, { id: e.id, name: e.name, responsible_user_id: e.responsible_user_id, lead_ids: value.leadIds ?? [] });
      }
      name = value.entity.name;
      const userId = value.entity.responsible_user_id;
      const ext = userId === null ? undefined : userToExtension.get(userId);
      if (userId === null) reason = 'no-responsible';
      else if (inactiveUsers.has(userId)) reason = 'inactive-user';
      else if (ext === undefined) reason = 'no-extension';
      else {
        status = 'found';
        reason = '';
        extension = ext;
      }
      if (status !== 'found') log.info({ entityId: value.entity.id, userId, reason }, 'client found but not routable');
    }

    const hookInput: Record<string, unknown> = { number: extension, name };
    if (request.callerNumber) hookInput.from = request.callerNumber;
    if (request.trunk) hookInput.trunk = request.trunk;
    if (Object.keys(request.requestData).length > 0) hookInput.request_data = request.requestData;
    if (value) hookInput.entity = value.entity;
    if (lookupError !== undefined) hookInput.error = errorCode(lookupError);
    const routed = await deps.hooks.run('process_autodistribution', hookInput, { number: extension, name }, hookOpts('process_autodistribution'));
    const finalNumber = typeof routed.data.number === 'string' ? routed.data.number : '';
    const finalName = deps.truncateName(typeof routed.data.name === 'string' ? routed.data.name : '', opts.nameMax);
    if (finalNumber !== extension) {
      // The hook chose a route: a non-empty number means "dial this".
      if (finalNumber) {
        status = 'found';
        reason = '';
      } else if (status === 'found') {
        status = 'not_found';
        reason = 'hook';
      }
    }
    return { status, extension: status === 'found' ? finalNumber : '', name: finalName, reason };
  }

  async function handle(request: AutodistRequest, logger: Logger = deps.logger): Promise<AutodistAnswer> {
    const started = now();
    let timer: NodeJS.Timeout | undefined;
    let over: AbortController | undefined;
    const budget = new Promise<typeof BUDGET>((resolveBudget) => {
      timer = setTimeout(() => {
        resolveBudget(BUDGET);
        over?.abort(new Error('the autodistribution budget is spent'));
      }, Math.max(0, opts.budgetMs - (request.spentMs ?? 0)));
    });
    const work = resolve(request, logger, () => (over ??= new AbortController()).signal);
    let answer: Omit<AutodistAnswer, 'elapsedMs'>;
    try {
      const winner = await Promise.race([work, budget]);
      answer = winner === BUDGET ? { status: 'timeout', extension: '', name: '', reason: 'budget' } : winner;
    } catch (err) {
      logger.error({ err, code: errorCode(err) }, 'autodistribution failed; the call takes the normal route');
      answer = { status: 'error', extension: '', name: '', reason: 'internal' };
    } finally {
      clearTimeout(timer);
    }
    // A look-up that lost the race still fills the cache; never let it reject unobserved.
    work.catch(() => undefined);
    answers[answer.status]++;
    const elapsedMs = now() - started;
    logger.info({ status: answer.status, extension: answer.extension, reason: answer.reason || undefined, elapsedMs }, 'autodistribution answer');
    return { ...answer, elapsedMs };
  }

  return {
    handle,
    refreshUsers,
    stats: () => ({ cacheSize: cache.size, hits: cache.hits, misses: cache.misses, answers: { ...answers } }),
    close: () => {
      if (usersTimer) clearInterval(usersTimer);
    },
  };
}

function toEntity(e: LookupEntity, type: 'contacts' | 'companies'): Hit['entity'] {
  return {
    id: e.id,
    type,
    name: typeof e.name === 'string' ? e.name.trim() : '',
    responsible_user_id: typeof e.responsible_user_id === 'number' ? e.responsible_user_id : null,
  };
}

function notFound(reason: string): Omit<AutodistAnswer, 'elapsedMs'> {
  return { status: 'not_found', extension: '', name: '', reason };
}
