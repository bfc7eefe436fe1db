/**
 * The registrar: durable, exactly-once registration of finished calls (README, "Which calls are registered, and how").
 *
 * - `submit(call)` writes the call to the journal (fsynced) before anything else, then
 *   schedules it; `start()` resumes every pending record (a restart resumes).
 * - At most `concurrency` calls are in flight (4; `registration.batch.concurrency` with
 *   batching, reached by slow start: 4, +1 per registered call, back to 4 after an outage);
 *   Kommo's own limiter (shared by the client) enforces the requests-per-second limit.
 * - A transient failure (outage, 429, 5xx, token/account trouble) pauses **all** work for
 *   a capped, jittered exponential backoff (calls in flight stop at their next step
 *   boundary); then one call goes through as a probe, and full concurrency returns with
 *   the first success. Nothing hammers a Kommo that is down.
 * - A permanent failure (Kommo said no and the connector cannot fix it) marks the record
 *   `failed`; it stays in the journal and in `stats()` until `retryFailed()`.
 * - `close()` stops at the next step boundary of the calls in flight (their step
 *   finishes and is saved) and leaves them pending for the next start. Idempotent.
 */
import type { Logger } from 'pino';
import type { CallFull, CallStage } from '../call/types.js';
import { createPhoneRewriter, phonesMatch } from '../../platform/phone.js';
import { rawClientNumber } from './call-facts.js';
import { ContactCache } from './contact-cache.js';
import { PhoneLock } from './phone-lock.js';
import type { RecordingLinker, RegistrationHooks, RegistrationKommo, RegistrationSettings } from './deps.js';
import { RegistrationPausedError, RegistrationStoppedError } from './errors.js';
import { registrationVerdict, shouldRegister, type FilterVerdict } from './filter.js';
import { runPipeline, type PipelineDeps, type PipelineRun } from './pipeline.js';
import { forgetLookups } from './run-context.js';
import { delay } from '../../platform/backoff.js';
import { classifyFailure, errorSummary, pausePolicy, retryAfterOf } from './retry-schedule.js';
import type { CallStore } from './store.js';
import type { RecordError, StoreStats } from './types.js';

export interface RegistrarOptions {
  config: RegistrationSettings;
  kommo: RegistrationKommo;
  hooks: RegistrationHooks;
  store: CallStore;
  logger: Logger;
  now?: () => number;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** Calls registered at the same time (default `registration.batch.concurrency` with batching on, else 4). */
  concurrency?: number;
  /** Contact cache (default: 10 min TTL, 10 000 numbers). */
  contactCache?: ContactCache;
  /** How often done records past retention are pruned (default 1 h; 0 = never). */
  pruneIntervalMs?: number;
  /** Optional: makes the recording link (pipeline step `record_link`); absent → `call_full.record` as submitted. */
  recordings?: RecordingLinker;
  /** Upper bound of the recording link step (default 120 s); past it the call goes on with `""`. */
  recordingTimeoutMs?: number;
}

export interface RegistrarStats extends StoreStats {
  in_flight: number;
  queued: number;
  /** True while registration waits for Kommo after a transient failure. */
  paused: boolean;
  paused_until: number | null;
  /** Consecutive transient failures (0 when Kommo is healthy). */
  kommo_failures: number;
  last_error: (RecordError & { at: number; linkedid: string }) | null;
  cache: { size: number; hits: number; misses: number };
}

export interface Registrar {
  /** Durably record a finished call, then schedule its registration. */
  submit(call: CallFull): Promise<void>;
  /** Hook 1 and the lists, for the call tracker at every stage. */
  shouldRegister(stage: CallStage, call: CallFull): Promise<boolean>;
  /** The same, with the reason of a "no" (`internal`, `blacklist_*`, `not_whitelisted`, `hook_need_registration`). */
  verdict(stage: CallStage, call: CallFull): Promise<FilterVerdict>;
  /** Resume every pending record and begin working. */
  start(): Promise<void>;
  /** Stop taking work; wait for the calls in flight to reach a step boundary. */
  close(): Promise<void>;
  /** Failed record(s) back to pending (all failed ones without an id). Returns the ids. */
  retryFailed(id?: string): Promise<string[]>;
  stats(): RegistrarStats;
  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void>;
}

export function createRegistrar(opts: RegistrarOptions): Registrar {
  const { config, kommo, hooks, store } = opts;
  const logger = opts.logger.child({ component: 'registration' });
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  // Batching (config registration.batch) needs many calls at the same step during a backlog.
  const batch = config.registration.batch as RegistrationSettings['registration']['batch'] | undefined;
  const concurrency = Math.max(1, opts.concurrency ?? (batch?.enabled ? batch.concurrency : 4));
  // Slow start: 4 calls at once, one more per call registered while Kommo answers, up to
  // `concurrency`; back to 4 after an outage. A backlog grows it (enough calls at the same
  // step for a batch); an outage never finds more than a few calls in flight to stop.
  const startWidth = Math.min(4, concurrency);
  let width = startWidth;
  const cache = opts.contactCache ?? new ContactCache({ matchDigits: config.phone.match_digits, now });
  const rewriter = createPhoneRewriter(config.phone.rewrite_rules);
  const { retry_base_ms: baseMs, retry_max_ms: maxMs } = config.registration;
  const maxAttempts = config.registration.max_attempts;
  const deps: PipelineDeps = {
    config, kommo, hooks, cache, rewriter, now,
    phoneLock: new PhoneLock(config.phone.match_digits),
    callBackTasks: (phone, sinceMs) => store.callBackTasks((other) => phonesMatch(other, phone, config.phone.match_digits), sinceMs),
    ...(opts.recordings ? { recordings: opts.recordings } : {}),
    ...(opts.recordingTimeoutMs !== undefined ? { recordingTimeoutMs: opts.recordingTimeoutMs } : {}),
  };

  /** id → due time (Unix ms), for pending records not in flight. */
  const queue = new Map<string, number>();
  const inFlight = new Map<string, Promise<void>>();
  const outage = { failures: 0, until: 0 };
  let lastError: RegistrarStats['last_error'] = null;
  let started = false;
  let closing = false;
  let closed: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let timerAt = Infinity;
  let pruneTimer: NodeJS.Timeout | null = null;
  let idleWaiters: Array<() => void> = [];

  function notifyIdle(): void {
    if (queue.size > 0 || inFlight.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  function wakeAt(at: number): void {
    if (closing || at >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = null;
      timerAt = Infinity;
      pump();
    }, Math.max(0, at - now()));
  }

  function pump(): void {
    if (!started || closing) return;
    const t = now();
    if (outage.until > t) {
      wakeAt(outage.until);
      return;
    }
    const limit = outage.failures > 0 ? 1 : width;
    while (inFlight.size < limit) {
      let pick: string | undefined;
      let pickAt = Infinity;
      for (const [id, at] of queue) {
        if (at <= t && at < pickAt && !inFlight.has(id)) {
          pick = id;
          pickAt = at;
        }
      }
      if (pick === undefined) break;
      launch(pick);
    }
    let next = Infinity;
    for (const [id, at] of queue) if (!inFlight.has(id) && at < next) next = at;
    if (next !== Infinity && inFlight.size < limit) wakeAt(next);
    notifyIdle();
  }

  function launch(id: string): void {
    queue.delete(id);
    const p = processOne(id)
      .catch((err: unknown) => {
        logger.error({ err, record: id }, 'registration worker error; will retry');
        queue.set(id, now() + delay(0, pausePolicy(baseMs, maxMs), random()));
      })
      .finally(() => {
        inFlight.delete(id);
        pump();
        notifyIdle();
      });
    inFlight.set(id, p);
  }

  async function processOne(id: string): Promise<void> {
    const rec = await store.get(id);
    if (!rec || rec.status !== 'pending') return;
    const log = logger.child({ linkedid: rec.linkedid, ...(rec.call.pbx ? { pbx: rec.call.pbx } : {}), caller: rawClientNumber(rec.call) });
    const run: PipelineRun = {
      record: rec,
      async save(mutate) {
        run.record = await store.update(id, (r) => {
          mutate(r.steps);
        });
      },
      checkpoint() {
        if (closing) throw new RegistrationStoppedError();
        // Another call found Kommo down: stop at this step boundary instead of sending more.
        if (outage.until > now()) throw new RegistrationPausedError();
      },
      logger: log,
    };
    try {
      const out = await runPipeline(deps, run);
      await store.update(id, (r) => {
        r.status = out.status;
        if (out.status === 'skipped') r.skip_reason = out.reason;
        r.last_error = null;
      });
      outage.failures = 0;
      if (width < concurrency) width++;
      const s = run.record.steps;
      if (out.status === 'done') {
        log.info({ call_id: s.call_id, contact_id: s.contact_id, lead_id: s.lead_id, task_id: s.task_id, unsorted_uid: s.unsorted_uid }, 'call registered');
      } else {
        log.info({ reason: out.reason }, 'call not registered');
      }
    } catch (err) {
      if (err instanceof RegistrationStoppedError) return;
      if (err instanceof RegistrationPausedError) {
        queue.set(id, outage.until);
        return;
      }
      await recordFailure(id, run, err, log);
    }
  }

  async function recordFailure(id: string, run: PipelineRun, err: unknown, log: Logger): Promise<void> {
    const summary = errorSummary(err);
    const t = now();
    lastError = { ...summary, at: t, linkedid: run.record.linkedid };
    const attempts = run.record.attempts + 1;
    if (classifyFailure(err) === 'transient') {
      // Failures of calls started before the pause do not lengthen it.
      width = startWidth;
      if (outage.until <= t) {
        outage.failures++;
        outage.until = t + delay(outage.failures - 1, pausePolicy(baseMs, maxMs, retryAfterOf(err)), random());
        log.warn({ err: summary, failures: outage.failures, paused_ms: outage.until - t }, 'Kommo unavailable; pausing registration');
      }
      const giveUp = maxAttempts > 0 && attempts >= maxAttempts;
      await store.update(id, (r) => {
        r.attempts = attempts;
        r.last_error = summary;
        if (giveUp) r.status = 'failed';
        else r.next_attempt_at = outage.until;
      });
      if (giveUp) log.error({ err: summary, attempts, code: 'REGISTRATION_GAVE_UP' }, 'call registration failed: too many attempts');
      else queue.set(id, outage.until);
      return;
    }
    // Kommo answered, so it is reachable: leave probe mode.
    outage.failures = 0;
    await store.update(id, (r) => {
      r.attempts = attempts;
      r.last_error = summary;
      r.status = 'failed';
    });
    log.error({ err: summary, steps: run.record.steps }, 'call registration failed; kept for retryFailed');
  }

  const registrar: Registrar = {
    async submit(call) {
      const { record } = await store.put(call);
      if (record.status !== 'pending' || inFlight.has(record.id)) return;
      queue.set(record.id, record.next_attempt_at);
      pump();
    },

    shouldRegister(stage, call) {
      return shouldRegister(stage, call, { config, hooks, logger, rewriter });
    },

    verdict(stage, call) {
      return registrationVerdict(stage, call, { config, hooks, logger, rewriter });
    },

    async start() {
      if (started || closing) return;
      for (const rec of await store.listPending()) {
        if (!inFlight.has(rec.id)) queue.set(rec.id, rec.next_attempt_at);
      }
      started = true;
      if (queue.size > 0) logger.info({ pending: queue.size }, 'resuming pending registrations');
      const every = opts.pruneIntervalMs ?? 3_600_000;
      if (every > 0) {
        pruneTimer = setInterval(() => {
          store.prune().catch((err: unknown) => logger.error({ err }, 'journal prune failed'));
        }, every);
        pruneTimer.unref();
      }
      pump();
    },

    close() {
      if (closed) return closed;
      closing = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (pruneTimer) clearInterval(pruneTimer);
      closed = (async () => {
        await Promise.allSettled([...inFlight.values()]);
        queue.clear();
        notifyIdle();
      })();
      return closed;
    },

    async retryFailed(id) {
      const ids = await store.markForRetry(id ?? 'all-failed');
      for (const one of ids) {
        const rec = await store.update(one, (r) => {
          const phone = r.steps.client_phone;
          forgetLookups(r.steps);
          if (phone !== undefined && r.steps.client_phone === undefined) cache.delete(phone);
        });
        if (rec.steps.client_phone !== undefined) cache.delete(rec.steps.client_phone);
      }
      const t = now();
      for (const one of ids) if (!inFlight.has(one)) queue.set(one, t);
      if (ids.length > 0) logger.info({ ids }, 'failed registrations queued again');
      pump();
      return ids;
    },

    stats() {
      const t = now();
      return {
        ...store.stats(),
        in_flight: inFlight.size,
        queued: queue.size,
        paused: outage.until > t,
        paused_until: outage.until > t ? outage.until : null,
        kommo_failures: outage.failures,
        last_error: lastError,
        cache: { size: cache.size, hits: cache.hits, misses: cache.misses },
      };
    },

    idle() {
      if (queue.size === 0 && inFlight.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
  return registrar;
}
