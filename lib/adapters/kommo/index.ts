/**
 * The Kommo client library, shared by the FastAGI server, the AMI bridge and the CLI.
 * Only the composition root (bin/) calls `createKommoClient`; everything else receives the
 * client. See errors.ts for the error codes, retry.ts for the retry policy, limiter.ts for
 * the rate limit, auth.ts for tokens.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DeepReadonly, KommoConfig } from '../../platform/config/types.js';
import { getAccount } from './account.js';
import { createLongLivedAuth, createOAuthAuth, type AuthProvider } from './auth.js';
import { createBatchedCreates } from './batched-creates.js';
import { findCompaniesByPhone, getCompany } from './companies.js';
import { findContactsByPhone, getContact, updateContact } from './contacts.js';
import type { EndpointContext } from './endpoint.js';
import { addCallNotifications } from './events.js';
import { KommoAuthError, KommoError } from './errors.js';
import { findPhoneField, getContactFields } from './fields.js';
import { createHttpClient, type RequestOptions } from './http.js';
import { getLead, linkContactsToLead, updateLead } from './leads.js';
import { createLimiterRegistry, type LimiterRegistry, type RateLimiter } from './limiter.js';
import { addNote, listNotes, type Note, type NoteFilter } from './notes.js';
import { listPipelines } from './pipelines.js';
import { retryPolicyFromConfig } from './retry.js';
import { completeTask, listTasks } from './tasks.js';
import { createFileTokenStore, type TokenStore } from './token-store.js';
import { createTransport } from './transport.js';
import type {
  Account, CallCreate, CallNotification, Company, Contact, CustomField, EntityType, Lead, LeadCreate, NoteCreate, PartyCreate,
  PhoneField, Pipeline, Task, TaskCreate, TaskFilter, UnsortedSipCreate, User,
} from './types.js';
import { createUnsortedSip } from './unsorted.js';
import { listUsers } from './users.js';

export * from './errors.js';
export * from './types.js';
export type { RequestOptions } from './http.js';
export { createRateLimiter, createLimiterRegistry, type RateLimiter, type LimiterRegistry, type Permit, type RateStats } from './limiter.js';
export { decideRetry, DEFAULT_RETRY_POLICY, retryPolicyFromConfig, type RetryPolicy, type AttemptOutcome } from './retry.js';
export { createFileTokenStore, type TokenStore, type StoredTokens } from './token-store.js';
export { hasPhone, phoneValues, filterByPhone } from './phone-match.js';
export { pickPhoneField } from './fields.js';
export { stripNulls, encodeJson } from './json.js';
export type { Note, NoteFilter } from './notes.js';

export interface KommoClientDeps {
  logger: Logger;
  /** Where the OAuth token file lives by default (`<dataDir>/kommo-tokens.json`). */
  dataDir: string;
  /** The account's shared limiter. Default: from `limiters`, else a process-wide registry by base URL. */
  limiter?: RateLimiter;
  limiters?: LimiterRegistry;
  /** Clock in epoch ms (token expiry, retry budget). */
  now?: () => number;
  /** Trailing digits a phone match compares (config `phone.match_digits`, default 10). */
  matchDigits?: number;
  /** Override the OAuth token store (tests). */
  tokenStore?: TokenStore;
  /** Jitter source in [0, 1) (tests). */
  random?: () => number;
  /**
   * Creates of calls, contacts, leads and tasks made while one of the same kind waits for a
   * rate-limit slot leave together, up to this many items per request (batch.ts; config
   * `registration.batch`). Default 1: every create alone.
   */
  batchMaxItems?: number;
  /** During a backlog, at most one batched request of a kind per this many ms (default 0). */
  batchLingerMs?: number;
}

export interface KommoClient {
  getAccount(opts?: RequestOptions & { with?: string[] }): Promise<Account>;
  /** All pages. Needs an admin token (else KOMMO_FORBIDDEN). */
  listUsers(opts?: RequestOptions): Promise<User[]>;
  getContactFields(opts?: RequestOptions): Promise<CustomField[]>;
  /** PHONE field + the configured enum (`kommo.phone_enum`); missing → KOMMO_PHONE_FIELD_MISSING. */
  findPhoneField(opts?: RequestOptions): Promise<PhoneField>;
  listPipelines(opts?: RequestOptions): Promise<Pipeline[]>;
  /** Contacts whose PHONE field really holds the number (last `matchDigits` digits), with leads. */
  findContactsByPhone(phone: string, opts?: RequestOptions): Promise<Contact[]>;
  findCompaniesByPhone(phone: string, opts?: RequestOptions): Promise<Company[]>;
  getContact(id: number, opts?: RequestOptions): Promise<Contact | null>;
  getCompany(id: number, opts?: RequestOptions): Promise<Company | null>;
  getLead(id: number, opts?: RequestOptions): Promise<Lead | null>;
  createContact(body: PartyCreate, opts?: RequestOptions): Promise<{ id: number }>;
  updateContact(id: number, patch: Partial<PartyCreate>, opts?: RequestOptions): Promise<void>;
  createLead(body: LeadCreate, opts?: RequestOptions): Promise<{ id: number }>;
  updateLead(id: number, patch: Partial<LeadCreate>, opts?: RequestOptions): Promise<void>;
  linkContactsToLead(leadId: number, contactIds: readonly number[], opts?: RequestOptions): Promise<void>;
  createUnsortedSip(body: UnsortedSipCreate, opts?: RequestOptions): Promise<{ uid: string; leadId?: number; contactId?: number }>;
  createTask(body: TaskCreate, opts?: RequestOptions): Promise<{ id: number }>;
  listTasks(filter: TaskFilter, opts?: RequestOptions): Promise<Task[]>;
  completeTask(id: number, resultText: string, opts?: RequestOptions): Promise<void>;
  /** 400 "Entity not found" → KOMMO_ENTITY_NOT_FOUND. */
  createCall(body: CallCreate, opts?: RequestOptions): Promise<{ id: number; entityId: number; entityType: string }>;
  addNote(entityType: EntityType, entityId: number, note: NoteCreate, opts?: RequestOptions): Promise<{ id: number }>;
  /**
   * `POST /api/v2/events`: the popup of a ringing call for the given users (never empty:
   * Kommo would show it to everyone → KOMMO_INVALID_ARGUMENT). Give `priority: 'realtime'`
   * and a `signal` that aborts when the phone stops ringing.
   */
  addCallNotifications(items: readonly CallNotification[], opts?: RequestOptions): Promise<void>;
  /** Notes of one lead/contact/company (`filter.note_type`, e.g. call_in/call_out); `[]` when none. */
  listNotes(entityType: EntityType | string, entityId: number, filter?: NoteFilter, opts?: RequestOptions): Promise<Note[]>;
  /** Limiter state, and what Kommo answered so far: `rateLimited` 429s, `serverErrors` 5xx, `unanswered` requests with no answer. */
  rateStats(): { sentLastSecond: number; limit: number; total: number; throttledWaits: number; rateLimited: number; serverErrors: number; unanswered: number };
  /** Coalesced creates per endpoint: requests sent, items, the largest batch (all 0 with batching off). */
  batchStats(): Record<'calls' | 'contacts' | 'leads' | 'tasks', { requests: number; items: number; largest: number }>;
  /** Refuse new calls, cancel waits (limiter, backoff), let exchanges in flight finish. Idempotent. */
  close(): Promise<void>;
  /** As close(), and abort exchanges in flight. Idempotent. */
  destroy(): Promise<void>;
}

const processLimiters = createLimiterRegistry();

function buildAuth(config: DeepReadonly<KommoConfig>, deps: KommoClientDeps, exchange: (b: Record<string, string>) => Promise<unknown>, now: () => number): AuthProvider {
  if (config.long_lived_token) return createLongLivedAuth(config.long_lived_token);
  const oauth = config.oauth;
  if (oauth) {
    return createOAuthAuth({
      clientId: oauth.client_id,
      clientSecret: oauth.client_secret,
      redirectUri: oauth.redirect_uri,
      seedRefreshToken: oauth.refresh_token,
      store: deps.tokenStore ?? createFileTokenStore(oauth.token_file ?? join(deps.dataDir, 'kommo-tokens.json')),
      exchange,
      logger: deps.logger,
      now,
    });
  }
  throw new KommoAuthError('KOMMO_NO_CREDENTIALS', 'set kommo.long_lived_token or kommo.oauth');
}

export function createKommoClient(config: DeepReadonly<KommoConfig>, deps: KommoClientDeps): KommoClient {
  const logger = deps.logger.child({ component: 'kommo' });
  const now = deps.now ?? Date.now;
  const limit = config.rate_limit_per_second > 0 ? config.rate_limit_per_second : 7;
  const limiter = deps.limiter ?? (deps.limiters ?? processLimiters).get(config.base_url, limit, config.realtime_reserve);
  const matchDigits = deps.matchDigits ?? 10;
  const policy = retryPolicyFromConfig(config.retry);
  const transport = createTransport({ connectTimeoutMs: config.connect_timeout_ms, requestTimeoutMs: config.request_timeout_ms });
  const closing = new AbortController();
  const destroying = new AbortController();
  const http = createHttpClient({
    baseUrl: config.base_url, transport, limiter, policy, logger, now,
    random: deps.random ?? Math.random, closing: closing.signal, destroying: destroying.signal,
  });
  const auth = buildAuth(config, { ...deps, logger }, async (body) => {
    const res = await http.send({ method: 'POST', path: '/oauth2/access_token', body, idempotent: true, auth: false });
    return res.body;
  }, now);
  http.setAuth(auth);
  const ctx: EndpointContext = { http };
  const creates = createBatchedCreates(ctx, {
    maxItems: deps.batchMaxItems ?? 1,
    lingerMs: deps.batchLingerMs ?? 0,
    busy: () => limiter.stats().queued > 0,
  });

  let closed = false;
  const inflight = new Set<Promise<unknown>>();
  const run = <T>(fn: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new KommoError('KOMMO_CLOSED', 'the Kommo client is closed'));
    let p: Promise<T>;
    try {
      p = fn();
    } catch (err) {
      return Promise.reject(err);
    }
    inflight.add(p);
    p.then(() => inflight.delete(p), () => inflight.delete(p));
    return p;
  };
  let closePromise: Promise<void> | undefined;
  let destroyPromise: Promise<void> | undefined;
  const shutdown = (hard: boolean): Promise<void> => {
    closed = true;
    closing.abort(new KommoError('KOMMO_CLOSED', 'the Kommo client is closing'));
    if (hard) {
      destroying.abort(new KommoError('KOMMO_CLOSED', 'the Kommo client was destroyed'));
      destroyPromise ??= transport.destroy().catch(() => undefined);
    }
    closePromise ??= (async () => {
      await Promise.allSettled([...inflight]);
      if (!destroyPromise) await transport.close().catch(() => undefined);
    })();
    return hard ? Promise.all([closePromise, destroyPromise]).then(() => undefined) : closePromise;
  };

  return {
    getAccount: (opts) => run(() => getAccount(ctx, opts)),
    listUsers: (opts) => run(() => listUsers(ctx, opts)),
    getContactFields: (opts) => run(() => getContactFields(ctx, opts)),
    findPhoneField: (opts) => run(() => findPhoneField(ctx, config.phone_enum || 'WORK', opts)),
    listPipelines: (opts) => run(() => listPipelines(ctx, opts)),
    findContactsByPhone: (phone, opts) => run(() => findContactsByPhone(ctx, phone, matchDigits, opts)),
    findCompaniesByPhone: (phone, opts) => run(() => findCompaniesByPhone(ctx, phone, matchDigits, opts)),
    getContact: (id, opts) => run(() => getContact(ctx, id, opts)),
    getCompany: (id, opts) => run(() => getCompany(ctx, id, opts)),
    getLead: (id, opts) => run(() => getLead(ctx, id, opts)),
    createContact: (body, opts) => run(() => creates.createContact(body, opts)),
    updateContact: (id, patch, opts) => run(() => updateContact(ctx, id, patch, opts)),
    createLead: (body, opts) => run(() => creates.createLead(body, opts)),
    updateLead: (id, patch, opts) => run(() => updateLead(ctx, id, patch, opts)),
    linkContactsToLead: (leadId, ids, opts) => run(() => linkContactsToLead(ctx, leadId, ids, opts)),
    createUnsortedSip: (body, opts) => run(() => createUnsortedSip(ctx, body, opts)),
    createTask: (body, opts) => run(() => creates.createTask(body, opts)),
    listTasks: (filter, opts) => run(() => listTasks(ctx, filter, opts)),
    completeTask: (id, text, opts) => run(() => completeTask(ctx, id, text, opts)),
    createCall: (body, opts) => run(() => creates.createCall(body, opts)),
    addNote: (type, id, note, opts) => run(() => addNote(ctx, type, id, note, opts)),
    addCallNotifications: (items, opts) => run(() => addCallNotifications(ctx, items, opts)),
    listNotes: (type, id, filter, opts) => run(() => listNotes(ctx, type, id, filter, opts)),
    rateStats: () => {
      const s = limiter.stats();
      const c = http.counters();
      return { sentLastSecond: s.sentLastSecond, limit: s.limit, total: s.total, throttledWaits: s.throttledWaits, rateLimited: c.rateLimited, serverErrors: c.serverErrors, unanswered: c.unanswered };
    },
    batchStats: () => creates.stats(),
    close: () => shutdown(false),
    destroy: () => shutdown(true),
  };
}
