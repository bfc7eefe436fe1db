/**
 * Component-test helpers: a simulator, a client wired to it, a JSON-lines logger whose
 * lines the test can read, and a temp data dir — all torn down with the test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Test } from 'tap';
import type { KommoConfig } from '../../lib/platform/config/types.js';
import { createKommoClient, createLimiterRegistry, DEFAULT_RETRY_POLICY, type KommoClient, type KommoClientDeps } from '../../lib/adapters/kommo/index.js';
import { startSimulator, type KommoSimulator, type SimulatorOptions } from '../../rig/simulator/index.js';

export interface LogSink {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  raw: () => string;
}

export function memoryLogger(): LogSink {
  const chunks: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString('utf8');
      chunks.push(text);
      for (const l of text.split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, raw: () => chunks.join('') };
}

export type ConfigOverrides = Partial<Omit<KommoConfig, 'retry'>> & {
  retry?: Partial<KommoConfig['retry']> & { max_elapsed_ms?: number };
};

export function kommoConfig(url: string, over: ConfigOverrides = {}): KommoConfig {
  const { retry, ...rest } = over;
  return {
    base_url: url,
    rate_limit_per_second: 7,
    request_timeout_ms: 2000,
    connect_timeout_ms: 1000,
    phone_enum: 'WORK',
    source: 'kommo-asterisk',
    tag: 'kommo-asterisk',
    // What the client assumes when these are absent: no realtime lane, the default retry budget.
    realtime_reserve: 0,
    ...rest,
    retry: { max_attempts: 4, base_delay_ms: 20, max_delay_ms: 200, max_elapsed_ms: DEFAULT_RETRY_POLICY.maxElapsedMs, ...retry },
  };
}

export async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kommo-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Harness {
  sim: KommoSimulator;
  client: KommoClient;
  log: LogSink;
  dataDir: string;
  config: KommoConfig;
}

/** A client for `sim` (long-lived token unless overridden), destroyed with the test. */
export async function clientFor(t: Test, sim: KommoSimulator, over: ConfigOverrides = {}, deps: Partial<KommoClientDeps> = {}): Promise<Harness> {
  const dataDir = await tempDir(t);
  const log = memoryLogger();
  const config = kommoConfig(sim.url, { long_lived_token: sim.longLivedToken, ...over });
  const client = createKommoClient(config, { logger: log.logger, dataDir, limiters: createLimiterRegistry(), ...deps });
  t.teardown(() => client.destroy());
  return { sim, client, log, dataDir, config };
}

export async function harness(t: Test, opts: {
  sim?: SimulatorOptions;
  config?: ConfigOverrides;
  deps?: Partial<KommoClientDeps>;
  /** Build the config from the simulator (e.g. to pass its OAuth data). */
  configFrom?: (sim: KommoSimulator) => ConfigOverrides;
} = {}): Promise<Harness> {
  const sim = await startSimulator(opts.sim ?? {});
  t.teardown(() => sim.close());
  const dataDir = await tempDir(t);
  const log = memoryLogger();
  const config = kommoConfig(sim.url, {
    long_lived_token: sim.longLivedToken,
    ...opts.configFrom?.(sim),
    ...opts.config,
  });
  const client = createKommoClient(config, {
    logger: log.logger, dataDir, limiters: createLimiterRegistry(), ...opts.deps,
  });
  t.teardown(() => client.destroy());
  return { sim, client, log, dataDir, config };
}

/** Max number of entries with `at` inside any window of `windowMs`. */
export function maxPerWindow(times: number[], windowMs = 1000): number {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < s.length; hi++) {
    while ((s[hi] as number) - (s[lo] as number) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
