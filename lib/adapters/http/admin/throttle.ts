/**
 * Brute-force throttling of the panel's sign-in. Failures are counted per client
 * address and in total; past `freeAttempts` failures an address must wait before its
 * next attempt (1 s doubling to 15 min, the one backoff of lib/platform/backoff.ts),
 * and past `globalLimit` failures in `windowMs` from anyone every address waits too
 * (a distributed guess). A success clears the address. While blocked, the password is
 * not even checked.
 */
import { delay, type BackoffPolicy } from '../../../platform/backoff.js';

export const LOGIN_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 15 * 60_000, jitter: 'none' };

export interface ThrottleOptions {
  /** Failures of one address allowed without delay (default 5). */
  freeAttempts?: number;
  /** Failures from all addresses within windowMs after which everyone waits (default 50). */
  globalLimit?: number;
  windowMs?: number;
  /** Addresses remembered (oldest forgotten first; default 10 000). */
  maxEntries?: number;
  now?: () => number;
  policy?: BackoffPolicy;
}

interface Entry {
  failures: number;
  /** Unix ms before which no attempt is taken. */
  until: number;
  last: number;
}

export interface LoginThrottle {
  /** ms the address must still wait (0 = may try now). */
  waitMs(address: string): number;
  failed(address: string): void;
  succeeded(address: string): void;
}

export function createLoginThrottle(options: ThrottleOptions = {}): LoginThrottle {
  const free = options.freeAttempts ?? 5;
  const globalLimit = options.globalLimit ?? 50;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const policy = options.policy ?? LOGIN_BACKOFF;
  const entries = new Map<string, Entry>();
  let globalFailures: number[] = [];

  const globalWait = (t: number): number => {
    globalFailures = globalFailures.filter((at) => t - at < windowMs);
    if (globalFailures.length < globalLimit) return 0;
    return delay(globalFailures.length - globalLimit, policy, 0);
  };

  return {
    waitMs(address) {
      const t = now();
      const e = entries.get(address);
      const own = e ? Math.max(0, e.until - t) : 0;
      const last = globalFailures.at(-1) ?? 0;
      const global = Math.max(0, last + globalWait(t) - t);
      return Math.max(own, global);
    },
    failed(address) {
      const t = now();
      const e = entries.get(address) ?? { failures: 0, until: 0, last: t };
      if (t - e.last > windowMs) e.failures = 0;
      e.failures++;
      e.last = t;
      e.until = e.failures >= free ? t + delay(e.failures - free, policy, 0) : 0;
      entries.delete(address);
      entries.set(address, e);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      globalFailures.push(t);
    },
    succeeded(address) {
      entries.delete(address);
    },
  };
}
