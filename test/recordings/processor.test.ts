/**
 * The recording processor with the real lame (Debian's /usr/bin/lame): a small
 * generated WAV becomes a real mp3; a corrupt or missing file, a hook that changes
 * the path, a file still being written, a timeout.
 */
import t from 'tap';
import { appendFileSync, closeSync, existsSync, openSync, writeSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { CallFull, ChannelObject } from '../../lib/domain/call/types.js';
import type { RecordingsConfig } from '../../lib/platform/config/types.js';
import type { HookRun } from '../../lib/adapters/hooks/loader.js';
import type { RecordFileResult } from '../../lib/adapters/hooks/types.js';
import { createLogger } from '../../lib/platform/log.js';
import { convertToMp3, lameBitrate } from '../../lib/domain/recordings/convert.js';
import { RecordingError } from '../../lib/domain/recordings/errors.js';
import { createRecordingLinks } from '../../lib/domain/recordings/links.js';
import { createRecordingProcessor, orderCandidates, type RecordFileHook } from '../../lib/domain/recordings/processor.js';
import { Semaphore } from '../../lib/domain/recordings/semaphore.js';
import { parseWavHeader, readWavInfo, sineWav } from '../../lib/domain/recordings/wav.js';

const LAME = existsSync('/usr/bin/lame') ? '/usr/bin/lame' : undefined;
const SECRET = 'http-secret-0123456789abcdef';

function channel(id: string, answered: boolean, answer_time = '0001-01-01 00:00:00'): ChannelObject {
  const n = { number: '', name: '' };
  return { id, name: `PJSIP/${id}`, is_primary: false, type: 'incoming', state: 'ended', from: n, to: n, trunk: n, start_time: '2025-06-01 12:00:00', answer_time, end_time: '2025-06-01 12:05:00', was_answered: answered, extra: {} };
}

function callFull(): CallFull {
  return {
    active_conversation_id: '',
    channel: { ...channel('1.1', true, '2025-06-01 12:00:05'), is_primary: true },
    conversations: {
      '1.2': { channel: channel('1.2', true, '2025-06-01 12:00:05'), is_parked: false, user: { id: 1 } },
      '1.3': { channel: channel('1.3', true, '2025-06-01 12:02:00'), is_parked: false, user: { id: 2 } },
      '1.4': { channel: channel('1.4', false), is_parked: false, user: { id: 3 } },
    },
    entity: null, deal: null, is_ivr: false, record: '', result: 200,
  };
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

function setup(t: Teardown, over: Partial<RecordingsConfig> = {}, hook?: (input: { path: string }) => HookRun<'process_record_file_path'> | undefined) {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'ka-rec-')));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'monitor');
  mkdirSync(dir);
  const config: RecordingsConfig = {
    enabled: true, dir, convert_to_mp3: true, mp3_bitrate: 32, max_concurrent_conversions: 1,
    conversion_timeout_ms: 20_000, link_ttl_days: 90, wait_closed_ms: 2000,
    lame_path: '', // none configured: the `lamePath` option below, else node-lame's choice
    ...over,
  };
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: new Writable({ write(c: Buffer, _e, cb) { logLines.push(c.toString()); cb(); } }) });
  const hookCalls: Array<{ path: string }> = [];
  const hooks: RecordFileHook = {
    async run(_name, input, defaults: RecordFileResult) {
      hookCalls.push({ path: input.path });
      return hook?.(input) ?? { data: defaults, applied: false };
    },
  };
  const links = createRecordingLinks({ secret: SECRET, publicUrl: 'https://pbx.example.com', roots: [dir], ttlDays: 90 });
  const processor = createRecordingProcessor({ config, hooks, logger, links, pollMs: 20, ...(LAME ? { lamePath: LAME } : {}) });
  t.teardown(() => processor.destroy());
  const logs = () => logLines.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const resolve = async (link: string) => links.resolveLink(/\/recordings\/([A-Za-z0-9_-]+)/.exec(link)?.[1] ?? '');
  return { base, dir, config, processor, logs, hookCalls, resolve };
}

function isMp3Start(b: Buffer): boolean {
  return b.toString('ascii', 0, 3) === 'ID3' || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0);
}

t.test('wav header parsing', async (t) => {
  const wav = sineWav(1.5);
  const info = parseWavHeader(wav, wav.length);
  t.match(info, { format: 1, channels: 1, sampleRate: 8000, bitsPerSample: 16, dataOffset: 44, dataBytes: 24_000, headerComplete: true });
  t.equal(info.durationSec, 1.5);
  t.equal(parseWavHeader(wav.subarray(0, 44), wav.length + 100).headerComplete, false, 'file longer than its header says: still being written');
  const unfinished = Buffer.from(wav);
  unfinished.writeUInt32LE(0, 4);
  unfinished.writeUInt32LE(0, 40);
  t.match(parseWavHeader(unfinished, unfinished.length), { headerComplete: false, dataBytes: 24_000 });
  const gsm = Buffer.from(wav);
  gsm.writeUInt16LE(49, 20);
  t.throws(() => parseWavHeader(gsm, gsm.length), { code: 'RECORDING_UNSUPPORTED' });
  t.throws(() => parseWavHeader(Buffer.from('not a wav at all'), 16), { code: 'RECORDING_UNSUPPORTED' });
  t.equal(lameBitrate(32), 32);
  t.equal(lameBitrate(33), 32);
  t.equal(lameBitrate(1), 8);
});

t.test('candidates: last answered conversation first, then the last given', async (t) => {
  const cf = callFull();
  t.same(orderCandidates(['/m/a.wav', { path: '/m/b.wav', uniqueid: '1.2' }, { path: '/m/c.wav', uniqueid: '1.3' }, { path: '/m/d.wav', uniqueid: '1.4' }], cf, '/m').map((c) => c.path),
    ['/m/c.wav', '/m/b.wav', '/m/d.wav', '/m/a.wav']);
  t.same(orderCandidates(['a.wav', '', '/m/a.wav', 'x/../b.wav'], null, '/m').map((c) => c.path), ['/m/b.wav', '/m/a.wav']);
});

t.test('a real WAV becomes a real mp3 next to it, and the link serves it', { skip: LAME ? false : 'no /usr/bin/lame' }, async (t) => {
  const s = setup(t);
  const wav = join(s.dir, 'in-79991234567-101.wav');
  writeFileSync(wav, sineWav(3));
  const link = await s.processor.process({ linkedid: '1.1', candidates: [wav], callFull: callFull() });
  t.match(link, /^https:\/\/pbx\.example\.com\/recordings\/[A-Za-z0-9_-]+\.mp3$/, JSON.stringify(s.logs().filter((l) => l.level !== 'debug')));
  t.notMatch(link, /monitor|79991234567/);
  const mp3 = join(s.dir, 'in-79991234567-101.mp3');
  t.equal(await s.resolve(link), mp3);
  const out = readFileSync(mp3);
  t.ok(isMp3Start(out), 'starts with an MP3 frame sync or ID3');
  t.ok(out.includes(Buffer.from('LAME')), 'lame wrote it (its encoder tag)');
  // 8 kHz → MPEG 2.5 layer III: sync 0xFFE, version bits 00, layer 01
  t.equal((out[1] ?? 0) & 0xfe, 0xe2, "MPEG 2.5 layer III");
  t.ok(out.length > 3 * 32_000 / 8 * 0.8, 'about 3 s at 32 kbps');
  t.ok(existsSync(wav), 'the wav is kept');
  t.same(readdirSync(s.dir).filter((f) => f.endsWith('.part')), [], 'no part file left');
  t.same(s.hookCalls, [{ path: wav }]);
  t.match(s.processor.stats(), { linked_total: 1, converted_total: 1, conversion_failed_total: 0 });
  // A second run (re-processing) reuses the mp3.
  const again = await s.processor.process({ linkedid: '1.1', candidates: [wav], callFull: callFull() });
  t.equal(await s.resolve(again), mp3);
  t.equal(s.processor.stats().converted_total, 1, 'not converted twice');
});

t.test('a corrupt wav is not converted: the original is linked', async (t) => {
  const s = setup(t);
  const wav = join(s.dir, 'corrupt.wav');
  writeFileSync(wav, Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVEjunk'), Buffer.alloc(300, 7)]));
  const link = await s.processor.process({ linkedid: '2.1', candidates: [wav], callFull: callFull() });
  t.match(link, /\.wav$/);
  t.equal(await s.resolve(link), wav);
  t.notOk(existsSync(join(s.dir, 'corrupt.mp3')));
  t.same(readdirSync(s.dir), ['corrupt.wav'], 'no leftovers');
  t.match(s.processor.stats(), { conversion_failed_total: 1, linked_total: 1 });
  t.ok(s.logs().some((l) => l.level === 'warn' && l.code === 'RECORDING_UNSUPPORTED' && l.linkedid === '2.1'));
});

t.test('lame failing (bad binary) → the original is linked', async (t) => {
  const s = setup(t);
  const wav = join(s.dir, 'ok.wav');
  writeFileSync(wav, sineWav(0.5));
  await t.rejects(convertToMp3(wav, join(s.dir, 'ok.mp3'), { bitrate: 32, timeoutMs: 5000, lamePath: join(s.base, 'no-such-lame') }), { code: 'RECORDING_CONVERSION_FAILED' });
  t.same(readdirSync(s.dir), ['ok.wav'], 'no part file left');
});

t.test('a conversion past its timeout is abandoned; the original is linked', { skip: LAME ? false : 'no /usr/bin/lame' }, async (t) => {
  const s = setup(t, { conversion_timeout_ms: 1 });
  const wav = join(s.dir, 'long.wav');
  writeFileSync(wav, sineWav(120));
  const link = await s.processor.process({ linkedid: '3.1', candidates: [wav], callFull: callFull() });
  t.equal(await s.resolve(link), wav);
  t.ok(s.logs().some((l) => l.code === 'RECORDING_CONVERSION_TIMEOUT'));
  await s.processor.close(); // lame finishes in the background; its part file is removed
  t.same(readdirSync(s.dir), ['long.wav']);
});

t.test('a WAV with a header and no samples (never answered) → "" and no conversion', async (t) => {
  const s = setup(t);
  const wav = join(s.dir, 'silent.wav');
  writeFileSync(wav, sineWav(0));
  t.equal((await readWavInfo(wav)).dataBytes, 0, 'fixture holds no samples');
  const link = await s.processor.process({ linkedid: '4.9', candidates: [wav], callFull: callFull() });
  t.equal(link, '');
  t.same(readdirSync(s.dir), ['silent.wav'], 'nothing converted');
  t.match(s.processor.stats(), { missing_total: 1, linked_total: 0, converted_total: 0 });
  t.same(s.hookCalls, [], 'the hook does not run for an empty recording');
});

t.test('a missing file → "" and a warning', async (t) => {
  const s = setup(t);
  const link = await s.processor.process({ linkedid: '4.1', candidates: [join(s.dir, 'nope.wav'), ''], callFull: callFull() });
  t.equal(link, '');
  t.ok(s.logs().some((l) => l.level === 'warn' && l.msg === 'no recording found for the call' && l.linkedid === '4.1'));
  t.equal(s.processor.stats().missing_total, 1);
  t.same(s.hookCalls, [], 'the hook does not run without a file');
  t.equal(await s.processor.process({ linkedid: '4.2', candidates: [], callFull: callFull() }), '');
});

t.test('files outside recordings.dir (absolute, .., symlink) are never picked', async (t) => {
  const s = setup(t);
  const outside = join(s.base, 'outside.wav');
  writeFileSync(outside, sineWav(0.2));
  symlinkSync(outside, join(s.dir, 'link.wav'));
  const link = await s.processor.process({ linkedid: '5.1', candidates: [outside, join(s.dir, '..', 'outside.wav'), join(s.dir, 'link.wav'), '../outside.wav'], callFull: callFull() });
  t.equal(link, '');
  t.same(s.hookCalls, []);
});

t.test('the hook may name another file and switch conversion off', async (t) => {
  const other = { path: '' };
  const s = setup(t, {}, () => ({ data: { path: other.path, convert_to_mp3: false }, applied: true }));
  const wav = join(s.dir, 'call.wav');
  writeFileSync(wav, sineWav(0.3));
  other.path = join(s.dir, 'edited.wav');
  writeFileSync(other.path, sineWav(0.3));
  const link = await s.processor.process({ linkedid: '6.1', candidates: [wav], callFull: callFull() });
  t.equal(await s.resolve(link), other.path);
  t.same(readdirSync(s.dir).sort(), ['call.wav', 'edited.wav'], 'no conversion');
});

t.test('the hook naming a file outside the directory is ignored', async (t) => {
  const s = setup(t, { convert_to_mp3: false }, () => ({ data: { path: '/etc/passwd' }, applied: true }));
  const wav = join(s.dir, 'call.wav');
  writeFileSync(wav, sineWav(0.3));
  const link = await s.processor.process({ linkedid: '7.1', candidates: [wav], callFull: callFull() });
  t.equal(await s.resolve(link), wav);
  t.ok(s.logs().some((l) => l.level === 'warn' && String(l.msg).includes('process_record_file_path')));
});

t.test('a file still being written is waited for', { skip: LAME ? false : 'no /usr/bin/lame' }, async (t) => {
  const s = setup(t, { wait_closed_ms: 3000 });
  const wav = join(s.dir, 'growing.wav');
  const full = sineWav(1);
  const header = Buffer.from(full.subarray(0, 44));
  header.writeUInt32LE(0, 4); // MixMonitor fixes the sizes at close
  header.writeUInt32LE(0, 40);
  writeFileSync(wav, header);
  let written = 44;
  const timer = setInterval(() => {
    if (written < full.length) {
      appendFileSync(wav, full.subarray(written, written + 4000));
      written += 4000;
    } else {
      clearInterval(timer);
      // MixMonitor fixes the header in place when it closes the file.
      const fd = openSync(wav, 'r+');
      writeSync(fd, full.subarray(0, 44), 0, 44, 0);
      closeSync(fd);
    }
  }, 30);
  t.teardown(() => clearInterval(timer));
  const link = await s.processor.process({ linkedid: '8.1', candidates: [wav], callFull: callFull() });
  t.match(link, /\.mp3$/, JSON.stringify(s.logs().filter((l) => l.level !== 'debug')));
  const info = await readWavInfo(wav);
  t.equal(info.headerComplete, true);
  t.equal(info.durationSec, 1);
});

t.test('a file that never settles is linked unconverted after wait_closed_ms', async (t) => {
  const s = setup(t, { wait_closed_ms: 200 });
  const wav = join(s.dir, 'open.wav');
  const header = Buffer.from(sineWav(0.1).subarray(0, 44));
  header.writeUInt32LE(0, 4);
  writeFileSync(wav, header);
  const timer = setInterval(() => appendFileSync(wav, Buffer.alloc(160)), 10);
  t.teardown(() => clearInterval(timer));
  const link = await s.processor.process({ linkedid: '9.1', candidates: [wav], callFull: callFull() });
  clearInterval(timer);
  t.match(link, /\.wav$/);
  t.ok(s.logs().some((l) => l.msg === 'recording still being written; linked without conversion'));
});

t.test('disabled → ""', async (t) => {
  const s = setup(t, { enabled: false });
  const wav = join(s.dir, 'a.wav');
  writeFileSync(wav, sineWav(0.1));
  t.equal(await s.processor.process({ linkedid: '10.1', candidates: [wav], callFull: callFull() }), '');
});

t.test('conversions are bounded by the semaphore', async (t) => {
  const sem = new Semaphore(2, 1);
  let running = 0;
  let peak = 0;
  const job = () => sem.run(async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 20));
    running--;
  });
  const results = await Promise.allSettled([job(), job(), job(), job()]);
  t.equal(peak, 2);
  t.equal(results.filter((r) => r.status === 'rejected').length, 1, 'beyond the waiting bound: refused');
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.ok(rejected?.reason instanceof RecordingError);
  const ac = new AbortController();
  const hold = sem.run(() => new Promise((r) => setTimeout(r, 50)));
  const hold2 = sem.run(() => new Promise((r) => setTimeout(r, 50)));
  const waiting = sem.run(async () => 'never', ac.signal);
  ac.abort(new Error('stop'));
  await t.rejects(waiting, { message: 'stop' });
  await Promise.all([hold, hold2]);
  t.equal(sem.running, 0);
});

t.test('concurrent processing with real lame keeps at most max_concurrent_conversions', { skip: LAME ? false : 'no /usr/bin/lame' }, async (t) => {
  const s = setup(t, { max_concurrent_conversions: 2 });
  const files = [1, 2, 3, 4].map((i) => {
    const f = join(s.dir, `c${i}.wav`);
    writeFileSync(f, sineWav(2));
    return f;
  });
  const links = await Promise.all(files.map((f, i) => s.processor.process({ linkedid: `c${i}`, candidates: [f], callFull: callFull() })));
  for (const l of links) t.match(l, /\.mp3$/);
  t.equal(s.processor.stats().converted_total, 4);
});
