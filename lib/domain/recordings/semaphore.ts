/** A small counting semaphore with a bounded wait queue and abortable waits. */
import { RecordingError } from './errors.js';

export class Semaphore {
  private active = 0;
  private readonly waiters: Array<{ grant: () => void; reject: (err: unknown) => void }> = [];

  constructor(
    private readonly limit: number,
    private readonly maxWaiting = 1000,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('semaphore limit must be a positive integer');
  }

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Run `fn` when a slot is free; the slot is held until `fn` settles. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /**
   * Like `run`, for work whose answer may come before its end: the caller gets
   * `result`; the slot is released only when `release` settles.
   */
  async hold<T>(start: () => { result: Promise<T>; release: Promise<unknown> }, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    let work: { result: Promise<T>; release: Promise<unknown> };
    try {
      work = start();
    } catch (err) {
      this.release();
      throw err;
    }
    void work.release.then(
      () => this.release(),
      () => this.release(),
    );
    return work.result;
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxWaiting) {
      return Promise.reject(new RecordingError('RECORDING_QUEUE_FULL', `more than ${this.maxWaiting} conversions waiting`));
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next.grant(); // the slot passes straight to the next waiter
    else this.active--;
  }
}
