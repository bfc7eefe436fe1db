/**
 * Recording conversion benchmark — prints figures, it is not a test.
 *
 *   npm run build && node dist/bench/recordings.js [--lame /usr/bin/lame] [--seconds 600] [--bitrate 32] [--parallel 2]
 *
 * Generates an 8 kHz mono 16-bit WAV (what MixMonitor writes) of a sine wave and
 * converts it with the product's converter (lib/domain/recordings/convert.ts, node-lame →
 * lame), sequentially and then `--parallel` at a time. The figure is seconds of
 * audio per second of wall time ("× real time").
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { convertToMp3 } from '../lib/domain/recordings/convert.js';
import { sineWav } from '../lib/domain/recordings/wav.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const lamePath = arg('lame', '/usr/bin/lame');
const seconds = Number(arg('seconds', '600'));
const bitrate = Number(arg('bitrate', '32'));
const parallel = Number(arg('parallel', '2'));
const runs = 3;

const dir = mkdtempSync(path.join(os.tmpdir(), 'ka-bench-rec-'));
try {
  const wav = path.join(dir, 'call.wav');
  writeFileSync(wav, sineWav(seconds));
  const wavBytes = statSync(wav).size;
  let best = Infinity;
  let mp3Bytes = 0;
  for (let i = 0; i < runs; i++) {
    const out = path.join(dir, `call-${i}.mp3`);
    const t0 = performance.now();
    await convertToMp3(wav, out, { bitrate, timeoutMs: 600_000, lamePath });
    best = Math.min(best, (performance.now() - t0) / 1000);
    mp3Bytes = statSync(out).size;
  }
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, (_, i) => convertToMp3(wav, path.join(dir, `p-${i}.mp3`), { bitrate, timeoutMs: 600_000, lamePath })),
  );
  const parWall = (performance.now() - t0) / 1000;
  console.log(`lame: ${lamePath}; input: ${seconds} s of 8 kHz mono 16-bit PCM (${(wavBytes / 1e6).toFixed(1)} MB) → ${bitrate} kbps mp3 (${(mp3Bytes / 1e6).toFixed(2)} MB)`);
  console.log(`sequential (best of ${runs}): ${best.toFixed(3)} s wall → ${(seconds / best).toFixed(0)} s of audio per s (× real time)`);
  console.log(`${parallel} in parallel: ${parWall.toFixed(3)} s wall → ${((seconds * parallel) / parWall).toFixed(0)} s of audio per s in total; CPUs: ${os.cpus().length}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
