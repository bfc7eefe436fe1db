// The registration journal: durability, crash-safety, quarantine, queries, pruning.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { openCallStore, recordIdOf } from '../../lib/domain/registration/store.js';
import { captureLogger, makeCall, silentLogger, tempDir } from './helpers.js';

t.test('put, get, update survive a reopen; a second put keeps the record', async (t) => {
  const dataDir = await tempDir();
  const store = await openCallStore({ dataDir, logger: silentLogger() });
  const call = makeCall({ linkedid: '1700000001.5' });
  const { record, created } = await store.put(call);
  t.equal(created, true);
  t.equal(record.id, '1700000001.5');
  t.equal(record.status, 'pending');
  await store.update(record.id, (r) => {
    r.steps.contact_id = 42;
  });
  const again = await store.put(makeCall({ linkedid: '1700000001.5', client: '111' }));
  t.equal(again.created, false);
  t.equal(again.record.steps.contact_id, 42);
  await store.close();

  const reopened = await openCallStore({ dataDir, logger: silentLogger() });
  const got = await reopened.get(record.id);
  t.equal(got?.steps.contact_id, 42);
  t.same(got?.call, call, 'the finished call_full is kept');
  t.same(reopened.stats(), { pending: 1, done: 0, failed: 0, skipped: 0, quarantined: 0, oldest_pending_at: record.call_started_at });
  const names = await readdir(path.join(dataDir, 'calls'));
  t.same(names.sort(), ['1700000001.5.json', 'quarantine']);
});

t.test('ids never become paths', async (t) => {
  t.equal(recordIdOf('1700000000.12'), '1700000000.12');
  t.equal(recordIdOf('pbx-a-1700000000.12'), 'pbx-a-1700000000.12');
  for (const bad of ['../../etc/passwd', '..', '.hidden', 'a/b', 'a\\b', '', 'x'.repeat(200), 'a..b', 'a\0b']) {
    t.match(recordIdOf(bad), /^h_[0-9a-f]{40}$/, JSON.stringify(bad));
  }
  t.not(recordIdOf('a/b'), recordIdOf('a\\b'));
  const dataDir = await tempDir();
  const store = await openCallStore({ dataDir, logger: silentLogger() });
  const { record } = await store.put(makeCall({ linkedid: '../../escape' }));
  t.equal(record.linkedid, '../../escape');
  t.match(record.id, /^h_/);
  t.same((await readdir(path.join(dataDir, 'calls'))).filter((n) => n.endsWith('.json')), [`${record.id}.json`]);
  t.equal(await store.get('../x'), undefined);
  await t.rejects(store.put({ ...makeCall(), channel: { ...makeCall().channel, id: '' } }), { code: 'REGISTRATION_BAD_CALL' });
});

t.test('a half-written temp file (crash before rename) is ignored and removed; the record is intact', async (t) => {
  const dataDir = await tempDir();
  const store = await openCallStore({ dataDir, logger: silentLogger() });
  const { record } = await store.put(makeCall({ linkedid: '1700000002.1' }));
  await store.close();
  const dir = path.join(dataDir, 'calls');
  await writeFile(path.join(dir, '1700000002.1.json.1234.abcdef.tmp'), '{"v":1,"id":"1700000002.1","sta');
  await writeFile(path.join(dir, '1700000009.9.json.1234.abcdef.tmp'), '{"v":1');
  const { logger, lines } = captureLogger();
  const reopened = await openCallStore({ dataDir, logger });
  t.same(await reopened.get(record.id), record);
  t.equal(reopened.stats().pending, 1);
  t.equal(reopened.stats().quarantined, 0);
  t.same((await readdir(dir)).sort(), ['1700000002.1.json', 'quarantine']);
  t.ok(lines.some((l) => l.level === 40 && String(l.msg).includes('half-written')));
});

t.test('a corrupted file is quarantined with an error log, never crashes the store', async (t) => {
  const dataDir = await tempDir();
  const store = await openCallStore({ dataDir, logger: silentLogger() });
  await store.put(makeCall({ linkedid: '1700000003.1' }));
  await store.put(makeCall({ linkedid: '1700000003.2' }));
  await store.close();
  const dir = path.join(dataDir, 'calls');
  await writeFile(path.join(dir, '1700000003.1.json'), '{"v":1,"id":"1700000003.1","status":"pen'); // torn
  await writeFile(path.join(dir, '1700000003.3.json'), JSON.stringify({ hello: 'world' })); // not a record
  const { logger, lines } = captureLogger();
  const reopened = await openCallStore({ dataDir, logger });
  t.equal(reopened.stats().pending, 1);
  t.equal(reopened.stats().quarantined, 2);
  const q = await readdir(path.join(dir, 'quarantine'));
  t.equal(q.length, 2);
  t.ok(q.every((n) => n.startsWith('1700000003.1.json.') || n.startsWith('1700000003.3.json.')));
  const errors = lines.filter((l) => l.level === 50 && l.code === 'REGISTRATION_STORE_CORRUPT');
  t.equal(errors.length, 2);
  t.equal(await reopened.get('1700000003.1'), undefined);

  // Corrupted while running: quarantined on read.
  await writeFile(path.join(dir, '1700000003.2.json'), 'garbage');
  t.equal(await reopened.get('1700000003.2'), undefined);
  t.equal(reopened.stats().quarantined, 3);
  t.equal(reopened.stats().pending, 0);
  await t.rejects(reopened.update('1700000003.2', () => undefined), { code: 'REGISTRATION_NOT_FOUND' });
});

t.test('queries: pending, failed, by period; markForRetry; stats', async (t) => {
  const dataDir = await tempDir();
  let clock = 1_000_000;
  const store = await openCallStore({ dataDir, logger: silentLogger(), now: () => clock });
  const a = (await store.put(makeCall({ linkedid: 'a' }))).record;
  const b = (await store.put(makeCall({ linkedid: 'b' }))).record;
  const c = (await store.put(makeCall({ linkedid: 'c' }))).record;
  await store.update(a.id, (r) => { r.status = 'failed'; r.last_error = { code: 'KOMMO_VALIDATION', message: 'bad', status: 400 }; r.attempts = 1; });
  await store.update(b.id, (r) => { r.status = 'done'; });
  await store.update(c.id, (r) => { r.next_attempt_at = 5; });
  t.same((await store.listPending()).map((r) => r.id), ['c']);
  t.same((await store.listFailed()).map((r) => r.id), ['a']);
  t.same(store.stats(), { pending: 1, done: 1, failed: 1, skipped: 0, quarantined: 0, oldest_pending_at: c.call_started_at });
  const start = a.call_started_at;
  t.same((await store.listByPeriod(start, start + 1)).map((r) => r.id).sort(), ['a', 'b', 'c']);
  t.same(await store.listByPeriod(new Date(start + 1), new Date(start + 2)), []);
  clock = 2_000_000;
  t.same(await store.markForRetry('all-failed'), ['a']);
  const ra = await store.get('a');
  t.match(ra, { status: 'pending', attempts: 0, next_attempt_at: 2_000_000 });
  t.same(await store.markForRetry('b'), [], 'a done record is not retried');
  t.same(await store.markForRetry('nope'), []);
});

t.test('done and skipped records are pruned after the retention; failed and pending stay', async (t) => {
  const dataDir = await tempDir();
  let clock = Date.UTC(2026, 0, 1);
  const day = 24 * 3600 * 1000;
  const store = await openCallStore({ dataDir, logger: silentLogger(), now: () => clock });
  for (const [id, status] of [['d', 'done'], ['s', 'skipped'], ['f', 'failed'], ['p', 'pending']] as const) {
    await store.put(makeCall({ linkedid: id }));
    await store.update(id, (r) => { r.status = status; });
  }
  clock += 6 * day;
  t.equal(await store.prune(), 0);
  clock += 2 * day;
  t.equal(await store.prune(), 2);
  t.same((await readdir(path.join(dataDir, 'calls'))).sort(), ['f.json', 'p.json', 'quarantine']);
  t.same(store.stats(), { pending: 1, done: 0, failed: 1, skipped: 0, quarantined: 0, oldest_pending_at: store.stats().oldest_pending_at });

  // Pruned at open too, with a configurable retention.
  await store.put(makeCall({ linkedid: 'd2' }));
  await store.update('d2', (r) => { r.status = 'done'; });
  clock += 2 * day;
  const reopened = await openCallStore({ dataDir, logger: silentLogger(), now: () => clock, retentionMs: day });
  t.equal(await reopened.get('d2'), undefined);
});

t.test('every write is a whole JSON document (write-temp + rename)', async (t) => {
  const dataDir = await tempDir();
  const store = await openCallStore({ dataDir, logger: silentLogger() });
  await store.put(makeCall({ linkedid: 'w' }));
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.update('w', (r) => { r.attempts = i; })));
  const text = await readFile(path.join(dataDir, 'calls', 'w.json'), 'utf8');
  t.equal(JSON.parse(text).attempts, 19, 'updates of one record are serialised in order');
  t.same((await readdir(path.join(dataDir, 'calls'))).sort(), ['quarantine', 'w.json'], 'no temp file left');
});

t.test('callBackTasks: a client\'s call-back tasks that no later call completed, from memory, across a reopen', async (t) => {
  const dataDir = await tempDir();
  const store = await openCallStore({ dataDir, logger: silentLogger() });
  const same = (want: string) => (phone: string): boolean => phone.slice(-10) === want.slice(-10);
  const missed = await store.put(makeCall({ linkedid: '1700000100.1' }));
  t.same(store.callBackTasks(same('79991234567'), 0), [], 'no client number, no task yet');
  await store.update(missed.record.id, (r) => {
    r.steps.client_phone = '79991234567';
    r.steps.task_id = 601;
  });
  const other = await store.put(makeCall({ linkedid: '1700000100.2' }));
  await store.update(other.record.id, (r) => {
    r.steps.client_phone = '79990000000';
    r.steps.task_id = 602;
  });
  t.same(store.callBackTasks(same('89991234567'), 0), [601], 'the client\'s task (last digits match), not the other client\'s');
  t.same(store.callBackTasks(same('79991234567'), missed.record.call_started_at + 1), [], 'a call before the window does not count');
  t.same(store.callBackTasks(same('70000000000'), 0), [], 'a client without a call-back task: nothing to ask Kommo');
  const reached = await store.put(makeCall({ linkedid: '1700000100.3' }));
  await store.update(reached.record.id, (r) => {
    r.steps.client_phone = '79991234567';
    r.steps.tasks_completed = [601];
  });
  t.same(store.callBackTasks(same('79991234567'), 0), [], 'completed by a later call');
  await store.close();
  const reopened = await openCallStore({ dataDir, logger: silentLogger() });
  t.same(reopened.callBackTasks(same('79990000000'), 0), [602], 'rebuilt from the journal at open');
  t.same(reopened.callBackTasks(same('79991234567'), 0), [], 'completions too');
  await reopened.close();
});
