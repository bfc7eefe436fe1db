/**
 * A bounded TTL cache for autodistribution look-ups, keyed by the last digits
 * of the caller's number. Positive and negative answers have their own TTL;
 * errors are never cached. Concurrent misses for one key share one look-up
 * (single flight), so a burst of calls from one number costs one request.
 */
export interface CacheOptions {
  positiveTtlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class LookupCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #inflight = new Map<string, Promise<V>>();
  readonly #opts: Required<CacheOptions>;
  hits = 0;
  misses = 0;

  constructor(opts: CacheOptions) {
    this.#opts = { now: Date.now, ...opts };
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value, or undefined when absent or expired. */
  peek(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#opts.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, positive: boolean): void {
    const ttl = positive ? this.#opts.positiveTtlMs : this.#opts.negativeTtlMs;
    if (ttl <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#opts.now() + ttl });
    while (this.#entries.size > this.#opts.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /**
   * Cached value, or run `load` once for all concurrent callers of `key`.
   * `isPositive` decides which TTL the loaded value gets; a rejected load is
   * not cached.
   */
  async getOrLoad(key: string, load: () => Promise<V>, isPositive: (value: V) => boolean): Promise<V> {
    const cached = this.peek(key);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const promise = load().then(
      (value) => {
        this.set(key, value, isPositive(value));
        return value;
      },
    ).finally(() => {
      this.#inflight.delete(key);
    });
    this.#inflight.set(key, promise);
    return promise;
  }
}
