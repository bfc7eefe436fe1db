/**
 * wav → mp3 with lame through node-lame's file API (`new Lame({output, bitrate})
 * .setFile(input).encode()`): lame runs as a child process, off the event loop,
 * reading the wav and writing `<output>.<random>.part` itself; the part file is
 * renamed over `<output>` only when it holds mp3 data.
 *
 * Why not node-lame's `LameStream` (which could be killed): lame stops reading at
 * the end of the WAV data and exits, and the stream then fails with a premature
 * close on its last write — measured here in about 3 % of conversions.
 *
 * Timeout: node-lame's file API exposes no handle on the process, so a conversion
 * past `timeoutMs` is abandoned, not killed: the caller gets RECORDING_CONVERSION_TIMEOUT
 * at once (and links the wav); the returned `settled` promise ends when lame does,
 * after which the part file is removed. Callers hold their concurrency slot until
 * `settled`, so the bound on running lame processes stays true. lame reads a finite
 * regular file at ~1000× real time here, so an abandoned run ends soon.
 *
 * The input is checked first (./wav.ts): lame would otherwise encode any unknown
 * file as raw PCM noise and report success.
 *
 * Binary: `lamePath` when given; else node-lame's own choice — `LAME_BINARY` from the
 * environment, a bundled binary, or `lame` on the PATH (Debian's `/usr/bin/lame`).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { Lame } from 'node-lame';
import { RecordingError } from './errors.js';
import { readWavInfo, type WavInfo } from './wav.js';

/** Bitrates lame accepts for `-b`. */
export const LAME_BITRATES = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 192, 224, 256, 320] as const;
type Bitrate = (typeof LAME_BITRATES)[number];

/**
 * The part of node-lame's options used here. Its own `LameOptionsBag`
 * type resolves to `never` for every key under this tsconfig, hence the local one.
 */
interface LameFileConfig {
  output: string;
  bitrate: Bitrate;
  quiet: boolean;
}

export interface ConvertOptions {
  bitrate: number;
  timeoutMs: number;
  lamePath?: string;
  signal?: AbortSignal;
}

export interface ConvertResult {
  output: string;
  info: WavInfo;
  ms: number;
}

/** The closest bitrate lame accepts (at or below the asked one, at least 8). */
export function lameBitrate(kbps: number): Bitrate {
  let best: Bitrate = 8;
  for (const b of LAME_BITRATES) if (b <= kbps) best = b;
  return best;
}

/** Does the file start like an MP3 (ID3v2 tag or an MPEG audio frame sync)? */
export async function looksLikeMp3(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(3);
    const { bytesRead } = await fh.read(b, 0, 3, 0);
    if (bytesRead < 2) return false;
    if (b.toString('ascii', 0, 3) === 'ID3') return true;
    return b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0;
  } finally {
    await fh.close();
  }
}

export interface ConvertRun {
  /** The conversion's answer (rejects on failure or timeout). */
  result: Promise<ConvertResult>;
  /** Ends when lame has exited and its part file is cleaned up (never rejects). */
  settled: Promise<void>;
}

/** Start a conversion; see the module comment for `result` vs `settled`. */
export function startMp3Conversion(input: string, output: string, options: ConvertOptions): ConvertRun {
  const started = performance.now();
  const part = `${output}.${randomBytes(6).toString('hex')}.part`;
  let lameDone: Promise<unknown> = Promise.resolve();
  let abandoned = false;
  const work = (async (): Promise<ConvertResult> => {
    const info = await readWavInfo(input);
    if (info.dataBytes === 0) throw new RecordingError('RECORDING_UNSUPPORTED', 'WAV holds no audio');
    const config: LameFileConfig = { output: part, bitrate: lameBitrate(options.bitrate), quiet: true };
    const lame = new Lame(config as unknown as ConstructorParameters<typeof Lame>[0]);
    if (options.lamePath) lame.setLamePath(options.lamePath);
    // node-lame emits every error on this emitter with a `once` listener of its own:
    // a second error without a listener would throw out of the child's event handler.
    lame.getEmitter().on('error', () => undefined);
    lame.setFile(input);
    const encoding = lame.encode();
    lameDone = encoding.catch(() => undefined);
    await encoding;
    const { size } = await stat(part);
    if (size === 0 || !(await looksLikeMp3(part))) throw new RecordingError('RECORDING_CONVERSION_FAILED', 'lame produced no mp3 data');
    // An abandoned run leaves nothing behind: the caller already linked the wav.
    if (abandoned) throw new RecordingError('RECORDING_CONVERSION_TIMEOUT', 'conversion abandoned');
    await rename(part, output);
    return { output, info, ms: performance.now() - started };
  })();

  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RecordingError('RECORDING_CONVERSION_TIMEOUT', `conversion took longer than ${options.timeoutMs} ms`)), options.timeoutMs);
    onAbort = () => reject(new RecordingError('RECORDING_CONVERSION_TIMEOUT', 'conversion abandoned', { cause: options.signal?.reason }));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  stop.catch(() => undefined);
  const result = Promise.race([work, stop])
    .catch((err: unknown) => {
      abandoned = true;
      if (err instanceof RecordingError) throw err;
      throw new RecordingError('RECORDING_CONVERSION_FAILED', 'lame failed', { cause: err });
    })
    .finally(() => {
      clearTimeout(timer);
      if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    });
  const settled = work
    .then(
      () => undefined,
      () => undefined,
    )
    .then(() => lameDone)
    .then(() => rm(part, { force: true }))
    .catch(() => undefined);
  return { result, settled };
}

/** Convert and wait for the answer (the lame process may outlive a timeout; see `startMp3Conversion`). */
export function convertToMp3(input: string, output: string, options: ConvertOptions): Promise<ConvertResult> {
  return startMp3Conversion(input, output, options).result;
}
