/**
 * A small TTL cache of "who is this number" for registration, keyed by the last
 * `match_digits` digits (what Kommo matches on), so a repeated caller costs only the
 * call request. Bounded (oldest entries evicted first). Only positive answers are
 * cached: an unknown number is looked up every time (the contact may appear).
 * Invalidated when Kommo says a cached number has no entity any more.
 */
import { lastDigits } from '../../platform/phone.js';

export interface CachedContact {
  id: number;
  name?: string;
  responsible_user_id?: number;
  /** Lead ids of the contact when it was looked up. */
  lead_ids: readonly number[];
}

export interface ContactCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  matchDigits?: number;
  now?: () => number;
}

export class ContactCache {
  private readonly entries = new Map<string, { value: CachedContact; expires: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly matchDigits: number;
  private readonly now: () => number;
  hits = 0;
  misses = 0;

  constructor(opts: ContactCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.maxEntries = Math.max(1, opts.maxEntries ?? 10_000);
    this.matchDigits = opts.matchDigits ?? 10;
    this.now = opts.now ?? Date.now;
  }

  private key(phone: string): string {
    return lastDigits(phone, this.matchDigits);
  }

  get(phone: string): CachedContact | undefined {
    if (this.ttlMs <= 0) return undefined;
    const k = this.key(phone);
    const e = this.entries.get(k);
    if (!e || e.expires <= this.now()) {
      if (e) this.entries.delete(k);
      this.misses++;
      return undefined;
    }
    this.hits++;
    return e.value;
  }

  set(phone: string, value: CachedContact): void {
    if (this.ttlMs <= 0) return;
    const k = this.key(phone);
    if (!k) return;
    this.entries.delete(k);
    this.entries.set(k, { value, expires: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(phone: string): void {
    this.entries.delete(this.key(phone));
  }

  get size(): number {
    return this.entries.size;
  }
}
