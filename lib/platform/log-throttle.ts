/**
 * Errors caused by peers — a FastAGI client sending garbage, an HTTP client with a
 * wrong secret, an AMI event the tracker cannot use — are logged without stacks (a
 * stack says nothing about someone else's bad bytes) and at most once per code per
 * interval; the rest are counted and summed up in one line when the interval ends:
 *
 *   {"code":"AGI_MALFORMED_ENV","suppressed":28824,"intervalMs":10000,"remotes":{"127.0.0.1":28824},
 *    "msg":"AGI_MALFORMED_ENV ×28,824 in the last 10 s from 127.0.0.1"}
 *
 * so that whoever can reach a port cannot fill the disk through the log. Totals per
 * code stay available for /metrics.
 *
 *   const peerErrors = createPeerErrorLog({ logger, component: 'agi' });
 *   peerErrors.report('AGI_MALFORMED_ENV', { remote: '10.0.0.5', message: err.message });
 */
import type { Logger } from 'pino';

export interface PeerErrorLogOptions {
  logger: Logger;
  /** Names the source in messages (`agi`, `http`, `ami`). */
  component: string;
  /** One line per code per interval (default 10 s). */
  intervalMs?: number;
  /** Level of the lines (default warn). */
  level?: 'warn' | 'info' | 'error';
}

export interface PeerErrorFields {
  /** The peer's address, when there is one. */
  remote?: string | undefined;
  /** What was wrong, in a few words (no stack). */
  message: string;
  [field: string]: unknown;
}

export interface PeerErrorLog {
  report(code: string, fields: PeerErrorFields): void;
  /** Reports per code since start (logged or not). */
  totals(): Readonly<Record<string, number>>;
  /** Write the pending summaries now and stop the timer. Idempotent. */
  close(): void;
}

/** Addresses kept per code and interval for the summary line. */
const MAX_REMOTES = 5;

interface Window {
  startedAt: number;
  suppressed: number;
  remotes: Map<string, number>;
}

export function createPeerErrorLog(options: PeerErrorLogOptions): PeerErrorLog {
  const { logger, component } = options;
  const intervalMs = options.intervalMs ?? 10_000;
  const level = options.level ?? 'warn';
  const totals: Record<string, number> = {};
  const windows = new Map<string, Window>();
  let timer: NodeJS.Timeout | undefined;

  const summarise = (code: string, w: Window, now: number): void => {
    if (w.suppressed === 0) return;
    const remotes = Object.fromEntries([...w.remotes].sort((a, b) => b[1] - a[1]).slice(0, MAX_REMOTES));
    const from = Object.keys(remotes);
    const seconds = Math.max(1, Math.round((now - w.startedAt) / 1000));
    const where = from.length === 0 ? '' : ` from ${from.join(', ')}${w.remotes.size > from.length ? ` and ${w.remotes.size - from.length} more` : ''}`;
    logger[level]({ component, code, suppressed: w.suppressed, intervalMs, remotes }, `${code} ×${w.suppressed.toLocaleString('en-US')} in the last ${seconds} s${where}`);
  };

  const tick = (): void => {
    const now = Date.now();
    for (const [code, w] of windows) {
      if (now - w.startedAt < intervalMs) continue;
      summarise(code, w, now);
      windows.delete(code);
    }
    if (windows.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return {
    report(code, fields) {
      totals[code] = (totals[code] ?? 0) + 1;
      const now = Date.now();
      const w = windows.get(code);
      if (!w || now - w.startedAt >= intervalMs) {
        if (w) summarise(code, w, now);
        windows.set(code, { startedAt: now, suppressed: 0, remotes: new Map() });
        const { message, ...rest } = fields;
        logger[level]({ component, code, ...rest }, `${component}: ${message} (${code}; more of this code within ${intervalMs / 1000} s are counted, not logged)`);
        if (!timer) {
          timer = setInterval(tick, Math.min(intervalMs, 1000));
          timer.unref();
        }
        return;
      }
      w.suppressed++;
      const remote = fields.remote ?? '';
      if (remote && (w.remotes.has(remote) || w.remotes.size < 1000)) w.remotes.set(remote, (w.remotes.get(remote) ?? 0) + 1);
    },
    totals: () => ({ ...totals }),
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      const now = Date.now();
      for (const [code, w] of windows) summarise(code, w, now);
      windows.clear();
    },
  };
}
