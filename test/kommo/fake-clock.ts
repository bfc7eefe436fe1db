/** A manual clock for the limiter: timers fire only when the test advances time. */
import type { LimiterClock } from '../../lib/adapters/kommo/limiter.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class FakeClock implements LimiterClock {
  t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now = (): number => this.t;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const timer = { id: ++this.seq, at: this.t + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers = this.timers.filter((x) => x.id !== handle);
  };

  pending(): number {
    return this.timers.length;
  }

  /** Run timers in time order up to now + ms, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
