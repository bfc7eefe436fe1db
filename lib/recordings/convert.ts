/**
 * wav → mp3 with lame, through node-lame's `LameStream`: lame runs as a child
 * process (off the event loop); the file is streamed into its stdin and its stdout
 * into `<output>.<random>.part`, renamed over `<output>` only on success. On timeout
 * or abort the stream is destroyed, which kills lame, and the part file is removed.
 *
 * The input is checked first (./wav.ts): lame would otherwise encode any unknown
 * file as raw PCM noise and report success.
 *
 * Binary: `lamePath` when given; else node-lame's own choice — `LAME_BINARY` from the
 * environment, a bundled binary, or `lame` on the PATH (Debian's `/usr/bin/lame`).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { LameStream } from 'node-lame';
import { RecordingError } from './errors.js';
import { readWavInfo, type WavInfo } from './wav.js';

/** Bitrates lame accepts for `-b`. */
export const LAME_BITRATES = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 192, 224, 256, 320] as const;
type Bitrate = (typeof LAME_BITRATES)[number];

/**
 * The part of node-lame's stream options used here. Its own `LameStreamConfig`
 * type resolves to `never` for every key under this tsconfig, hence the local one.
 */
interface LameStreamConfig {
  mode: 'encode';
  bitrate: Bitrate;
  binaryPath?: string;
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

export async function convertToMp3(input: string, output: string, options: ConvertOptions): Promise<ConvertResult> {
  const started = performance.now();
  const info = await readWavInfo(input);
  if (info.dataBytes === 0) throw new RecordingError('RECORDING_UNSUPPORTED', 'WAV holds no audio');
  const part = `${output}.${randomBytes(6).toString('hex')}.part`;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('conversion timeout'));
  }, options.timeoutMs);
  try {
    const config: LameStreamConfig = { mode: 'encode', bitrate: lameBitrate(options.bitrate) };
    if (options.lamePath) config.binaryPath = options.lamePath;
    const lame = new LameStream(config as unknown as ConstructorParameters<typeof LameStream>[0]);
    // node-lame emits errors on this emitter as well; an EventEmitter 'error' without
    // a listener would throw out of the child's event handler.
    lame.getEmitter().on('error', () => undefined);
    await pipeline(createReadStream(input), lame, createWriteStream(part, { flags: 'wx', mode: 0o640 }), { signal: controller.signal });
    const { size } = await stat(part);
    if (size === 0 || !(await looksLikeMp3(part))) {
      throw new RecordingError('RECORDING_CONVERSION_FAILED', 'lame produced no mp3 data');
    }
    await rename(part, output);
    return { output, info, ms: performance.now() - started };
  } catch (err) {
    await rm(part, { force: true }).catch(() => undefined);
    if (timedOut) throw new RecordingError('RECORDING_CONVERSION_TIMEOUT', `conversion took longer than ${options.timeoutMs} ms`, { cause: err });
    if (err instanceof RecordingError) throw err;
    throw new RecordingError('RECORDING_CONVERSION_FAILED', 'lame failed', { cause: err });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
