// The registrar with a real journal on disk and a fake Kommo: scheduling, pausing on
// outages, failed records and retryFailed, and resuming after a crash or a close.
import t from 'tap';
import { openCallStore } from '../../lib/domain/registration/store.js';
import { createRegistrar } from '../../lib/domain/registration/worker.js';
import { defaults } from '../../lib/platform/config/defaults.js';
import { FakeHooks, FakeKommo, captureLogger, makeCall, settings, silentLogger, tempDir, unreachable, validation } from './helpers.js';

const fast = { retry_base_ms: 20, retry_max_ms: 100 };

async function setup(opts: { kommo?: FakeKommo; dataDir?: string; config?: ReturnType<typeof settings>; concurrency?: number } = {}) {
  const dataDir = opts.dataDir ?? (await tempDir());
  const store = await openCallStore({ dataDir, logger: silentLogger() });
  const kommo = opts.kommo ?? new FakeKommo();
  const hooks = new FakeHooks();
  const config = opts.config ?? settings({ registration: fast });
  const registrar = createRegistrar({ config, kommo, hooks, store, logger: silentLogger(), concurrency: opts.concurrency ?? 4 });
  return { dataDir, store, kommo, hooks, registrar };
}

function phone(i: number): string {
  return `7999${String(1000000 + i).slice(1)}`;
}

t.test('50 calls: all registered once, never more than `concurrency` in flight', async (t) => {
  const kommo = new FakeKommo();
  let inFlight = 0;
  let maxInFlight = 0;
  const orig = kommo.createCall.bind(kommo);
  kommo.createCall = async (body, o) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return orig(body, o);
  };
  const { registrar, store } = await setup({ kommo, concurrency: 3 });
  await registrar.start();
  for (let i = 0; i < 50; i++) await registrar.submit(makeCall({ client: phone(i) }));
  await registrar.idle();
  t.equal(kommo.calls.length, 50);
  t.equal(kommo.contacts.size, 50);
  t.ok(maxInFlight <= 3, `max in flight ${maxInFlight}`);
  t.match(registrar.stats(), { done: 50, pending: 0, failed: 0, in_flight: 0, queued: 0, paused: false });
  // Submitting a registered call again does nothing.
  const again = (await store.listByPeriod(0, Date.now() * 2))[0]!;
  await registrar.submit(again.call);
  await registrar.idle();
  t.equal(kommo.calls.length, 50);
  await registrar.close();
});

t.test('submitted before start: stored durably, registered on start', async (t) => {
  const { registrar, kommo, store } = await setup();
  await registrar.submit(makeCall());
  t.equal(store.stats().pending, 1);
  t.equal(kommo.requests.length, 0, 'nothing sent before start');
  await registrar.start();
  await registrar.idle();
  t.equal(kommo.calls.length, 1);
  await registrar.close();
});

t.test('transient failures pause all work, then one probe, then everything; no loss, no duplicate', async (t) => {
  const kommo = new FakeKommo();
  kommo.fault('findContactsByPhone', unreachable(false), 'before', 6);
  let concurrentDuringProbe = 0;
  let inFlight = 0;
  const orig = kommo.findContactsByPhone.bind(kommo);
  kommo.findContactsByPhone = async (p) => {
    inFlight++;
    if (registrar.stats().kommo_failures > 0) concurrentDuringProbe = Math.max(concurrentDuringProbe, inFlight);
    try {
      await new Promise((r) => setTimeout(r, 2));
      return await orig(p);
    } finally {
      inFlight--;
    }
  };
  const { registrar, store } = await setup({ kommo });
  await registrar.start();
  for (let i = 0; i < 10; i++) await registrar.submit(makeCall({ client: phone(i) }));
  await new Promise((r) => setTimeout(r, 5));
  t.equal(registrar.stats().paused || registrar.stats().kommo_failures > 0, true, 'paused after the first failure');
  await registrar.idle();
  t.equal(kommo.calls.length, 10);
  t.equal(kommo.contacts.size, 10);
  t.equal(concurrentDuringProbe, 1, 'one probe at a time while Kommo is failing');
  t.match(registrar.stats(), { done: 10, failed: 0, kommo_failures: 0 });
  const recs = await store.listByPeriod(0, Date.now() * 2);
  t.ok(recs.some((r) => r.attempts > 0), 'attempts are counted');
  t.ok(recs.every((r) => r.last_error === null), 'last_error cleared on success');
  await registrar.close();
});

t.test('a non-transient failure → failed, visible in stats; retryFailed after the fix → done', async (t) => {
  const kommo = new FakeKommo();
  kommo.seedContact({ phones: [phone(1)] });
  kommo.fault('createCall', validation());
  const { registrar, store } = await setup({ kommo });
  await registrar.start();
  await registrar.submit(makeCall({ client: phone(1), linkedid: 'bad.1' }));
  await registrar.submit(makeCall({ client: phone(1), linkedid: 'good.1' }));
  await registrar.idle();
  const st = registrar.stats();
  t.match(st, { failed: 1, done: 1, pending: 0 });
  t.match(st.last_error, { code: 'KOMMO_VALIDATION', status: 400, linkedid: 'bad.1' });
  const failed = await store.listFailed();
  t.match(failed[0], { id: 'bad.1', status: 'failed', attempts: 1, last_error: { code: 'KOMMO_VALIDATION' } });
  t.equal(kommo.calls.length, 1);
  // "Fixing" = the fault is gone. Retry.
  t.same(await registrar.retryFailed(), ['bad.1']);
  await registrar.idle();
  t.match(registrar.stats(), { failed: 0, done: 2 });
  t.equal(kommo.calls.length, 2);
  t.ok(kommo.count('findContactsByPhone') >= 2, 'a manual retry looks the contact up again (a fix in Kommo is seen)');
  await registrar.close();
});

t.test('max_attempts bounds transient retries', async (t) => {
  const kommo = new FakeKommo();
  kommo.fault('findContactsByPhone', unreachable(false), 'before', 100);
  const { registrar } = await setup({ kommo, config: settings({ registration: { ...fast, max_attempts: 3 } }) });
  await registrar.start();
  await registrar.submit(makeCall());
  await registrar.idle();
  t.match(registrar.stats(), { failed: 1, pending: 0 });
  t.equal(kommo.count('findContactsByPhone'), 3);
  await registrar.close();
});

t.test('crash after the contact create was sent (answer never saved) → restart → the contact is not created twice', async (t) => {
  const kommo = new FakeKommo();
  let hang = true;
  const orig = kommo.createContact.bind(kommo);
  kommo.createContact = async (body, o) => {
    const res = await orig(body, o);
    if (hang) await new Promise(() => undefined); // the process "dies" here: the answer is never seen
    return res;
  };
  const first = await setup({ kommo });
  await first.registrar.start();
  await first.registrar.submit(makeCall({ linkedid: 'crash.1' }));
  while (kommo.contacts.size === 0) await new Promise((r) => setTimeout(r, 2));
  // Abandon the first registrar and store (no close: a crash), start over on the same directory.
  hang = false;
  const { logger, lines } = captureLogger();
  const store = await openCallStore({ dataDir: first.dataDir, logger: silentLogger() });
  const pending = await store.listPending();
  t.equal(pending.length, 1);
  t.ok(pending[0]!.steps.intents?.contact, 'the contact create intent was journalled before the request');
  const second = createRegistrar({ config: settings({ registration: fast }), kommo, hooks: new FakeHooks(), store, logger });
  await second.start();
  await second.idle();
  t.equal(kommo.contacts.size, 1, 'one contact');
  t.equal(kommo.count('createContact'), 1);
  t.equal(kommo.calls.length, 1);
  t.match(second.stats(), { done: 1, pending: 0 });
  t.ok(lines.some((l) => String(l.msg).includes('resuming')));
  await second.close();
});

t.test('close() between steps: the step in flight finishes and is saved; restart resumes without duplicates', async (t) => {
  const kommo = new FakeKommo();
  let registrarRef: ReturnType<typeof createRegistrar> | undefined;
  let closing: Promise<void> | undefined;
  const orig = kommo.createContact.bind(kommo);
  kommo.createContact = async (body, o) => {
    closing = registrarRef!.close(); // SIGTERM while the contact is being created
    return orig(body, o);
  };
  const first = await setup({ kommo });
  registrarRef = first.registrar;
  await first.registrar.start();
  await first.registrar.submit(makeCall({ linkedid: 'close.1' }));
  while (!closing) await new Promise((r) => setTimeout(r, 2));
  await closing;
  const rec = await first.store.get('close.1');
  t.equal(rec?.status, 'pending');
  t.ok(rec?.steps.contact_id, 'the contact step was saved');
  t.equal(rec?.steps.call_id, undefined, 'stopped before the call');
  t.equal(kommo.calls.length, 0);

  const store = await openCallStore({ dataDir: first.dataDir, logger: silentLogger() });
  const second = createRegistrar({ config: settings({ registration: fast }), kommo: Object.assign(kommo, { createContact: orig }), hooks: new FakeHooks(), store, logger: silentLogger() });
  await second.start();
  await second.idle();
  t.equal(kommo.contacts.size, 1);
  t.equal(kommo.calls.length, 1);
  await second.close();
  await second.close(); // idempotent
});

t.test('shouldRegister for the tracker: lists and hook 1', async (t) => {
  const { registrar, hooks } = await setup({ config: settings({ registration: { ...fast, blacklist: { extensions: ['102'], trunks: [], numbers: [] } } }) });
  t.equal(await registrar.shouldRegister('conversation_requested', makeCall({ legs: [{ ext: '101' }] })), true);
  t.equal(await registrar.shouldRegister('conversation_requested', makeCall({ legs: [{ ext: '102' }] })), false);
  hooks.on('need_registration', (input) => ({ result: input.call_stage !== 'conversation_accepted' }));
  t.equal(await registrar.shouldRegister('conversation_accepted', makeCall()), false);
  await registrar.close();
});

t.test('skipped calls are journalled as skipped with the reason', async (t) => {
  const { registrar, store, kommo } = await setup();
  await registrar.start();
  await registrar.submit(makeCall({ linkedid: 'int.1', direction: 'local', client: '102' }));
  await registrar.idle();
  t.match(await store.get('int.1'), { status: 'skipped', skip_reason: 'internal' });
  t.equal(kommo.requests.length, 0);
  await registrar.close();
});

t.test('batching on: in flight starts at 4, grows by one per registered call up to registration.batch.concurrency, back to 4 after an outage', async (t) => {
  const kommo = new FakeKommo();
  let inFlight = 0;
  const samples: number[] = [];
  let failOnce = false;
  const orig = kommo.createCall.bind(kommo);
  kommo.createCall = async (body, o) => {
    inFlight++;
    samples.push(inFlight);
    await new Promise((r) => setTimeout(r, 10));
    inFlight--;
    if (failOnce) {
      failOnce = false;
      throw unreachable(false);
    }
    return orig(body, o);
  };
  const config = settings({ registration: { ...fast, batch: { ...defaults.registration.batch, enabled: true, max_items: 50, concurrency: 12 } } });
  const dataDir = await tempDir();
  const store = await openCallStore({ dataDir, logger: silentLogger() });
  const registrar = createRegistrar({ config, kommo, hooks: new FakeHooks(), store, logger: silentLogger() });
  await registrar.start();
  await Promise.all(Array.from({ length: 60 }, (_, i) => registrar.submit(makeCall({ client: phone(i) }))));
  await registrar.idle();
  t.ok(samples.slice(0, 4).every((n) => n <= 4), `the first calls: at most 4 at once (${samples.slice(0, 4).join(',')})`);
  t.equal(Math.max(...samples), 12, 'a backlog grows it to registration.batch.concurrency');
  t.equal(kommo.calls.length, 60);
  // An outage: back to one probe, then 4, growing again.
  samples.length = 0;
  failOnce = true;
  await Promise.all(Array.from({ length: 30 }, (_, i) => registrar.submit(makeCall({ client: phone(100 + i) }))));
  await registrar.idle();
  const afterProbe = samples.findIndex((n, i) => i > 0 && n === 1);
  t.ok(afterProbe > 0, 'a probe went alone after the failure');
  t.ok(samples.slice(afterProbe, afterProbe + 3).every((n) => n <= 4), `after the probe: at most 4 at once (${samples.slice(afterProbe, afterProbe + 4).join(',')})`);
  t.match(registrar.stats(), { done: 90, failed: 0, pending: 0 });
  await registrar.close();
});
