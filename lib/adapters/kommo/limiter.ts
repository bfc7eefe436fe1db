/**
 * The request rate limiter: at most `limit` requests in any window of `windowMs`, as seen
 * by Kommo, even under a burst of hundreds of concurrent callers.
 *
 * A plain token bucket is not enough: with capacity 7 refilling continuously a sliding
 * 1-second window can see 7 + refill requests. And counting send times alone is not
 * enough either: a request sent early can reach Kommo late. So a request holds a slot
 * from the moment it is admitted until `windowMs + marginMs` after it settled (answer
 * headers or error) — Kommo saw it somewhere between those two instants. Any `limit + 1`
 * requests that Kommo saw within one window would all hold a slot at the same instant,
 * which the limiter never allows. A request that provably never left (connect failed)
 * frees its slot at once.
 *
 * Two lanes: `realtime` (a caller is waiting on the line: autodistribution look-ups)
 * and `normal` (registration, checks — work that can wait). Realtime waiters are served
 * first — a backlog of hundreds of registrations never stands between a caller and the
 * next free slot — and `realtimeReserve` slots (default 0) are never taken by normal
 * work, so that a caller need not wait for a slot at all (at the cost of that much of
 * the registration rate). Within
 * a lane waiters are served in FIFO order; the queue is bounded; every wait can be
 * cancelled with an AbortSignal. `pause(ms)` stops everyone (after a 429 with Retry-After).
 *
 * ONE limiter per Kommo account must be shared by everything in the process that talks to
 * it: use a `LimiterRegistry` (keyed by base URL) built once at the composition root.
 */
import { KommoError } from './errors.js';

export interface LimiterClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: LimiterClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface LimiterOptions {
  /** Requests per window (Kommo: 7 per second per integration). */
  limit: number;
  windowMs?: number;
  /** Extra hold after the window, against clock rounding (default 25 ms). */
  marginMs?: number;
  /** Max callers waiting; more → KOMMO_RATE_LIMITED at once (default 10 000). */
  maxQueue?: number;
  /** Slots normal work never takes, kept for realtime requests (default 0: realtime is only served first). */
  realtimeReserve?: number;
  clock?: LimiterClock;
}

export type Priority = 'realtime' | 'normal';

export interface Permit {
  /** Settle the request: `sent: false` when it provably never left the host. Idempotent. */
  release(opts?: { sent?: boolean }): void;
}

export interface RateStats {
  /** Requests admitted during the last window. */
  sentLastSecond: number;
  limit: number;
  /** Requests admitted since start. */
  total: number;
  /** Admissions that had to wait for a slot. */
  throttledWaits: number;
  /** Callers waiting right now. */
  queued: number;
  /** Realtime requests admitted since start, and of those how many had to wait. */
  realtimeTotal: number;
  realtimeWaits: number;
}

export interface RateLimiter {
  readonly limit: number;
  acquire(signal?: AbortSignal, priority?: Priority): Promise<Permit>;
  /** Admit nobody for `ms` (e.g. after a 429 carrying Retry-After). */
  pause(ms: number): void;
  stats(): RateStats;
}

interface Waiter {
  resolve: (permit: Permit) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function abortError(signal: AbortSignal): KommoError {
  return new KommoError('KOMMO_ABORTED', 'the request was aborted while waiting for a rate-limit slot', {
    cause: signal.reason,
  });
}

export function createRateLimiter(options: LimiterOptions): RateLimiter {
  const limit = Math.max(1, Math.floor(options.limit));
  const windowMs = options.windowMs ?? 1000;
  const marginMs = options.marginMs ?? 25;
  const maxQueue = options.maxQueue ?? 10_000;
  const clock = options.clock ?? realClock;
  const reserve = Math.min(Math.max(0, Math.floor(options.realtimeReserve ?? 0)), limit - 1);

  let inFlight = 0;
  /** When settled slots become free again, ascending (settle times are monotonic). */
  let freeAt: number[] = [];
  /** Admission times within the last window, for stats. */
  let admitted: number[] = [];
  let total = 0;
  let throttledWaits = 0;
  let pausedUntil = 0;
  let realtimeTotal = 0;
  let realtimeWaits = 0;
  const lanes: Record<Priority, Waiter[]> = { realtime: [], normal: [] };
  const queued = (): number => lanes.realtime.length + lanes.normal.length;
  let timer: unknown = undefined;
  let timerAt = Infinity;

  const prune = (now: number): void => {
    let i = 0;
    while (i < freeAt.length && (freeAt[i] as number) <= now) i++;
    if (i > 0) freeAt = freeAt.slice(i);
    let j = 0;
    while (j < admitted.length && (admitted[j] as number) <= now - windowMs) j++;
    if (j > 0) admitted = admitted.slice(j);
  };

  const makePermit = (): Permit => {
    let released = false;
    return {
      release(opts) {
        if (released) return;
        released = true;
        inFlight--;
        if (opts?.sent !== false) freeAt.push(clock.now() + windowMs + marginMs);
        pump();
      },
    };
  };

  const admit = (now: number, priority: Priority): Permit => {
    inFlight++;
    total++;
    if (priority === 'realtime') realtimeTotal++;
    admitted.push(now);
    return makePermit();
  };

  const canAdmit = (now: number, priority: Priority): boolean =>
    now >= pausedUntil && inFlight + freeAt.length < (priority === 'realtime' ? limit : limit - reserve);

  const schedule = (now: number): void => {
    // The next instant a waiter may be admitted without a release: the pause ending, or
    // the oldest settled slot freeing. Slots still in flight are woken by release().
    let at = Infinity;
    if (now < pausedUntil) at = pausedUntil;
    else if (freeAt.length > 0) at = freeAt[0] as number;
    if (at === Infinity || (timer !== undefined && timerAt <= at)) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timerAt = at;
    timer = clock.setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      pump();
    }, Math.max(0, at - now));
  };

  function pump(): void {
    const now = clock.now();
    prune(now);
    for (const priority of ['realtime', 'normal'] as const) {
      const lane = lanes[priority];
      while (lane.length > 0 && canAdmit(now, priority)) {
        const w = lane.shift() as Waiter;
        if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
        w.resolve(admit(now, priority));
      }
    }
    if (queued() > 0) schedule(now);
  }

  return {
    limit,
    acquire(signal, priority = 'normal') {
      if (signal?.aborted) return Promise.reject(abortError(signal));
      const now = clock.now();
      prune(now);
      const ahead = priority === 'realtime' ? lanes.realtime.length : queued();
      if (ahead === 0 && canAdmit(now, priority)) return Promise.resolve(admit(now, priority));
      if (queued() >= maxQueue) {
        return Promise.reject(new KommoError('KOMMO_RATE_LIMITED', `rate-limit queue is full (${maxQueue} waiting)`));
      }
      throttledWaits++;
      if (priority === 'realtime') realtimeWaits++;
      const lane = lanes[priority];
      return new Promise<Permit>((resolve, reject) => {
        const w: Waiter = { resolve, reject, signal, onAbort: undefined };
        if (signal) {
          w.onAbort = () => {
            const i = lane.indexOf(w);
            if (i >= 0) lane.splice(i, 1);
            reject(abortError(signal));
          };
          signal.addEventListener('abort', w.onAbort, { once: true });
        }
        lane.push(w);
        schedule(now);
      });
    },
    pause(ms) {
      if (!(ms > 0)) return;
      pausedUntil = Math.max(pausedUntil, clock.now() + ms);
      if (queued() > 0) schedule(clock.now());
    },
    stats() {
      prune(clock.now());
      return { sentLastSecond: admitted.length, limit, total, throttledWaits, queued: queued(), realtimeTotal, realtimeWaits };
    },
  };
}

/**
 * One limiter per Kommo account (base URL origin). Build one registry at the composition
 * root and hand it to every client of the process.
 */
export interface LimiterRegistry {
  /** The account's limiter; the first caller's `limit` and `realtimeReserve` make it. */
  get(baseUrl: string, limit: number, realtimeReserve?: number): RateLimiter;
}

export function createLimiterRegistry(clock?: LimiterClock): LimiterRegistry {
  const limiters = new Map<string, RateLimiter>();
  return {
    get(baseUrl, limit, realtimeReserve = 0) {
      const key = limiterKey(baseUrl);
      let limiter = limiters.get(key);
      if (!limiter) {
        limiter = createRateLimiter({ limit, realtimeReserve, ...(clock ? { clock } : {}) });
        limiters.set(key, limiter);
      }
      return limiter;
    },
  };
}

function limiterKey(baseUrl: string): string {
  try {
    return new URL(baseUrl).origin.toLowerCase();
  } catch {
    return baseUrl.toLowerCase();
  }
}
