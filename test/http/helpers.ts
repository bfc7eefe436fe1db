import { Writable } from 'node:stream';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../lib/log.js';
import type { StatusSnapshot } from '../../lib/http/status.js';

export function captureLogs(): { logger: Logger; lines: Array<Record<string, unknown>>; text: () => string } {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const lines: Array<Record<string, unknown>> = [];
  return {
    logger,
    get lines() {
      lines.length = 0;
      for (const l of raw.join('').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      return lines;
    },
    text: () => raw.join(''),
  };
}

export function tempDir(t: { teardown(fn: () => unknown): void }, prefix = 'ka-http-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A healthy status snapshot, changed by `over`. */
export function snapshot(over: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    started_at: '2025-06-01T11:00:00Z',
    ami: { connected: true },
    kommo: { reachable: true, rate_used: 0.2, requests_total: 120, rate_limited_total: 1 },
    registration: { pending: 0, failed: 0, registered_total: 40, failed_total: 0 },
    agi: { answers: { found: 10, not_found: 3, timeout: 1 } },
    hooks: { active: ['process_client_phone'] },
    last_errors: [],
    ...over,
  };
}

