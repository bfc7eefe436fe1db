// Component tests: the registrar with the real Kommo client, the real hook runner (no
// customizations), the real journal, against the strict Kommo simulator over HTTP.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { KommoConfig } from '../../lib/platform/config/types.js';
import { createHookRunner } from '../../lib/adapters/hooks/loader.js';
import { createKommoClient, createLimiterRegistry, type KommoClient } from '../../lib/adapters/kommo/index.js';
import type { RegistrationHooks, RegistrationKommo } from '../../lib/domain/registration/deps.js';
import { openCallStore } from '../../lib/domain/registration/store.js';
import { createRegistrar, type Registrar } from '../../lib/domain/registration/worker.js';
import { SEED_IDS, startSimulator, type KommoSimulator, type SimulatorOptions } from '../../rig/simulator/index.js';
import { FakeHooks, makeCall, settings, silentLogger } from './helpers.js';

const U = SEED_IDS.users;

function phone(i: number): string {
  return `7999${String(1_000_000 + i).slice(1)}`;
}

interface Rig {
  sim: KommoSimulator;
  client: KommoClient;
  registrar: Registrar;
  dataDir: string;
  /** API requests the simulator saw (not its inspection routes). */
  api(): Array<{ method: string; path: string; status: number }>;
}

async function rig(t: Test, opts: {
  sim?: SimulatorOptions;
  registration?: NonNullable<Parameters<typeof settings>[0]>['registration'];
  kommo?: Partial<KommoConfig> & { retry?: Partial<KommoConfig['retry']> & { max_elapsed_ms?: number } };
  oauth?: boolean;
  hooks?: (sim: KommoSimulator) => RegistrationHooks;
} = {}): Promise<Rig> {
  const sim = await startSimulator({ longLivedToken: 't', ...opts.sim });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ka-reg-sim-'));
  const logger = silentLogger();
  const config: KommoConfig = {
    base_url: sim.url,
    rate_limit_per_second: 7,
    request_timeout_ms: 1500,
    connect_timeout_ms: 500,
    phone_enum: 'WORK',
    source: 'kommo-asterisk',
    tag: 'kommo-asterisk',
    ...(opts.oauth
      ? {
          oauth: {
            client_id: sim.oauth.clientId,
            client_secret: sim.oauth.clientSecret,
            redirect_uri: sim.oauth.redirectUri,
            refresh_token: sim.oauth.refreshToken,
            token_file: path.join(dataDir, 'tokens.json'),
          },
        }
      : { long_lived_token: 't' }),
    realtime_reserve: 0, // the client's own default when absent: no realtime lane
    ...opts.kommo,
    retry: { max_attempts: 3, base_delay_ms: 50, max_delay_ms: 500, max_elapsed_ms: 3000, ...opts.kommo?.retry } as KommoConfig['retry'],
  };
  const client = createKommoClient(config, { logger, dataDir, limiters: createLimiterRegistry() });
  const hooksDir = await mkdtemp(path.join(tmpdir(), 'ka-reg-hooks-'));
  const runner = createHookRunner({ dir: hooksDir, timeoutMs: 3000, logger });
  // The real collaborators satisfy the registration's structural contracts.
  const kommo: RegistrationKommo = client;
  const hooks: RegistrationHooks = opts.hooks?.(sim) ?? runner;
  const store = await openCallStore({ dataDir, logger });
  const registrar = createRegistrar({
    config: settings({ registration: { retry_base_ms: 200, retry_max_ms: 2000, ...opts.registration } }),
    kommo, hooks, store, logger,
  });
  await registrar.start();
  t.teardown(async () => {
    await registrar.close();
    await client.destroy();
    await runner.close();
    await sim.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(hooksDir, { recursive: true, force: true });
  });
  return {
    sim, client, registrar, dataDir,
    api: () => sim.requests.filter((r) => r.path.startsWith('/api/') || r.path.startsWith('/oauth')).map((r) => ({ method: r.method, path: r.path, status: r.status })),
  };
}

/** Every call registered exactly once: one call note per uniq. */
function assertOncePerUniq(t: Test, sim: KommoSimulator, uniqs: string[]): void {
  const counts = new Map<string, number>();
  for (const c of sim.state.calls) {
    const u = String(c.body.uniq);
    counts.set(u, (counts.get(u) ?? 0) + 1);
  }
  t.equal(sim.state.calls.length, uniqs.length, 'one call record per call');
  t.ok(uniqs.every((u) => counts.get(u) === 1), 'every uniq exactly once');
}

function contactsByPhone(sim: KommoSimulator): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of sim.state.contacts.values()) {
    for (const f of c.custom_fields_values ?? []) {
      for (const v of f.values) {
        const k = String(v.value).replace(/\D/g, '').slice(-10);
        out.set(k, (out.get(k) ?? 0) + 1);
      }
    }
  }
  return out;
}

t.test('requests per registered call for a known contact: 2 cold, 1 with a warm cache', async (t) => {
  const r = await rig(t);
  r.sim.seed({ contacts: [{ name: 'Known', phones: ['+7 999 000-00-01'], responsible_user_id: U.maria }] });
  const before = r.api().length;
  await r.registrar.submit(makeCall({ client: '+79990000001', legs: [{ ext: '101', answered: true }] }));
  await r.registrar.idle();
  const first = r.api().slice(before);
  t.same(first.map((x) => `${x.method} ${x.path} ${x.status}`), ['GET /api/v4/contacts 200', 'POST /api/v4/calls 200']);

  const mid = r.api().length;
  await r.registrar.submit(makeCall({ client: '89990000001', legs: [{ ext: '102', answered: true }] }));
  await r.registrar.idle();
  t.same(r.api().slice(mid).map((x) => `${x.method} ${x.path}`), ['POST /api/v4/calls'], 'warm cache: only the call');

  // A missed call adds exactly its call-back task.
  const mid2 = r.api().length;
  await r.registrar.submit(makeCall({ client: '+79990000001', legs: [{ ext: '101' }] }));
  await r.registrar.idle();
  t.same(r.api().slice(mid2).map((x) => `${x.method} ${x.path}`), ['POST /api/v4/calls', 'POST /api/v4/tasks']);

  const [c1, c2, c3] = r.sim.state.calls;
  t.match(c1?.body, { direction: 'inbound', call_status: 4, created_by: U.ivan, responsible_user_id: U.ivan, phone: '79990000001' });
  t.match(c2?.body, { created_by: U.maria });
  t.match(c3?.body, { call_status: 6, responsible_user_id: U.maria });
  t.notOk(c3 && 'created_by' in c3.body);
  const task = [...r.sim.state.tasks.values()][0];
  t.match(task, { entity_type: 'contacts', responsible_user_id: U.maria, task_type_id: 1, is_completed: false });
  t.match(r.registrar.stats(), { done: 3, failed: 0 });
});

t.test('unknown caller: the strict simulator accepts contact, lead, call and task', async (t) => {
  const r = await rig(t, { registration: { create_lead: true, lead_pipeline_id: SEED_IDS.pipelines.sales, lead_status_id: SEED_IDS.statuses.salesNew } });
  await r.registrar.submit(makeCall({ client: '+79990000002', legs: [{ ext: '101' }] }));
  await r.registrar.idle();
  t.match(r.registrar.stats(), { done: 1, failed: 0 });
  const contact = [...r.sim.state.contacts.values()][0];
  t.match(contact, { name: 'Contact 79990000002', responsible_user_id: U.ivan });
  t.same(contact?.tags.map((x) => x.name), ['kommo-asterisk']);
  const lead = [...r.sim.state.leads.values()][0];
  t.match(lead, { name: '79990000002 - missed incoming', pipeline_id: SEED_IDS.pipelines.sales, status_id: SEED_IDS.statuses.salesNew });
  t.same(lead?.contact_ids, [contact?.id]);
  t.match(r.sim.state.calls[0], { entity_type: 'leads', entity_id: lead?.id });
  t.match([...r.sim.state.tasks.values()][0], { entity_type: 'leads', entity_id: lead?.id });
});

t.test('use_unsorted: an incoming lead with the call in its metadata', async (t) => {
  const r = await rig(t, { registration: { use_unsorted: true } });
  const call = makeCall({ client: '+79990000003', legs: [{ ext: '101', answered: true }] });
  await r.registrar.submit(call);
  await r.registrar.idle();
  t.match(r.registrar.stats(), { done: 1, failed: 0 });
  const u = [...r.sim.state.unsorted.values()];
  t.equal(u.length, 1);
  t.match(u[0]?.metadata, { uniq: call.channel.id, phone: '79990000003', is_call_event_needed: true });
  t.equal(r.sim.state.calls.length, 0);
});

t.test('Kommo down 30 s during 50 calls: after recovery all 50 registered exactly once', async (t) => {
  const r = await rig(t);
  const known = Array.from({ length: 25 }, (_, i) => ({ name: `Known ${i}`, phones: [phone(i)], responsible_user_id: U.maria }));
  r.sim.seed({ contacts: known });
  const calls = Array.from({ length: 50 }, (_, i) => makeCall({ client: phone(i), legs: [{ ext: '101', answered: true }] }));
  const submitting = (async () => {
    for (const c of calls) await r.registrar.submit(c);
  })();
  await new Promise((res) => setTimeout(res, 800));
  r.sim.faults.down(30_000);
  const downAt = Date.now();
  await submitting;
  // Sample the worker while Kommo is down: after the calls in flight at the start of the
  // outage have failed, at most one call (the probe) is in flight at any time.
  let maxInFlightLater = 0;
  let sawPaused = false;
  const sampler = setInterval(() => {
    const s = r.registrar.stats();
    if (s.paused) sawPaused = true;
    if (Date.now() - downAt > 8000 && Date.now() - downAt < 29_000) maxInFlightLater = Math.max(maxInFlightLater, s.in_flight);
  }, 50);
  await new Promise((res) => setTimeout(res, 3000));
  const during = r.registrar.stats();
  t.ok(during.pending > 0, `work is waiting (${during.pending} pending)`);
  t.equal(during.failed, 0, 'an outage fails nothing');
  await r.registrar.idle();
  clearInterval(sampler);
  t.ok(sawPaused, 'the registrar paused');
  t.equal(maxInFlightLater, 1, 'one probe at a time while Kommo is down');
  const records = await (await openCallStore({ dataDir: r.dataDir, logger: silentLogger() })).listByPeriod(0, Date.now() * 2);
  const attempts = records.reduce((n, rec) => n + rec.attempts, 0);
  t.ok(attempts <= 25, `failed attempts during a 30 s outage: ${attempts} (dropped HTTP requests incl. the client's own retries: ${r.sim.counters.dropped})`);
  t.match(r.registrar.stats(), { done: 50, pending: 0, failed: 0 });
  assertOncePerUniq(t, r.sim, calls.map((c) => c.channel.id));
  const byPhone = contactsByPhone(r.sim);
  t.equal(r.sim.state.contacts.size, 50, '25 known + 25 created');
  t.ok([...byPhone.values()].every((n) => n === 1), 'no duplicate contact');
});

t.test('a 429 burst and an expired OAuth token: no loss, no duplicate', async (t) => {
  const r = await rig(t, { oauth: true });
  const calls = Array.from({ length: 12 }, (_, i) => makeCall({ client: phone(100 + i), legs: [{ ext: '101' }] }));
  for (const c of calls.slice(0, 4)) await r.registrar.submit(c);
  await r.registrar.idle();
  r.sim.faults.fail(12, 429);
  for (const c of calls.slice(4, 8)) await r.registrar.submit(c);
  await r.registrar.idle();
  r.sim.faults.expireAccessTokens();
  for (const c of calls.slice(8)) await r.registrar.submit(c);
  await r.registrar.idle();
  t.match(r.registrar.stats(), { done: 12, failed: 0, pending: 0 });
  assertOncePerUniq(t, r.sim, calls.map((c) => c.channel.id));
  t.equal(r.sim.state.contacts.size, 12);
  t.equal(r.sim.state.tasks.size, 12, 'one call-back task per missed call');
  t.ok((r.sim.counters.byStatus[429] ?? 0) >= 12, '429s were answered');
  t.ok(r.sim.counters.refreshes >= 2, 'the expired token was refreshed');
});

t.test('a 400 the connector cannot fix → failed; retryFailed after the fix → done', async (t) => {
  const r = await rig(t);
  // A contact whose responsible user was deleted: the call record is refused (NotSupportedChoice).
  r.sim.seed({ contacts: [{ id: 3_900_001, name: 'Orphan', phones: ['+79990000009'], responsible_user_id: U.deleted }] });
  const call = makeCall({ client: '+79990000009', legs: [{ ext: '101' }] });
  await r.registrar.submit(call);
  await r.registrar.idle();
  const st = r.registrar.stats();
  t.match(st, { failed: 1, done: 0, pending: 0 });
  t.match(st.last_error, { code: 'KOMMO_VALIDATION', status: 400 });
  t.equal(r.sim.state.calls.length, 0);
  // The administrator gives the contact a real responsible user, then retries.
  const contact = r.sim.state.contacts.get(3_900_001);
  if (contact) contact.responsible_user_id = U.olga;
  t.same(await r.registrar.retryFailed(), [call.channel.id]);
  await r.registrar.idle();
  t.match(r.registrar.stats(), { failed: 0, done: 1 });
  assertOncePerUniq(t, r.sim, [call.channel.id]);
  t.match(r.sim.state.calls[0]?.body, { responsible_user_id: U.olga });
  t.equal(r.sim.state.contacts.size, 1, 'no contact created');
});

t.test('restart resumes pending records from the journal', async (t) => {
  const r = await rig(t);
  r.sim.faults.down(60_000);
  const calls = Array.from({ length: 5 }, (_, i) => makeCall({ client: phone(200 + i), legs: [{ ext: '101', answered: true }] }));
  for (const c of calls) await r.registrar.submit(c);
  await new Promise((res) => setTimeout(res, 1500));
  await r.registrar.close();
  t.equal(r.sim.state.calls.length, 0);
  r.sim.faults.up();
  // A new process: new store, new registrar, same directory and Kommo.
  const logger = silentLogger();
  const store = await openCallStore({ dataDir: r.dataDir, logger });
  t.equal(store.stats().pending, 5);
  const hooksDir = await mkdtemp(path.join(tmpdir(), 'ka-reg-hooks-'));
  const runner = createHookRunner({ dir: hooksDir, timeoutMs: 3000, logger });
  const second = createRegistrar({ config: settings({ registration: { retry_base_ms: 200, retry_max_ms: 2000 } }), kommo: r.client, hooks: runner, store, logger });
  await second.start();
  await second.idle();
  t.match(second.stats(), { done: 5, pending: 0 });
  assertOncePerUniq(t, r.sim, calls.map((c) => c.channel.id));
  t.equal(r.sim.state.contacts.size, 5);
  await second.close();
  await runner.close();
  await rm(hooksDir, { recursive: true, force: true });
});

t.test('use_unsorted, answer lost (maybeApplied): the retry is refused as a duplicate uniq and counted as done', async (t) => {
  const r = await rig(t, {
    sim: { unsortedDuplicates: 'reject' },
    registration: { use_unsorted: true },
    // The incoming lead's answer is held back: the client times out after Kommo created it.
    hooks: (sim) => new FakeHooks().on('process_unsorted_creation_params', (_input, defaults) => {
      sim.faults.hang();
      return defaults;
    }),
  });
  const call = makeCall({ client: '+79990000031', legs: [{ ext: '101' }] });
  await r.registrar.submit(call);
  while (r.sim.state.unsorted.size === 0) await new Promise((res) => setTimeout(res, 20));
  await new Promise((res) => setTimeout(res, 2500)); // > request_timeout_ms
  r.sim.faults.clear();
  // The next attempt's hook hangs again; let it go once more.
  const releaser = setInterval(() => r.sim.faults.clear(), 100);
  await r.registrar.idle();
  clearInterval(releaser);
  t.match(r.registrar.stats(), { done: 1, failed: 0 });
  t.equal(r.sim.state.unsorted.size, 1, 'one incoming lead');
  t.equal(r.sim.state.calls.length, 0);
  const rec = await (await openCallStore({ dataDir: r.dataDir, logger: silentLogger() })).get(call.channel.id);
  t.match(rec, { status: 'done', attempts: 1, steps: { unsorted_uid: '', call_id: 0 } }, 'went through the duplicate-uniq path');
  t.ok((r.sim.counters.byStatus[400] ?? 0) >= 1, 'Kommo refused the second create');
});
