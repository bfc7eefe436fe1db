// End-to-end (issue 5): a recorded, answered call has a working mp3 link.
// Trunk → DID 201 (Gosub kommo-record: MixMonitor into the harness' recordings dir)
// → Dial 101. The caller (SIPp, test/sipp/uac-audio.xml) plays a μ-law 440 Hz tone
// (rig/sandbox/audio.ts) for the talk time; the real bridge (in this process)
// registers the call in the Kommo simulator with the link made by lib/domain/recordings,
// served by the product's HTTP server (bin/compose.ts startHttp).
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startBridge, startHttp, buildCore } from '../../bin/compose.js';
import { buildConfig } from '../../lib/platform/config/index.js';
import { createHttpServer, type HttpServer } from '../../lib/adapters/http/index.js';
import { defaultOpenFile } from '../../lib/adapters/http/recordings-route.js';
import { readWavInfo } from '../../lib/domain/recordings/wav.js';
import { writeAudioUacScenario } from '../../rig/sandbox/audio.js';
import { runProcess } from '../helpers/run.js';
import { freeTcpPort } from '../../rig/sandbox/ports.js';
import { callsFor, startRig, waitFor, waitNoChannels, waitRegistered, type Rig } from '../bridge/e2e-rig.js';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { sipp, startSipp } from '../../rig/sandbox/sipp.js';

const CALLER = '79995550105';
const TALK_MS = 3000;
const TONE_HZ = 440;
const SECRET = 'recordings-e2e-secret-0123456789';
const LAME = '/usr/bin/lame';

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw GET: the path is sent as given (fetch would resolve `..` itself). */
function get(base: string, rawPath: string, headers: Record<string, string> = {}): Promise<Got> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: 'GET', path: rawPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

// --- MPEG audio frame headers -------------------------------------------------

const BITRATES_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2_L3 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

interface Frame {
  version: '1' | '2' | '2.5';
  layer: number;
  kbps: number;
  sampleRate: number;
  length: number;
  samples: number;
}

/** Parse a Layer III frame header at `o`; undefined when it is not one. */
function frameAt(b: Buffer, o: number): Frame | undefined {
  if (o + 4 > b.length) return undefined;
  const b1 = b[o + 1]!;
  const b2 = b[o + 2]!;
  if (b[o] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const v = (b1 >> 3) & 3; // 0 = 2.5, 1 = reserved, 2 = 2, 3 = 1
  const layerBits = (b1 >> 1) & 3; // 1 = Layer III
  const bi = b2 >> 4;
  const si = (b2 >> 2) & 3;
  if (v === 1 || layerBits !== 1 || bi === 0 || bi === 15 || si === 3) return undefined;
  const kbps = (v === 3 ? BITRATES_V1_L3 : BITRATES_V2_L3)[bi]!;
  const sampleRate = SAMPLE_RATES[v]![si]!;
  const pad = (b2 >> 1) & 1;
  const length = Math.floor(((v === 3 ? 144 : 72) * kbps * 1000) / sampleRate) + pad;
  return { version: v === 3 ? '1' : v === 2 ? '2' : '2.5', layer: 3, kbps, sampleRate, length, samples: v === 3 ? 1152 : 576 };
}

/** Skip an ID3v2 tag (size is syncsafe; +10 for a footer). */
function afterId3(b: Buffer): number {
  if (b.length < 10 || b.toString('latin1', 0, 3) !== 'ID3') return 0;
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
  return 10 + size + (b[5]! & 0x10 ? 10 : 0);
}

/** Walk every frame; the stream must be frames back to back (an ID3v1 tag may end it). */
function walkFrames(b: Buffer): { first: Frame; start: number; frames: number; seconds: number; end: number } {
  const start = afterId3(b);
  const first = frameAt(b, start);
  if (!first) throw new Error(`no MPEG Layer III frame sync at byte ${start}: ${b.subarray(start, start + 4).toString('hex')}`);
  let o = start;
  let frames = 0;
  let seconds = 0;
  for (;;) {
    const f = frameAt(b, o);
    if (!f) break;
    frames++;
    seconds += f.samples / f.sampleRate;
    o += f.length;
  }
  return { first, start, frames, seconds, end: o };
}


/** RMS and zero-crossing frequency of 16-bit mono PCM samples. */
function analyse(pcm: Buffer, sampleRate: number): { rms: number; hz: number } {
  const n = Math.floor(pcm.length / 2);
  let sum = 0;
  let crossings = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const s = pcm.readInt16LE(i * 2);
    sum += s * s;
    if (i > 0 && ((prev < 0 && s >= 0) || (prev >= 0 && s < 0))) crossings++;
    prev = s;
  }
  return { rms: n ? Math.sqrt(sum / n) : 0, hz: n ? crossings / 2 / (n / sampleRate) : 0 };
}

const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  let rig: Rig;
  let server: HttpServer | undefined;
  let spyServer: HttpServer | undefined;
  let publicUrl = '';
  let work = '';
  const opened: string[] = [];

  t.before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'ka-recordings-e2e-'));
    // The bridge is started here, not by the rig: its config needs the Asterisk's recordings dir.
    rig = await startRig({ inProcess: false, asterisk: { dialTimeout: 10 } });
    const port = await freeTcpPort('127.0.0.1');
    publicUrl = `http://127.0.0.1:${port}`;
    const file = JSON.parse(await readFile(rig.configPath, 'utf8')) as Record<string, unknown>;
    const config = buildConfig(
      {
        ...file,
        http: { enabled: true, host: '127.0.0.1', port, public_url: publicUrl, secret: SECRET },
        recordings: {
          enabled: true,
          dir: rig.ast.recordingsDir,
          // MIXMONITOR_FILENAME is the path inside Asterisk's chroot
          asterisk_dir: `${rig.ast.chrootDir}/recordings`,
          convert_to_mp3: true,
          wait_closed_ms: 5000,
          lame_path: LAME,
        },
      },
      { env: {} },
    );
    rig.config = config;
    rig.core = buildCore(config, rig.logger);
    rig.bridge = await startBridge(rig.core);
    await waitFor('the bridge AMI connection', () => rig.bridge!.ami.isConnected(), 15_000);
    server = await startHttp(rig.core, { bridge: rig.bridge, startedAt: new Date() });
    // The same links behind a server whose file opening is watched ("nothing read").
    spyServer = createHttpServer({
      config: { ...config.http, port: 0 },
      logger: rig.logger,
      links: rig.bridge.links!,
      openFile: async (p: string): Promise<FileHandle> => {
        opened.push(p);
        return defaultOpenFile(p);
      },
    });
    await spyServer.listen();
  });

  t.teardown(async () => {
    await spyServer?.close();
    await server?.close();
    await rig?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  let link = '';
  let token = '';
  let mp3: Buffer = Buffer.alloc(0);

  t.test('an answered call with audio is registered with a link to its recording', async (t) => {
    t.ok(server, 'the HTTP server runs (http.enabled)');
    t.ok(rig.bridge?.links, 'recording links are on (recordings.enabled + http.secret)');
    const { scenario, wav } = writeAudioUacScenario({ dir: work, tone: { seconds: TALK_MS / 1000, hz: TONE_HZ } });
    const tone = await readWavInfo(wav).catch(() => undefined);
    t.equal(tone, undefined, 'the tone is μ-law (not a PCM WAV lame could take as is)');
    const { ast } = rig;
    const phone = await sipp({ scenario: 'uas-answer', localIp: ast.phones['101']!, localPort: ast.phonePort, durationMs: 300, timeoutMs: 40_000 });
    const uac = await startSipp({
      scenario: { file: scenario },
      localIp: ast.trunkIp,
      localPort: ast.trunkPort,
      remote: `${ast.sipHost}:${ast.sipPort}`,
      service: '201',
      durationMs: TALK_MS,
      keys: { caller_num: CALLER, caller_name: 'Client' },
      timeoutMs: 40_000,
    });
    const [caller, callee] = await Promise.all([uac.done, phone.done]);
    t.equal(caller.finalStatus, 200, 'the call was answered');
    t.equal(caller.code, 0, `the caller's scenario ended normally ${caller.code === 0 ? '' : caller.stderr.slice(-1500)}`);
    t.equal(callee.code, 0, `101's scenario ended normally ${callee.code === 0 ? '' : callee.stderr.slice(-1500)}`);
    await waitNoChannels(rig);
    await waitRegistered(rig, CALLER, 1, 40_000);

    const calls = callsFor(rig.sim, CALLER);
    t.equal(calls.length, 1, 'one call record');
    const body = calls[0]!.body;
    t.equal(body['direction'], 'inbound');
    t.ok(Number(body['duration']) >= 2, `talk time registered (${String(body['duration'])} s)`);
    link = typeof body['link'] === 'string' ? body['link'] : '';
    t.comment(`link: ${link.slice(0, 90)}… (${link.length} chars)`);
    const m = new RegExp(`^${publicUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/recordings/([A-Za-z0-9_-]{40,})\\.mp3$`).exec(link);
    t.ok(m, 'link is <public_url>/recordings/<token>.mp3');
    token = m?.[1] ?? '';

    const files = await readdir(ast.recordingsDir);
    const wavName = files.find((f) => f.endsWith('.wav'));
    t.ok(wavName, `MixMonitor wrote a wav (${files.join(', ')})`);
    t.ok(files.some((f) => f.endsWith('.mp3')), 'and the mp3 is next to it');
    for (const leak of [ast.recordingsDir, ast.chrootDir, ast.hostDir, '/tmp/', 'recordings/' + (wavName ?? '?'), path.basename(wavName ?? '?', '.wav')]) {
      t.notOk(link.includes(leak), `the link does not reveal ${leak}`);
    }
    if (wavName) {
      const info = await readWavInfo(path.join(ast.recordingsDir, wavName));
      const mp3Name = wavName.replace(/\.wav$/, '.mp3');
      const mp3Size = (await stat(path.join(ast.recordingsDir, mp3Name)).catch(() => ({ size: 0 }))).size;
      t.comment(`recording: ${info.dataBytes + info.dataOffset} bytes wav (${info.sampleRate} Hz, ${info.bitsPerSample}-bit, ${info.channels} ch, ${info.durationSec.toFixed(2)} s) → ${mp3Size} bytes mp3`);
      t.ok(info.durationSec > TALK_MS / 1000 - 1 && info.durationSec < TALK_MS / 1000 + 2, `the wav lasts about the talk time (${info.durationSec.toFixed(2)} s)`);
    }
    const rs = rig.bridge!.recordings!.stats();
    t.equal(rs.converted_total, 1, 'one conversion');
    t.equal(rs.conversion_failed_total, 0);
  });

  t.test('GET the link → 200 audio/mpeg, and the bytes decode as MP3', async (t) => {
    if (!link) return t.fail('no link');
    const u = new URL(link);
    const res = await get(publicUrl, u.pathname);
    t.equal(res.status, 200);
    t.equal(res.headers['content-type'], 'audio/mpeg');
    t.equal(res.headers['accept-ranges'], 'bytes');
    t.equal(Number(res.headers['content-length']), res.body.length, 'content-length is the body size');
    t.notMatch(String(res.headers['content-disposition'] ?? ''), /\d{8}-\d{6}/, 'content-disposition names no file');
    mp3 = res.body;
    t.ok(mp3.length > 1000, `${mp3.length} bytes`);

    const walk = walkFrames(mp3);
    t.equal(mp3[walk.start], 0xff, `frame sync 0xFFE… at byte ${walk.start}`);
    t.equal((mp3[walk.start + 1]! & 0xe0), 0xe0);
    t.equal(walk.first.layer, 3, 'Layer III');
    t.equal(walk.first.sampleRate, 8000, 'the recording rate (8 kHz, MPEG 2.5)');
    t.equal(walk.first.version, '2.5');
    t.equal(walk.first.kbps, rig.config.recordings.mp3_bitrate, `${walk.first.kbps} kbps (recordings.mp3_bitrate)`);
    const tail = mp3.length - walk.end;
    t.ok(tail === 0 || (tail === 128 && mp3.toString('latin1', walk.end, walk.end + 3) === 'TAG'), `frames run back to back to the end (${walk.frames} frames, ${tail} bytes left)`);
    t.comment(`mp3: ${mp3.length} bytes, ${walk.frames} frames of MPEG ${walk.first.version} Layer III ${walk.first.kbps} kbps ${walk.first.sampleRate} Hz = ${walk.seconds.toFixed(2)} s`);

    // lame decodes it back to a WAV of about the talk time, holding the tone.
    const mp3File = path.join(work, 'got.mp3');
    const wavFile = path.join(work, 'got.wav');
    await writeFile(mp3File, mp3);
    const dec = await runProcess(LAME, ['--quiet', '--decode', mp3File, wavFile], { timeoutMs: 20_000 });
    t.equal(dec.code, 0, `lame --decode ${dec.stdout}${dec.stderr}`);
    const info = await readWavInfo(wavFile);
    t.comment(`decoded: ${info.durationSec.toFixed(2)} s, ${info.sampleRate} Hz, ${info.channels} ch`);
    t.ok(Math.abs(info.durationSec - TALK_MS / 1000) < 1.5, `the mp3 lasts about the talk time (${info.durationSec.toFixed(2)} s vs ${TALK_MS / 1000} s)`);
    const pcm = (await readFile(wavFile)).subarray(info.dataOffset, info.dataOffset + info.dataBytes);
    // the middle second: away from the answer/hangup edges
    const mid = pcm.subarray(Math.floor(pcm.length / 2 - info.sampleRate), Math.floor(pcm.length / 2 + info.sampleRate));
    const a = analyse(mid, info.sampleRate);
    t.comment(`middle second: rms ${a.rms.toFixed(0)}, ~${a.hz.toFixed(0)} Hz`);
    t.ok(a.rms > 1000, 'it holds audio, not silence');
    t.ok(Math.abs(a.hz - TONE_HZ) < 40, `the caller's ${TONE_HZ} Hz tone (${a.hz.toFixed(0)} Hz)`);
  });

  t.test('Range: bytes=0-99 → 206 with those 100 bytes', async (t) => {
    if (!link || !mp3.length) return t.fail('no link');
    const res = await get(publicUrl, new URL(link).pathname, { range: 'bytes=0-99' });
    t.equal(res.status, 206);
    t.equal(res.headers['content-range'], `bytes 0-99/${mp3.length}`);
    t.equal(res.headers['content-length'], '100');
    t.equal(res.body.length, 100);
    t.same(res.body, mp3.subarray(0, 100), 'the first 100 bytes of the file');
    const last = await get(publicUrl, new URL(link).pathname, { range: 'bytes=-10' });
    t.equal(last.status, 206);
    t.equal(last.headers['content-range'], `bytes ${mp3.length - 10}-${mp3.length - 1}/${mp3.length}`);
    t.same(last.body, mp3.subarray(mp3.length - 10));
    const beyond = await get(publicUrl, new URL(link).pathname, { range: `bytes=${mp3.length}-` });
    t.equal(beyond.status, 416);
    t.equal(beyond.headers['content-range'], `bytes */${mp3.length}`);
  });

  t.test('forged tokens and traversal attempts read nothing', async (t) => {
    if (!token) return t.fail('no token');
    const spy = spyServer!.address()!;
    const spyBase = `http://127.0.0.1:${spy.port}`;
    opened.length = 0;
    const good = await get(spyBase, `/recordings/${token}.mp3`, { range: 'bytes=0-3' });
    t.equal(good.status, 206, 'the genuine token works on the watched server');
    t.equal(opened.length, 1, 'and opens one file');
    opened.length = 0;

    // flip one character in the middle (every bit of it is used, unlike the last one's)
    const i = Math.floor(token.length / 2);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const flipped = alphabet[(alphabet.indexOf(token[i]!) ^ 0x20) & 63]!;
    const forged = token.slice(0, i) + flipped + token.slice(i + 1);
    t.not(forged, token);
    for (const base of [publicUrl, spyBase]) {
      const r = await get(base, `/recordings/${forged}.mp3`);
      t.equal(r.status, 403, `forged token → 403 (${base === spyBase ? 'watched' : 'product'} server)`);
      t.notOk(r.body.includes(Buffer.from('/recordings')), 'the answer names no path');
      t.match(r.body.toString('utf8'), /LINK_INVALID/);
    }
    const truncated = await get(spyBase, `/recordings/${token.slice(0, -8)}.mp3`);
    t.equal(truncated.status, 403, 'truncated token → 403');

    for (const p of ['/recordings/..%2f..%2fetc%2fpasswd', '/recordings/../../etc/passwd', '/recordings/%2e%2e/%2e%2e/etc/passwd', `/recordings/${token}/../../../etc/passwd`]) {
      for (const base of [publicUrl, spyBase]) {
        const r = await get(base, p);
        t.equal(r.status, 404, `${p.replace(token, '<token>')} → 404`);
        t.notOk(r.body.includes(Buffer.from('root:')), 'no /etc/passwd in the answer');
      }
    }
    t.same(opened, [], 'no file was opened for any of them');
  });
}
