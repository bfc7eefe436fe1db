/**
 * Injected faults: down (requests are dropped without an HTTP answer), slow (every
 * answer delayed), hang (answers held until cleared; all, or one route's: the answer to a
 * batch lost while its work is done), fail (the next N requests — all, or one route's —
 * answer an error status). Slow and hang delay the answer, not the work: a create that hangs
 * has happened even if the client gives up — exactly what a retry must survive.
 */
export class FaultState {
  private downUntil = 0;
  private slowMs = 0;
  private hung = false;
  /** Only answers of this route (`POST /api/v4/calls`) are held; undefined = all. */
  private hungRoute: string | undefined = undefined;
  private failLeft = 0;
  private failStatus = 500;
  /** Only requests of this route (`POST /api/v4/calls`) fail; undefined = all. */
  private failRoute: string | undefined = undefined;
  private waiters: Array<() => void> = [];

  constructor(private readonly now: () => number, private readonly onDown: () => void) {}

  down(ms?: number): void {
    this.downUntil = ms === undefined ? Number.POSITIVE_INFINITY : this.now() + ms;
    this.onDown();
  }

  up(): void {
    this.downUntil = 0;
  }

  isDown(): boolean {
    return this.now() < this.downUntil;
  }

  slow(ms: number): void {
    this.slowMs = Math.max(0, ms);
  }

  delayMs(): number {
    return this.slowMs;
  }

  hang(route?: string): void {
    this.hung = true;
    this.hungRoute = route;
  }

  /** Resolves when the hang is cleared; undefined when not hanging (or another route is held). */
  waitWhileHung(route?: string): Promise<void> | undefined {
    if (!this.hung) return undefined;
    if (this.hungRoute !== undefined && route !== this.hungRoute) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  fail(count: number, status = 500, route?: string): void {
    this.failLeft = Math.max(0, Math.floor(count));
    this.failStatus = status;
    this.failRoute = route;
  }

  /** The status to fail this request (of `route`) with, consuming one, or undefined. */
  takeFailure(route?: string): number | undefined {
    if (this.failLeft <= 0) return undefined;
    if (this.failRoute !== undefined && route !== this.failRoute) return undefined;
    this.failLeft -= 1;
    return this.failStatus;
  }

  clear(): void {
    this.downUntil = 0;
    this.slowMs = 0;
    this.failLeft = 0;
    this.failRoute = undefined;
    this.hung = false;
    this.hungRoute = undefined;
    this.release();
  }

  release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  snapshot(): Record<string, unknown> {
    return {
      down: this.isDown(), downUntil: Number.isFinite(this.downUntil) ? this.downUntil : 'forever',
      slowMs: this.slowMs, hung: this.hung, ...(this.hungRoute ? { hungRoute: this.hungRoute } : {}), held: this.waiters.length, failLeft: this.failLeft, failStatus: this.failStatus, ...(this.failRoute ? { failRoute: this.failRoute } : {}),
    };
  }
}
