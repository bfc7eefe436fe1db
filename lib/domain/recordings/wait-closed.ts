/**
 * Wait until MixMonitor has finished a recording. MixMonitor writes until the
 * channel's audiohook detaches, which can be after the hangup event; it then fixes
 * the WAV header's sizes. A file counts as closed when its size and mtime have not
 * changed over `stableChecks` polls and, for a WAV, its header sizes agree with the
 * file's size. (Whether another process still holds it open cannot be seen from
 * here: Asterisk usually runs as another user, often in a chroot.)
 */
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readWavInfo } from './wav.js';

export interface WaitClosedOptions {
  /** Give up after this long (`recordings.wait_closed_ms`). */
  timeoutMs: number;
  /** Poll interval (default 500 ms). */
  pollMs?: number;
  /** Unchanged polls needed (default 2). */
  stableChecks?: number;
  signal?: AbortSignal;
}

export interface WaitClosedResult {
  closed: boolean;
  size: number;
  waitedMs: number;
}

/** Throws the stat error (ENOENT …) when the file does not exist. */
export async function waitUntilClosed(path: string, options: WaitClosedOptions): Promise<WaitClosedResult> {
  const pollMs = options.pollMs ?? 500;
  const needed = options.stableChecks ?? 2;
  const started = performance.now();
  const isWav = extname(path).toLowerCase() === '.wav';
  let last: { size: number; mtimeMs: number } | undefined;
  let stable = 0;
  for (;;) {
    const st = await stat(path);
    if (last && st.size === last.size && st.mtimeMs === last.mtimeMs) stable++;
    else stable = 0;
    last = { size: st.size, mtimeMs: st.mtimeMs };
    if (stable >= needed - 1) {
      let headerOk = true;
      if (isWav && st.size > 0) {
        // An unreadable/other header is no reason to wait: stability alone decides then.
        headerOk = await readWavInfo(path).then((i) => i.headerComplete, () => true);
      }
      if (headerOk) return { closed: true, size: st.size, waitedMs: performance.now() - started };
    }
    const waited = performance.now() - started;
    if (waited + pollMs > options.timeoutMs) return { closed: false, size: st.size, waitedMs: waited };
    await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}
