import { Writable } from 'node:stream';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../lib/log.js';

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
