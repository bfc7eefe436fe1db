// The registrar as a child process for batch-crash.test.ts (not a test itself): the real
// journal, the real Kommo client with batching, against the parent's simulator.
// env KA_CHILD = JSON {url, token, dataDir, calls: [{linkedid, client}]}. Submits every
// call (a second put keeps the journalled record), prints "submitted", waits until idle,
// prints the stats as JSON and exits.
import path from 'node:path';
import { pino } from 'pino';
import { createKommoClient } from '../../lib/adapters/kommo/index.js';
import { createHookRunner } from '../../lib/adapters/hooks/loader.js';
import { createRegistrar, openCallStore } from '../../lib/domain/registration/index.js';
import type { KommoConfig } from '../../lib/platform/config/types.js';
import { makeCall, settings } from './helpers.js';

interface ChildSpec {
  url: string;
  token: string;
  dataDir: string;
  calls: Array<{ linkedid: string; client: string }>;
}

async function main(): Promise<void> {
  // The limiter's and the registrar's timers are unref'd (the bridge's sockets keep a real
  // process alive); this child has nothing else, so keep it alive until idle.
  const alive = setInterval(() => undefined, 1000);
  const spec = JSON.parse(process.env['KA_CHILD'] ?? '{}') as ChildSpec;
  const logger = pino({ level: 'silent' });
  const config: KommoConfig = {
    base_url: spec.url, long_lived_token: spec.token,
    // Two requests a second: the creates of a dozen calls queue up and leave in batches.
    rate_limit_per_second: 2, realtime_reserve: 0,
    request_timeout_ms: 60_000, connect_timeout_ms: 1000,
    phone_enum: 'WORK', source: 'kommo-asterisk', tag: 'kommo-asterisk',
    retry: { max_attempts: 3, base_delay_ms: 50, max_delay_ms: 500, max_elapsed_ms: 3000 },
  } as KommoConfig;
  const reg = settings({ registration: { create_contact: true, create_lead: true, retry_base_ms: 200, retry_max_ms: 1000 } });
  const kommo = createKommoClient(config, { logger, dataDir: spec.dataDir, batchMaxItems: reg.registration.batch.max_items, batchLingerMs: reg.registration.batch.linger_ms });
  const hooks = createHookRunner({ dir: path.join(spec.dataDir, 'no-hooks'), timeoutMs: 3000, logger });
  const store = await openCallStore({ dataDir: spec.dataDir, logger });
  const registrar = createRegistrar({ config: reg, kommo, hooks, store, logger });
  await registrar.start();
  for (const c of spec.calls) {
    await registrar.submit(makeCall({ linkedid: c.linkedid, client: c.client, legs: [{ ext: '101', answered: false }] }));
  }
  process.stdout.write('submitted\n');
  await registrar.idle();
  process.stdout.write(`${JSON.stringify({ stats: registrar.stats(), batches: kommo.batchStats() })}\n`);
  await registrar.close();
  await hooks.close();
  await kommo.close();
  clearInterval(alive);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
