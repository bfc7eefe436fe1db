/**
 * The registration journal: an embedded, crash-safe store of one JSON file per
 * call in `<data_dir>/calls/` (README, "Nothing lost, nothing twice").
 *
 * - Every write is write-temp → fsync(file) → rename → fsync(dir): after a crash a
 *   file is either its previous or its new version, never half of one. Leftover temp
 *   files (a crash between write and rename) are removed at open.
 * - A file that cannot be parsed or does not look like a record is moved to
 *   `calls/quarantine/` with an error log; the store never throws on it.
 * - File names come from the linkedid through `recordIdOf` (a safe character set,
 *   else a hash): input never becomes a path.
 * - Done and skipped records are pruned after `retentionMs` (default 7 days); failed
 *   ones stay until retried, pending ones until registered.
 * - One process owns the directory (the bridge). Updates of one record are
 *   serialised in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { CallFull } from '../call/types.js';
import { callStartedAt } from './call-facts.js';
import { RegistrationError } from './errors.js';
import type { CallRecord, RecordStatus, StoreStats } from './types.js';

export const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const STATUSES: ReadonlySet<string> = new Set(['pending', 'done', 'failed', 'skipped']);

/** The file id for a linkedid: itself when it is a safe name, else `h_<sha256>`. */
export function recordIdOf(linkedid: string): string {
  if (SAFE_ID.test(linkedid) && !linkedid.includes('..')) return linkedid;
  return `h_${createHash('sha256').update(linkedid).digest('hex').slice(0, 40)}`;
}

/**
 * The journal key of a call: its linkedid, or `<server>.<linkedid>` when calls of
 * several Asterisk servers share the journal (two servers can produce the same
 * linkedid; a server name has no "."). One server keeps plain linkedids, so an
 * upgrade never re-registers a pending call under a new id. '' without a linkedid.
 */
export function callKeyOf(call: Pick<CallFull, 'channel' | 'pbx'>, qualify: boolean): string {
  const linkedid = String(call?.channel?.id ?? '');
  if (!linkedid) return '';
  return qualify && typeof call.pbx === 'string' && call.pbx !== '' ? `${call.pbx}.${linkedid}` : linkedid;
}

export interface StoreOptions {
  dataDir: string;
  /** Key calls by `<server>.<linkedid>` (several AMI servers). Default false. */
  qualifyIds?: boolean;
  logger: Logger;
  retentionMs?: number;
  now?: () => number;
}

export interface PutOptions {
  status?: 'pending' | 'skipped';
  skip_reason?: string;
}

export interface CallStore {
  readonly dir: string;
  /** The call's journal key (see callKeyOf); its file id is `recordIdOf(key)`. */
  keyOf(call: Pick<CallFull, 'channel' | 'pbx'>): string;
  /** Durably record a finished call. An existing record is returned untouched (`created: false`). */
  put(call: CallFull, opts?: PutOptions): Promise<{ record: CallRecord; created: boolean }>;
  get(id: string): Promise<CallRecord | undefined>;
  /** Read-modify-write under the record's lock; `fn` may mutate the copy or return a new one. */
  update(id: string, fn: (rec: CallRecord) => CallRecord | void): Promise<CallRecord>;
  listPending(): Promise<CallRecord[]>;
  listFailed(): Promise<CallRecord[]>;
  /** Records whose call started in [from, to) (Unix ms or Date). */
  listByPeriod(from: number | Date, to: number | Date): Promise<CallRecord[]>;
  /** Read-only, from the in-memory index (no file read): call start times (Unix ms) in [from, to). */
  startTimes(from: number, to: number): number[];
  /**
   * Ids of call-back tasks that calls of a client (`samePhone`) started since `sinceMs`
   * created and no later call completed — from memory, no I/O. Tasks created by hand in
   * Kommo are not here; records past the retention neither.
   */
  callBackTasks(samePhone: (phone: string) => boolean, sinceMs: number): number[];
  /** Failed (or pending) record(s) → pending, attempts 0, due now. Returns the ids reset. */
  markForRetry(target: string | 'all-failed'): Promise<string[]>;
  stats(): StoreStats;
  /** Remove done/skipped records older than the retention. Returns how many. */
  prune(): Promise<number>;
  close(): Promise<void>;
}

interface IndexEntry {
  status: RecordStatus;
  next_attempt_at: number;
  call_started_at: number;
  updated_at: number;
  /** The client number, once known (`steps.client_phone`). */
  phone?: string;
  /** The call-back task this call created or adopted (`steps.task_id` > 0). */
  task_id?: number;
  /** Call-back tasks this call completed (`steps.tasks_completed`). */
  tasks_completed?: readonly number[];
}

/** What the index keeps of a record. */
function indexEntry(rec: CallRecord): IndexEntry {
  const s = rec.steps;
  return {
    status: rec.status,
    next_attempt_at: rec.next_attempt_at,
    call_started_at: rec.call_started_at,
    updated_at: rec.updated_at,
    ...(s.client_phone ? { phone: s.client_phone } : {}),
    ...(s.task_id ? { task_id: s.task_id } : {}),
    ...(s.tasks_completed?.length ? { tasks_completed: s.tasks_completed } : {}),
  };
}

function isRecord(value: unknown, id: string): value is CallRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  const call = r.call as Record<string, unknown> | undefined;
  return (
    r.v === 1 &&
    r.id === id &&
    typeof r.linkedid === 'string' &&
    typeof r.status === 'string' &&
    STATUSES.has(r.status) &&
    typeof r.attempts === 'number' &&
    typeof r.next_attempt_at === 'number' &&
    typeof r.created_at === 'number' &&
    typeof r.updated_at === 'number' &&
    typeof r.call_started_at === 'number' &&
    typeof r.steps === 'object' &&
    r.steps !== null &&
    typeof call === 'object' &&
    call !== null &&
    typeof call.channel === 'object' &&
    call.channel !== null
  );
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function openCallStore(opts: StoreOptions): Promise<CallStore> {
  const dir = path.join(opts.dataDir, 'calls');
  const quarantineDir = path.join(dir, 'quarantine');
  const log = opts.logger.child({ component: 'registration-store' });
  const now = opts.now ?? Date.now;
  const retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS;
  const index = new Map<string, IndexEntry>();
  const locks = new Map<string, Promise<unknown>>();
  let quarantined = 0;

  try {
    await mkdir(quarantineDir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new RegistrationError('REGISTRATION_STORE_IO', `cannot create ${dir}`, { cause, dir });
  }

  const fileOf = (id: string): string => path.join(dir, `${id}.json`);

  async function quarantine(id: string, reason: string, cause?: unknown): Promise<void> {
    const target = path.join(quarantineDir, `${id}.json.${now()}`);
    try {
      await rename(fileOf(id), target);
      await fsyncDir(dir);
      quarantined++;
      log.error({ code: 'REGISTRATION_STORE_CORRUPT', id, moved_to: target, reason, err: cause }, 'corrupted journal file quarantined');
    } catch (err) {
      log.error({ code: 'REGISTRATION_STORE_IO', id, err }, 'could not quarantine a corrupted journal file');
    }
    index.delete(id);
  }

  async function readRecord(id: string): Promise<CallRecord | undefined> {
    let text: string;
    try {
      text = await readFile(fileOf(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new RegistrationError('REGISTRATION_STORE_IO', `cannot read journal record ${id}`, { cause: err, id });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      await quarantine(id, 'invalid JSON', err);
      return undefined;
    }
    if (!isRecord(parsed, id)) {
      await quarantine(id, 'not a journal record');
      return undefined;
    }
    return parsed;
  }

  async function writeRecord(rec: CallRecord): Promise<void> {
    const name = `${rec.id}.json`;
    const tmp = path.join(dir, `${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify(rec));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path.join(dir, name));
      await fsyncDir(dir);
    } catch (cause) {
      await unlink(tmp).catch(() => undefined);
      throw new RegistrationError('REGISTRATION_STORE_IO', `cannot write journal record ${rec.id}`, { cause, id: rec.id });
    }
    index.set(rec.id, indexEntry(rec));
  }

  function withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(id, tail);
    void tail.then(() => {
      if (locks.get(id) === tail) locks.delete(id);
    });
    return run;
  }

  async function readMany(filter: (e: IndexEntry) => boolean): Promise<CallRecord[]> {
    const out: CallRecord[] = [];
    for (const [id, entry] of [...index]) {
      if (!filter(entry)) continue;
      const rec = await readRecord(id);
      if (rec) out.push(rec);
    }
    return out;
  }

  // Open: drop leftover temp files, index every record, quarantine what cannot be read.
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new RegistrationError('REGISTRATION_STORE_IO', `cannot list ${dir}`, { cause, dir });
  }
  for (const name of names) {
    if (name.endsWith('.tmp')) {
      log.warn({ file: name }, 'removing a half-written journal temp file left by a crash');
      await unlink(path.join(dir, name)).catch(() => undefined);
      continue;
    }
    if (!name.endsWith('.json')) continue;
    const id = name.slice(0, -'.json'.length);
    if (!SAFE_ID.test(id)) continue;
    const rec = await readRecord(id);
    if (!rec) continue;
    index.set(id, indexEntry(rec));
  }

  const qualify = opts.qualifyIds === true;
  const store: CallStore = {
    dir,
    keyOf: (call) => callKeyOf(call, qualify),

    put(call, putOpts = {}) {
      const linkedid = callKeyOf(call, qualify);
      if (!linkedid) {
        return Promise.reject(new RegistrationError('REGISTRATION_BAD_CALL', 'call_full has no primary channel id (linkedid)'));
      }
      const id = recordIdOf(linkedid);
      return withLock(id, async () => {
        const existing = index.has(id) ? await readRecord(id) : undefined;
        if (existing) return { record: existing, created: false };
        const t = now();
        const status = putOpts.status ?? 'pending';
        const rec: CallRecord = {
          v: 1,
          id,
          linkedid,
          status,
          ...(putOpts.skip_reason ? { skip_reason: putOpts.skip_reason } : {}),
          created_at: t,
          updated_at: t,
          call_started_at: callStartedAt(call) ?? t,
          attempts: 0,
          next_attempt_at: t,
          last_error: null,
          call,
          steps: {},
        };
        await writeRecord(rec);
        return { record: rec, created: true };
      });
    },

    async get(id) {
      if (!SAFE_ID.test(id)) return undefined;
      return withLock(id, () => readRecord(id));
    },

    update(id, fn) {
      return withLock(id, async () => {
        const current = SAFE_ID.test(id) ? await readRecord(id) : undefined;
        if (!current) throw new RegistrationError('REGISTRATION_NOT_FOUND', `no journal record ${id}`, { id });
        const copy = structuredClone(current);
        const next = fn(copy) ?? copy;
        next.updated_at = now();
        await writeRecord(next);
        return next;
      });
    },

    async listPending() {
      const out = await readMany((e) => e.status === 'pending');
      return out.sort((a, b) => a.next_attempt_at - b.next_attempt_at);
    },

    listFailed() {
      return readMany((e) => e.status === 'failed');
    },

    async listByPeriod(from, to) {
      const f = typeof from === 'number' ? from : from.getTime();
      const tt = typeof to === 'number' ? to : to.getTime();
      const out = await readMany((e) => e.call_started_at >= f && e.call_started_at < tt);
      return out.sort((a, b) => a.call_started_at - b.call_started_at);
    },

    callBackTasks(samePhone, sinceMs) {
      const created: number[] = [];
      const completed = new Set<number>();
      for (const e of index.values()) {
        if (e.phone === undefined || e.call_started_at < sinceMs || !samePhone(e.phone)) continue;
        if (e.task_id !== undefined) created.push(e.task_id);
        for (const id of e.tasks_completed ?? []) completed.add(id);
      }
      return created.filter((id) => !completed.has(id));
    },

    startTimes(from, to) {
      const out: number[] = [];
      for (const e of index.values()) if (e.call_started_at >= from && e.call_started_at < to) out.push(e.call_started_at);
      return out;
    },

    async markForRetry(target) {
      const ids =
        target === 'all-failed'
          ? [...index].filter(([, e]) => e.status === 'failed').map(([id]) => id)
          : [target];
      const reset: string[] = [];
      for (const id of ids) {
        const entry = index.get(id);
        if (!entry || (entry.status !== 'failed' && entry.status !== 'pending')) continue;
        await store.update(id, (rec) => {
          rec.status = 'pending';
          rec.attempts = 0;
          rec.next_attempt_at = now();
        });
        reset.push(id);
      }
      return reset;
    },

    stats() {
      const s: StoreStats = { pending: 0, done: 0, failed: 0, skipped: 0, quarantined, oldest_pending_at: null };
      for (const e of index.values()) {
        s[e.status]++;
        if (e.status === 'pending' && (s.oldest_pending_at === null || e.call_started_at < s.oldest_pending_at)) {
          s.oldest_pending_at = e.call_started_at;
        }
      }
      return s;
    },

    async prune() {
      const limit = now() - retentionMs;
      let removed = 0;
      for (const [id, e] of [...index]) {
        if ((e.status !== 'done' && e.status !== 'skipped') || e.updated_at >= limit) continue;
        await withLock(id, async () => {
          const cur = index.get(id);
          if (!cur || (cur.status !== 'done' && cur.status !== 'skipped') || cur.updated_at >= limit) return;
          await unlink(fileOf(id)).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOENT') throw new RegistrationError('REGISTRATION_STORE_IO', `cannot prune ${id}`, { cause: err, id });
          });
          index.delete(id);
          removed++;
        });
      }
      if (removed > 0) {
        await fsyncDir(dir);
        log.info({ removed }, 'pruned registered calls past retention');
      }
      return removed;
    },

    async close() {
      await Promise.all([...locks.values()]);
    },
  };

  await store.prune();
  return store;
}
