// Registration's `record_link` step (recordings as a durable pipeline step) and the
// per-number lock, on the in-memory pipeline harness of test/registration.
import t from 'tap';
import { runPipeline, recordingCandidates } from '../../lib/domain/registration/index.js';
import { PhoneLock } from '../../lib/domain/registration/phone-lock.js';
import { withRecordingCandidates } from '../../lib/domain/bridge/index.js';
import { FakeKommo, harness, makeCall, newRecord } from '../registration/helpers.js';

function withFiles(files: string[]) {
  return withRecordingCandidates(makeCall({ client: '+79991234567' }), files.map((path, i) => ({ path, uniqueid: `u${i}` })));
}

t.test('the link is resolved once, before the call record, and goes in it', async (t) => {
  const h = harness();
  h.kommo.seedContact({ phones: ['+79991234567'] });
  const seen: Array<{ candidates: unknown }> = [];
  h.deps.recordings = {
    async link(_call, candidates) {
      seen.push({ candidates });
      return 'https://pbx.example/recordings/abc.mp3';
    },
  };
  const run = h.run(newRecord(withFiles(['/rec/a.wav', '/rec/b.wav'])));
  t.same(await runPipeline(h.deps, run), { status: 'done' });
  t.equal(run.record.steps.record_link, 'https://pbx.example/recordings/abc.mp3');
  t.same(seen[0]!.candidates, [{ path: '/rec/a.wav', uniqueid: 'u0' }, { path: '/rec/b.wav', uniqueid: 'u1' }]);
  t.equal(h.kommo.calls[0]!.body['link'], 'https://pbx.example/recordings/abc.mp3');
  // resumed: not asked again
  await runPipeline(h.deps, run);
  t.equal(seen.length, 1);
});

t.test('a failing or slow linker gives "" within the bound, and the call is registered', async (t) => {
  for (const linker of [
    { link: async () => { throw new Error('lame crashed'); } },
    { link: (_c: unknown, _x: unknown, o?: { signal?: AbortSignal }) => new Promise<string>((resolve) => o?.signal?.addEventListener('abort', () => resolve('late'))) },
  ]) {
    const h = harness();
    h.kommo.seedContact({ phones: ['+79991234567'] });
    h.deps.recordings = linker;
    h.deps.recordingTimeoutMs = 50;
    const run = h.run(newRecord(withFiles(['/rec/a.wav'])));
    const t0 = Date.now();
    t.same(await runPipeline(h.deps, run), { status: 'done' });
    t.ok(Date.now() - t0 < 2000);
    t.equal(run.record.steps.record_link, '');
    t.equal(h.kommo.calls.length, 1);
    t.notOk(h.kommo.calls[0]!.body['link'], 'no link');
  }
});

t.test('no candidates: the linker is not asked; without a linker the step does not exist', async (t) => {
  const h = harness();
  h.kommo.seedContact({ phones: ['+79991234567'] });
  let asked = 0;
  h.deps.recordings = { link: async () => (asked++, 'x') };
  const run = h.run(newRecord(makeCall({ client: '+79991234567' })));
  await runPipeline(h.deps, run);
  t.equal(asked, 0);
  t.equal(run.record.steps.record_link, '');
  const h2 = harness();
  h2.kommo.seedContact({ phones: ['+79991234567'] });
  const run2 = h2.run(newRecord(makeCall({ client: '+79991234567' })));
  await runPipeline(h2.deps, run2);
  t.equal(run2.record.steps.record_link, undefined);
  t.same(recordingCandidates({ ...makeCall(), channel: { ...makeCall().channel, extra: { recording_file: '/r.wav' } } }), [{ path: '/r.wav' }]);
});

t.test('a lost call answer is found again through listNotes (not sent twice)', async (t) => {
  const kommo = new FakeKommo();
  const h = harness({ kommo });
  kommo.seedContact({ id: 7, phones: ['+79991234567'] });
  const call = makeCall({ client: '+79991234567' });
  const rec = newRecord(call);
  rec.steps = { need_registration: true, client_phone: '79991234567', contact_id: 7, entities_done: true, intents: { call: `${call.channel.id}:call` } };
  kommo.notes.push({ id: 9001, note_type: 'call_in', params: { uniq: call.channel.id }, entity_type: 'contacts', entity_id: 7 });
  const run = h.run(rec);
  await runPipeline(h.deps, run);
  t.equal(run.record.steps.call_id, 9001);
  t.equal(kommo.count('createCall'), 0);
});

t.test('PhoneLock: one holder per number (last digits), others wait', async (t) => {
  const lock = new PhoneLock(10);
  const order: string[] = [];
  let release!: () => void;
  const first = lock.run('+7 (999) 123-45-67', () => new Promise<void>((r) => { order.push('a start'); release = () => { order.push('a end'); r(); }; }));
  const second = lock.run('89991234567', async () => { order.push('b'); });
  const other = lock.run('79990000000', async () => { order.push('other'); });
  await other;
  t.same(order, ['a start', 'other']);
  release();
  await Promise.all([first, second]);
  t.same(order, ['a start', 'other', 'a end', 'b']);
  t.equal(lock.size, 0);
});
