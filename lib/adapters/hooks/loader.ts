/**
 * The customization runner shared by the FastAGI server and the AMI bridge.
 *
 *   const hooks = createHookRunner({ dir, timeoutMs, timeouts, logger });
 *   const { data, applied, error } = await hooks.run('process_client_phone', input, defaults, { logger: callLog });
 *
 * `run` never throws and never waits longer than the hook's time limit: whatever goes
 * wrong is logged with the hook's name and code, and the caller gets its `defaults`
 * back with `applied: false` and the HookError. A hook is off until its file exists.
 *
 * Module hooks run in a pool of worker threads (pool.ts), executables as child
 * processes (exec.ts): a hook that spins or blocks stops its own thread or process,
 * never the connector's event loop, and the time limit always fires.
 *
 * Cost: an inactive hook costs nothing but a look at the cached directory listing
 * (re-read at most every `rescanMs`, 1 s by default); an active one one `stat` per run,
 * which is also how an edited file is noticed — and re-imported — without a restart.
 * A module run adds one message round trip to a worker (tens of microseconds).
 */
import { setMaxListeners } from 'node:events';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { HookError, detail } from './errors.js';
import { runExecutable } from './exec.js';
import { ModuleLoader } from './modules.js';
import { createHookPool, type PoolStats } from './pool.js';
import { scanDir, scanDirSync, type HookFile, type ScanNote, type ScanResult } from './scan.js';
import { validateHookData } from './shapes.js';
import { HOOK_NAMES, isHookName, type HookInputs, type HookName, type HookOutputs } from './types.js';

/** Default time limit of `process_record_file_path` (recording conversion is slow). */
export const RECORD_FILE_PATH_TIMEOUT_MS = 10_000;

export interface HookRunnerOptions {
  /** The customizations directory. */
  dir: string;
  /** Default time limit of every hook. */
  timeoutMs: number;
  /** Per-hook overrides. Unknown hook names are reported at creation. */
  timeouts?: Readonly<Record<string, number>>;
  logger: Logger;
  /** How long a directory listing is trusted (default 1000 ms). */
  rescanMs?: number;
  /** Worker threads for module hooks (default 2). */
  workers?: number;
  /** Heap limit of one worker thread, MiB (default 256). */
  workerMemoryMb?: number;
}

export interface RunOptions {
  /** The per-call child logger; defaults to the runner's. */
  logger?: Logger;
  /** Stop waiting (an executable is killed); the defaults are used. */
  signal?: AbortSignal;
}

export interface HookRun<H extends HookName> {
  data: HookOutputs[H];
  /** True when the hook ran and its data is used. */
  applied: boolean;
  error?: HookError;
}

export interface HookCheck {
  hook: HookName;
  file: string;
  kind: HookFile['kind'];
  ok: boolean;
  error?: HookError;
}

export interface HookRunner {
  run<H extends HookName>(hook: H, input: HookInputs[H], defaults: HookOutputs[H], opts?: RunOptions): Promise<HookRun<H>>;
  /** Active hooks (files present), in hook-number order, as of the last directory listing. */
  active(): HookName[];
  /** Whether `hook`'s file was present at the last listing (cheap; the listing is re-read at most every rescanMs). */
  isActive(hook: HookName): boolean;
  /** Re-read the directory now; resolves to the active hooks. */
  scan(): Promise<HookName[]>;
  /** Load every active module (executables: present and executable) — for `check` and the status page. */
  check(): Promise<HookCheck[]>;
  /** The module hooks' worker threads. */
  workers(): PoolStats;
  /** Read-only: each hook's last failed run since start (not aborts), for the admin panel. */
  lastErrors(): Partial<Record<HookName, { at: number; code: string; message: string }>>;
  /** Abort running hooks (executables are killed, workers stopped) and turn every hook off. Idempotent. */
  close(): Promise<void>;
}

/** The time limit of one hook: its override, else 10 s for hook 7, else the default. */
export function hookTimeout(hook: HookName, timeoutMs: number, timeouts: Readonly<Record<string, number>> = {}): number {
  return timeouts[hook] ?? (hook === 'process_record_file_path' ? RECORD_FILE_PATH_TIMEOUT_MS : timeoutMs);
}

interface Loaded {
  file: string;
  version: string;
  /** The file a worker imports (TypeScript: compiled here, once per version). */
  target: Promise<string>;
}

const WARN_CODES = new Set(['HOOK_TIMEOUT', 'HOOK_STATE']);

/**
 * One signal that fires when either does; `release` removes the listeners (a
 * long-lived runner signal must not collect one listener per run).
 */
function linkSignals(callerSignal: AbortSignal | undefined, runnerSignal: AbortSignal): { signal: AbortSignal; release: () => void } {
  if (!callerSignal) return { signal: runnerSignal, release: () => undefined };
  const linked = new AbortController();
  const onCaller = (): void => linked.abort(callerSignal.reason);
  const onRunner = (): void => linked.abort(runnerSignal.reason);
  if (callerSignal.aborted) onCaller();
  else if (runnerSignal.aborted) onRunner();
  else {
    callerSignal.addEventListener('abort', onCaller, { once: true });
    runnerSignal.addEventListener('abort', onRunner, { once: true });
  }
  return {
    signal: linked.signal,
    release: () => {
      callerSignal.removeEventListener('abort', onCaller);
      runnerSignal.removeEventListener('abort', onRunner);
    },
  };
}

export function createHookRunner(options: HookRunnerOptions): HookRunner {
  const { dir, timeoutMs, logger } = options;
  const timeouts = options.timeouts ?? {};
  const rescanMs = options.rescanMs ?? 1000;
  const modules = new ModuleLoader();
  const pool = createHookPool({ size: options.workers ?? 2, memoryMb: options.workerMemoryMb ?? 256, logger });
  const loaded = new Map<HookName, Loaded>();
  const noted = new Set<string>();
  const closer = new AbortController();
  setMaxListeners(0, closer.signal); // one listener per hook in flight, removed when it settles
  let listing = new Map<HookName, HookFile>();
  let scannedAt = 0;
  let scanning: Promise<void> | undefined;
  /** The directory listing is recent enough to be trusted. */
  const listingFresh = (now = performance.now()): boolean => now - scannedAt < rescanMs;
  let closed = false;

  for (const key of Object.keys(timeouts)) {
    if (!isHookName(key)) logger.warn({ hook: key, known: HOOK_NAMES }, 'customizations.timeouts names an unknown hook; ignored');
  }

  const noteOnce = (note: ScanNote): void => {
    const key = `${note.reason}:${note.name}`;
    if (noted.has(key)) return;
    noted.add(key);
    const fields = { dir, file: note.name, usedInstead: note.usedInstead };
    if (note.reason === 'unknown_name') logger.info(fields, 'customizations: file does not name a hook; ignored');
    else if (note.reason === 'not_executable') logger.warn(fields, 'customizations: file named after a hook is not a module and not executable (chmod +x?); ignored');
    else logger.warn(fields, 'customizations: several files for one hook; only one is used');
  };

  const apply = (result: ScanResult): void => {
    if (closed) return;
    if (result.error && result.error.code !== 'ENOENT') {
      logger.error({ dir, err: result.error }, 'customizations: cannot list the directory; hooks off');
    } else if (result.error && !noted.has('dir:ENOENT')) {
      noted.add('dir:ENOENT');
      logger.info({ dir }, 'customizations: directory does not exist; hooks off');
    }
    const before = [...listing.keys()].join(',');
    listing = new Map(result.files.map((f) => [f.hook, f]));
    scannedAt = performance.now();
    for (const note of result.notes) noteOnce(note);
    if (result.files.some((f) => f.kind === 'typescript')) void modules.warmTypeScript();
    if (result.files.some((f) => f.kind !== 'executable')) pool.warm();
    const after = [...listing.keys()].join(',');
    if (before !== after) logger.info({ dir, hooks: [...listing.keys()] }, 'customizations: active hooks');
  };

  const refresh = (): Promise<void> => {
    scanning ??= scanDir(dir)
      .then(apply)
      .finally(() => {
        scanning = undefined;
      });
    return scanning;
  };

  apply(scanDirSync(dir));

  /** The file of an active hook, with its version, or undefined (→ defaults, no error). */
  const locate = async (hook: HookName): Promise<{ hf: HookFile; version: string } | undefined> => {
    if (!listingFresh()) await refresh();
    const hf = listing.get(hook);
    if (!hf) return undefined;
    try {
      const st = await stat(hf.file);
      if (!st.isFile() || (hf.kind === 'executable' && (st.mode & 0o111) === 0)) throw new Error('not usable');
      return { hf, version: `${Math.trunc(st.mtimeMs * 1000)}-${st.size}-${st.ino}` };
    } catch {
      scannedAt = 0; // gone or changed kind: the next run lists the directory again
      loaded.delete(hook);
      return undefined;
    }
  };

  /** The file to import for this version of a module hook (compiled once per change). */
  const moduleTarget = (hf: HookFile, version: string): Promise<string> => {
    const current = loaded.get(hf.hook);
    if (current && current.file === hf.file && current.version === version) return current.target;
    const target = modules.prepare(hf);
    target.catch(() => undefined); // awaited by the caller; keeps a cached failure from being "unhandled"
    loaded.set(hf.hook, { file: hf.file, version, target });
    if (current) logger.info({ hook: hf.hook, file: hf.file }, 'customization changed; reloading');
    return target;
  };

  /**
   * Load (if changed) and call a module hook in a worker thread, both within the time
   * limit and the abort signal: a module whose top-level code hangs is cut off like a
   * slow handler, and one that blocks its thread loses the thread, not the connector.
   */
  const callModule = async (hf: HookFile, version: string, input: string, limit: number, signal: AbortSignal, log: Logger, loadOnly = false): Promise<unknown> => {
    const target = await moduleTarget(hf, version);
    const text = await pool.run({ file: hf, target, version, input, timeoutMs: limit, signal, logger: log, loadOnly });
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  };

  /**
   * Check the envelope and the data. `plain` is always a freshly parsed JSON value: a
   * module's answer arrives as JSON text from its worker (which reports one that is not
   * JSON-able), an executable's is its stdout.
   */
  const accept = <H extends HookName>(hook: H, hf: HookFile, plain: unknown): HookOutputs[H] => {
    if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
      throw new HookError('HOOK_BAD_SHAPE', hook, 'the answer must be {"state":"success","data":{…}}', { file: hf.file, path: '$' });
    }
    const { state, data } = plain as { state?: unknown; data?: unknown };
    if (state !== 'success') {
      throw new HookError('HOOK_STATE', hook, `state is ${JSON.stringify(state) ?? 'missing'}, not "success"`, { file: hf.file, state });
    }
    const checked = validateHookData(hook, data);
    if (!checked.ok) throw new HookError('HOOK_BAD_SHAPE', hook, checked.message, { file: hf.file, path: checked.path });
    return checked.data;
  };

  const lastErrors: Partial<Record<HookName, { at: number; code: string; message: string }>> = {};

  const run = async <H extends HookName>(hook: H, input: HookInputs[H], defaults: HookOutputs[H], opts: RunOptions = {}): Promise<HookRun<H>> => {
    const log = opts.logger ?? logger;
    if (closed) return { data: defaults, applied: false };
    const started = performance.now();
    // An inactive hook, listing still fresh: nothing to link, stat or wait for.
    if (listingFresh(started) && !listing.has(hook)) return { data: defaults, applied: false };
    let file: string | undefined;
    const limit = hookTimeout(hook, timeoutMs, timeouts);
    const { signal, release } = linkSignals(opts.signal, closer.signal);
    try {
      const found = await locate(hook);
      if (!found) return { data: defaults, applied: false };
      const { hf, version } = found;
      file = hf.file;
      let answer: unknown;
      if (hf.kind === 'executable') {
        const result = await runExecutable({ hook, file: hf.file, input: JSON.stringify(input), timeoutMs: limit, signal });
        if (result.stderr) log.info({ hook, file, stderr: result.stderr }, 'customization wrote to stderr');
        answer = result.value;
      } else {
        // Our own set-up, not the hook's time: the compiler loads once per process.
        if (hf.kind === 'typescript') await modules.warmTypeScript();
        answer = await callModule(hf, version, JSON.stringify(input), limit, signal, log);
      }
      const data = accept(hook, hf, answer);
      const ms = Math.round(performance.now() - started);
      // Hook 10's data is used by nobody: the log is where it goes.
      if (hook === 'post_registration') log.debug({ hook, file, ms, data }, 'customization applied');
      else log.debug({ hook, file, ms }, 'customization applied');
      return { data, applied: true };
    } catch (err) {
      const error =
        err instanceof HookError ? err : new HookError('HOOK_THREW', hook, `failed${detail(err)}`, { file, cause: err });
      const fields = { hook, code: error.code, file, ms: Math.round(performance.now() - started), err: error };
      const message = 'customization failed; defaults used';
      if (error.code !== 'HOOK_ABORTED') lastErrors[hook] = { at: Date.now(), code: error.code, message: error.message };
      if (error.code === 'HOOK_ABORTED') log.debug(fields, message);
      else if (WARN_CODES.has(error.code)) log.warn(fields, message);
      else log.error(fields, message);
      return { data: defaults, applied: false, error };
    } finally {
      release();
    }
  };

  return {
    run,
    active: () => [...listing.keys()],
    isActive: (hook) => {
      if (!listingFresh()) void refresh();
      return listing.has(hook);
    },
    workers: () => pool.stats(),
    lastErrors: () => ({ ...lastErrors }),
    scan: async () => {
      if (!closed) await refresh();
      return [...listing.keys()];
    },
    check: async () => {
      await refresh();
      const out: HookCheck[] = [];
      for (const hf of listing.values()) {
        const found = await locate(hf.hook);
        if (!found) continue;
        try {
          if (hf.kind !== 'executable') {
            const limit = hookTimeout(hf.hook, timeoutMs, timeouts);
            await callModule(hf, found.version, 'null', limit, closer.signal, logger, true);
          }
          out.push({ hook: hf.hook, file: hf.file, kind: hf.kind, ok: true });
        } catch (err) {
          out.push({ hook: hf.hook, file: hf.file, kind: hf.kind, ok: false, error: err as HookError });
        }
      }
      return out;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      closer.abort(new Error('the customization runner is closing'));
      listing = new Map();
      loaded.clear();
      await scanning?.catch(() => undefined);
      await pool.close();
      await modules.close();
    },
  };
}
