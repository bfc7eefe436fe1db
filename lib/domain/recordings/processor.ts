/**
 * From the call's MixMonitor files to the link in the Kommo call record (README, "Recordings"):
 *
 * 1. pick the recording: of the candidates (the `MIXMONITOR_FILENAME` values of the
 *    call's conversations), the one of the last answered conversation when the
 *    candidate names its conversation, else the last one given, that exists inside
 *    `recordings.dir` after `realpath`;
 * 2. wait until MixMonitor has closed it (bounded by `wait_closed_ms`);
 * 3. run hook 7 `process_record_file_path` (its time limit is the loader's), which may
 *    name another file and switch conversion on or off;
 * 4. convert wav → mp3 with lame (bounded concurrency, a timeout; on failure or
 *    timeout the original file is used), the mp3 next to the wav or in `outputDir`;
 * 5. make the signed link.
 *
 * `process` never throws: any failure is logged and answers `""` (no link) or the
 * link to the unconverted file.
 */
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { CallFull } from '../call/types.js';
import type { DeepReadonly, RecordingsConfig } from '../../platform/config/types.js';
import type { HookRun, RunOptions } from '../../adapters/hooks/loader.js';
import type { HookInputs, RecordFileResult } from '../../adapters/hooks/types.js';
import { looksLikeMp3, startMp3Conversion } from './convert.js';
import { readWavInfo } from './wav.js';
import { RecordingError } from './errors.js';
import type { RecordingLinks } from './links.js';
import { realPathInside } from './paths.js';
import { Semaphore } from './semaphore.js';
import { waitUntilClosed } from './wait-closed.js';

/** A MixMonitor file; `uniqueid` names the conversation that recorded it, when known. */
export interface RecordingCandidate {
  path: string;
  uniqueid?: string;
}

export interface ProcessInput {
  linkedid: string;
  /** In the order the conversations happened. Relative names are taken inside `recordings.dir`. */
  candidates: ReadonlyArray<string | RecordingCandidate>;
  callFull: CallFull;
  /** The call's child logger; default the processor's, bound to `linkedid`. */
  logger?: Logger;
  signal?: AbortSignal;
}

/** The one hook the processor runs (a HookRunner fits). */
export interface RecordFileHook {
  run(
    hook: 'process_record_file_path',
    input: HookInputs['process_record_file_path'],
    defaults: RecordFileResult,
    opts?: RunOptions,
  ): Promise<HookRun<'process_record_file_path'>>;
}

export interface RecordingProcessorOptions {
  config: DeepReadonly<RecordingsConfig>;
  hooks: RecordFileHook;
  logger: Logger;
  links: Pick<RecordingLinks, 'makeLink'>;
  /** Where mp3 files go; default next to the wav. Must be one of the links' roots. */
  outputDir?: string;
  /** The lame binary; default `recordings.lame_path`, else node-lame's choice (LAME_BINARY, then `lame` on the PATH). */
  lamePath?: string;
  /** Poll interval while waiting for MixMonitor to close the file (default 500 ms). */
  pollMs?: number;
  /** Conversions allowed to wait for a slot (default 100); beyond, the wav is linked. */
  maxWaitingConversions?: number;
}

export interface RecordingStats {
  linked_total: number;
  converted_total: number;
  conversion_failed_total: number;
  missing_total: number;
}

export interface RecordingProcessor {
  /** The link for the call's recording, or `""`. Never throws. */
  process(input: ProcessInput): Promise<string>;
  stats(): RecordingStats;
  /** Wait for the calls in progress and for lame processes still running. Idempotent. */
  close(): Promise<void>;
  /** Stop waiting for the calls in progress (they answer the unconverted link or ""), then wait for lame to exit. Idempotent. */
  destroy(): Promise<void>;
}

/** Order candidates: answered conversations, latest answer first; then the rest, last given first. */
export function orderCandidates(candidates: ReadonlyArray<string | RecordingCandidate>, callFull: CallFull | null, dir: string): RecordingCandidate[] {
  const seen = new Set<string>();
  const list: Array<RecordingCandidate & { index: number }> = [];
  candidates.forEach((c, index) => {
    const item = typeof c === 'string' ? { path: c } : c;
    const p = typeof item.path === 'string' ? item.path.trim() : '';
    if (p === '' || p.includes('\0')) return;
    const path = isAbsolute(p) ? resolve(p) : resolve(dir, p);
    if (seen.has(path)) return;
    seen.add(path);
    list.push({ ...item, path, index });
  });
  const answeredAt = (c: RecordingCandidate): string | undefined => {
    const conv = c.uniqueid !== undefined ? callFull?.conversations[c.uniqueid] : undefined;
    return conv?.channel.was_answered ? conv.channel.answer_time : undefined;
  };
  return list
    .sort((a, b) => {
      const ta = answeredAt(a);
      const tb = answeredAt(b);
      if (ta !== undefined && tb !== undefined && ta !== tb) return ta < tb ? 1 : -1;
      if (ta !== undefined && tb === undefined) return -1;
      if (tb !== undefined && ta === undefined) return 1;
      return b.index - a.index;
    })
    .map(({ index: _index, ...c }) => c);
}

export function createRecordingProcessor(options: RecordingProcessorOptions): RecordingProcessor {
  const { config, hooks, links } = options;
  const semaphore = new Semaphore(Math.max(1, config.max_concurrent_conversions), options.maxWaitingConversions ?? 100);
  const roots = options.outputDir ? [config.dir, options.outputDir] : [config.dir];
  // `recordings.lame_path` is the configured binary (the composition root does not pass `lamePath`).
  const lamePath = options.lamePath ?? (config.lame_path || undefined);
  const stats: RecordingStats = { linked_total: 0, converted_total: 0, conversion_failed_total: 0, missing_total: 0 };
  const running = new Set<Promise<string>>();
  const controllers = new Set<AbortController>();
  /** lame processes still running (an abandoned conversion outlives its call). */
  const lameRuns = new Set<Promise<void>>();

  function mp3PathFor(wav: string): string {
    const name = `${basename(wav, extname(wav))}.mp3`;
    return join(options.outputDir ?? dirname(wav), name);
  }

  /** An mp3 made earlier from this wav (a re-processed call) is used again. */
  async function freshMp3(wav: string, mp3: string): Promise<boolean> {
    try {
      const [w, m] = await Promise.all([stat(wav), stat(mp3)]);
      return m.isFile() && m.size > 0 && m.mtimeMs >= w.mtimeMs && (await looksLikeMp3(mp3));
    } catch {
      return false;
    }
  }

  async function convert(path: string, log: Logger, signal: AbortSignal): Promise<string> {
    const mp3 = mp3PathFor(path);
    if (await freshMp3(path, mp3)) {
      log.debug({ mp3 }, 'recording already converted');
      return mp3;
    }
    try {
      if (options.outputDir) await mkdir(options.outputDir, { recursive: true });
      // The slot is held until lame has exited, even when its answer came first (timeout).
      const result = await semaphore.hold(() => {
        const run = startMp3Conversion(path, mp3, {
          bitrate: config.mp3_bitrate,
          timeoutMs: config.conversion_timeout_ms,
          signal,
          ...(lamePath ? { lamePath } : {}),
        });
        lameRuns.add(run.settled);
        void run.settled.then(() => lameRuns.delete(run.settled));
        return { result: run.result, release: run.settled };
      }, signal);
      stats.converted_total++;
      log.info({ ms: Math.round(result.ms), seconds: Math.round(result.info.durationSec) }, 'recording converted to mp3');
      return mp3;
    } catch (err) {
      stats.conversion_failed_total++;
      log.warn({ err, code: err instanceof RecordingError ? err.code : 'RECORDING_CONVERSION_FAILED' }, 'recording not converted; the original file is linked');
      return path;
    }
  }

  async function run(input: ProcessInput, signal: AbortSignal): Promise<string> {
    const log = input.logger ?? options.logger.child({ linkedid: input.linkedid });
    if (!config.enabled) return '';
    // 1. pick
    let picked: string | undefined;
    for (const c of orderCandidates(input.candidates, input.callFull, config.dir)) {
      const real = await realPathInside(c.path, [config.dir]);
      if (real !== undefined) {
        picked = real;
        break;
      }
      log.debug({ path: c.path }, 'recording candidate missing or outside recordings.dir');
    }
    if (picked === undefined) {
      stats.missing_total++;
      log.warn({ candidates: input.candidates.length }, 'no recording found for the call');
      return '';
    }
    // 2. wait until MixMonitor closed it
    const wait = await waitUntilClosed(picked, {
      timeoutMs: config.wait_closed_ms,
      signal,
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    });
    if (wait.size === 0) {
      stats.missing_total++;
      log.warn({ path: picked }, 'recording is empty');
      return '';
    }
    if (!wait.closed) log.warn({ path: picked, waitedMs: Math.round(wait.waitedMs) }, 'recording still being written; linked without conversion');
    // A finished WAV with a header and no samples (a call that was never bridged) is no recording.
    if (wait.closed && extname(picked).toLowerCase() === '.wav' && (await wavHasNoAudio(picked))) {
      stats.missing_total++;
      log.info({ path: picked }, 'recording holds no audio (the call was never answered); no link');
      return '';
    }
    // 3. hook 7
    const defaults: RecordFileResult = { path: picked, convert_to_mp3: config.convert_to_mp3 };
    const hook = await hooks.run('process_record_file_path', { call_full: input.callFull, path: picked }, defaults, { logger: log, signal });
    let path = picked;
    if (hook.applied && hook.data.path !== picked) {
      const chosen = isAbsolute(hook.data.path) ? await realPathInside(resolve(hook.data.path), roots) : undefined;
      if (chosen === undefined) log.warn({ path: hook.data.path }, 'process_record_file_path named a file that is missing or outside the recordings directories; the original is used');
      else path = chosen;
    }
    const wantMp3 = (hook.applied ? hook.data.convert_to_mp3 : undefined) ?? config.convert_to_mp3;
    // 4. convert
    if (wantMp3 && wait.closed && extname(path).toLowerCase() === '.wav') path = await convert(path, log, signal);
    // 5. link
    try {
      const link = await links.makeLink(path);
      stats.linked_total++;
      return link;
    } catch (err) {
      log.warn({ err, code: err instanceof RecordingError ? err.code : undefined }, 'recording link not made');
      return '';
    }
  }

  return {
    process(input) {
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(input.signal?.reason);
      input.signal?.addEventListener('abort', onAbort, { once: true });
      controllers.add(controller);
      const p = run(input, controller.signal)
        .catch((err: unknown) => {
          (input.logger ?? options.logger).error({ err, linkedid: input.linkedid }, 'recording processing failed');
          return '';
        })
        .finally(() => {
          controllers.delete(controller);
          running.delete(p);
          input.signal?.removeEventListener('abort', onAbort);
        });
      running.add(p);
      return p;
    },
    stats: () => ({ ...stats }),
    async close() {
      await Promise.all([...running]);
      await Promise.all([...lameRuns]);
    },
    async destroy() {
      for (const c of controllers) c.abort(new Error('recording processor destroyed'));
      await Promise.all([...running]);
      await Promise.all([...lameRuns]);
    },
  };
}

/** True for a well-formed WAV whose data chunk is empty; false when it has audio or cannot be read as a WAV. */
async function wavHasNoAudio(path: string): Promise<boolean> {
  try {
    return (await readWavInfo(path)).dataBytes === 0;
  } catch {
    return false;
  }
}
