// Item-level errors in a batch, through the registrar and the real client against the
// strict simulator: one call whose contact Kommo refuses fails alone; the other calls of
// the same batch are registered once each.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { createKommoClient, createLimiterRegistry } from '../../lib/adapters/kommo/index.js';
import { createHookRunner } from '../../lib/adapters/hooks/loader.js';
import { createRegistrar, openCallStore } from '../../lib/domain/registration/index.js';
import type { KommoConfig } from '../../lib/platform/config/types.js';
import { startSimulator } from '../../rig/simulator/index.js';
import { makeCall, settings, silentLogger, tempDir } from './helpers.js';

t.test('a batch with one refused contact: that call fails alone, the others are registered once', async (t) => {
  const sim = await startSimulator({ longLivedToken: 't' });
  const dataDir = await tempDir('ka-batch-items-');
  const logger = silentLogger();
  const config = {
    base_url: sim.url, long_lived_token: 't', rate_limit_per_second: 2, realtime_reserve: 0, request_timeout_ms: 5000, connect_timeout_ms: 1000,
    phone_enum: 'WORK', source: 'kommo-asterisk', tag: 'kommo-asterisk', retry: { max_attempts: 3, base_delay_ms: 50, max_delay_ms: 500, max_elapsed_ms: 3000 },
  } as KommoConfig;
  const kommo = createKommoClient(config, { logger, dataDir, limiters: createLimiterRegistry(), batchMaxItems: 50, batchLingerMs: 500 });
  const hooks = createHookRunner({ dir: path.join(dataDir, 'no-hooks'), timeoutMs: 3000, logger });
  const store = await openCallStore({ dataDir, logger });
  const registrar = createRegistrar({ config: settings({ registration: { retry_base_ms: 200, retry_max_ms: 1000 } }), kommo, hooks, store, logger });
  t.teardown(async () => {
    await registrar.close();
    await hooks.close();
    await kommo.destroy();
    await sim.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  await registrar.start();
  const phone = (i: number): string => `+7999555${String(i).padStart(4, '0')}`;
  // Missed calls of unknown numbers: a contact each; the contact's responsible user is the
  // one whose phone rang — for call 2 a user id the account does not have.
  const calls = Array.from({ length: 8 }, (_, i) => makeCall({ client: phone(i), legs: [{ ext: '101', answered: false, ...(i === 2 ? { userId: 1_234_567 } : {}) }] }));
  await Promise.all(calls.map((c) => registrar.submit(c)));
  await registrar.idle();
  const contactPosts = sim.requests.filter((r) => r.method === 'POST' && r.path === '/api/v4/contacts');
  const sizes = contactPosts.map((r) => (r.body as unknown[]).length);
  t.ok(sizes.some((n) => n > 1), `contacts were batched (${sizes.join(', ')})`);
  t.ok(contactPosts.some((r) => r.status === 400 && (r.body as unknown[]).length > 1), 'a batch was refused for one item');
  const stats = registrar.stats();
  t.match(stats, { done: 7, failed: 1, pending: 0 });
  t.match(stats.last_error, { code: 'KOMMO_VALIDATION', linkedid: calls[2]!.channel.id });
  t.equal(sim.state.contacts.size, 7, 'one contact per good call');
  t.equal(sim.state.calls.length, 7, 'one call record per good call');
  t.same(sim.state.calls.map((c) => String(c.body.uniq)).sort(), calls.filter((_, i) => i !== 2).map((c) => c.channel.id).sort());
  t.equal(sim.state.tasks.size, 7, 'one task per good missed call');
});
