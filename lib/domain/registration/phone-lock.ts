/**
 * One client number at a time through steps 2–3 (find or create the contact/lead).
 * Without it, two calls from the same new number registered together (a backlog after
 * an outage, a caller who calls twice) would both find no contact and both create one.
 * The second waits, then finds the first one's contact in the cache.
 */
export class PhoneLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly matchDigits: number) {}

  private key(phone: string): string {
    const digits = phone.replace(/\D/g, '');
    return this.matchDigits > 0 ? digits.slice(-this.matchDigits) : digits;
  }

  /** Run `fn` when no other holder of the same number is running. */
  async run<T>(phone: string, fn: () => Promise<T>): Promise<T> {
    const key = this.key(phone);
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev.catch(() => undefined);
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Numbers currently held or waited for. */
  get size(): number {
    return this.tails.size;
  }
}
