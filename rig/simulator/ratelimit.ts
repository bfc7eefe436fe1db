/**
 * The account's rate limiter: at most `limit` admitted requests in any sliding 1 s
 * window. Rejections are counted too: `blockAfter` of them within 10 s block the
 * account for `blockMs` (every request then answers 403 with an HTML page).
 */
export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number; nowBlocked: boolean };

export const REJECTION_WINDOW_MS = 10_000;

export class RateLimiter {
  private admitted: number[] = [];
  private rejections: number[] = [];
  private blockedUntil = 0;

  constructor(
    private readonly limit: number,
    private readonly blockAfter: number,
    private readonly blockMs: number,
    private readonly now: () => number,
  ) {}

  isBlocked(): boolean {
    return this.now() < this.blockedUntil;
  }

  /** Ms left of the current block (0 when not blocked). */
  blockRemainingMs(): number {
    return Math.max(0, this.blockedUntil - this.now());
  }

  take(): Admission {
    if (this.limit <= 0) return { ok: true };
    const now = this.now();
    while (this.admitted.length > 0 && (this.admitted[0] ?? 0) <= now - 1000) this.admitted.shift();
    if (this.admitted.length < this.limit) {
      this.admitted.push(now);
      return { ok: true };
    }
    const oldest = this.admitted[0] ?? now;
    const retryAfterSeconds = Math.max(1, Math.ceil((oldest + 1000 - now) / 1000));
    this.rejections = this.rejections.filter((t) => t > now - REJECTION_WINDOW_MS);
    this.rejections.push(now);
    let nowBlocked = false;
    if (this.blockAfter > 0 && this.rejections.length >= this.blockAfter) {
      this.blockedUntil = now + this.blockMs;
      this.rejections = [];
      nowBlocked = true;
    }
    return { ok: false, retryAfterSeconds, nowBlocked };
  }

  reset(): void {
    this.admitted = [];
    this.rejections = [];
    this.blockedUntil = 0;
  }
}
