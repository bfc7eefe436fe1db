/**
 * A bounded pool of worker threads that run module customizations (worker.mjs), so
 * that nothing a hook does — an endless loop, heavy CPU, synchronous `fs` or
 * `child_process`, a runaway heap — can stop the connector's event loop.
 *
 *   const pool = createHookPool({ size: 2, logger });
 *   const json = await pool.run({ file, target, version, input, timeoutMs, signal, logger });
 *
 * - `run` settles at the time limit or when `signal` fires, whatever the hook does:
 *   the timer lives on the connector's thread, which the hook cannot block.
 * - At that moment the worker is told to abort (the hook's `context.signal` fires).
 *   A worker that does not acknowledge within `graceMs`, or has missed its heartbeat
 *   already, has a blocked event loop: it is terminated and replaced at once. Its other hooks that had started fail with
 *   HOOK_TIMEOUT; those it had not started yet run on another worker.
 * - A worker whose heartbeat is late gets no new work until it answers again; when
 *   every worker is late, work waits in a bounded queue (its time limit still runs).
 * - A worker that exits (a hook called `process.exit`, or ran out of its
 *   `memoryMb` heap) is replaced the same way.
 * Several hooks may run at once in one worker (async hooks waiting on I/O).
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { ENV_BINDINGS } from '../../platform/config/env.js';
import { HookError } from './errors.js';
import type { SerializedFailure, WorkerIn, WorkerOut } from './pool-protocol.js';
import type { HookFile } from './scan.js';

export interface HookPoolOptions {
  /** Worker threads (customizations.workers). */
  size: number;
  logger: Logger;
  /** Heap limit of one worker, MiB (customizations.worker_memory_mb). */
  memoryMb?: number;
  /** How long a worker may take to acknowledge an abort before it is terminated (default 100 ms). */
  graceMs?: number;
  /** Heartbeat period while a worker has work; one missed beat and it gets no new work (default 100 ms). */
  heartbeatMs?: number;
  /** Runs waiting for a worker; more fail at once with HOOK_TIMEOUT (default 10,000). */
  maxQueued?: number;
}

export interface PoolRun {
  file: HookFile;
  target: string;
  version: string;
  /** JSON text of the input. */
  input: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Where the hook's `context.logger` lines go. */
  logger: Logger;
  /** Only import the module (check). */
  loadOnly?: boolean;
}

export interface PoolStats {
  workers: number;
  /** Workers terminated or lost and replaced since start. */
  replaced: number;
  running: number;
  queued: number;
}

export interface HookPool {
  /** Resolves to the JSON text of the hook's answer (undefined when it returned nothing). */
  run(run: PoolRun): Promise<string | undefined>;
  /** Start the workers now (the first run would otherwise pay for it). */
  warm(): void;
  stats(): PoolStats;
  /** Fail what is queued or running with HOOK_ABORTED and stop every worker. Idempotent. */
  close(): Promise<void>;
}

interface Job {
  id: number;
  run: PoolRun;
  slot: Slot | undefined;
  started: boolean;
  settled: boolean;
  resolve(answer: string | undefined): void;
  reject(err: HookError): void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  /** When the outstanding heartbeat was sent, if one is. */
  pingAt: number | undefined;
  gone: boolean;
  /** The thread started (a worker that fails before is not respawned in a hot loop). */
  online: boolean;
}

const WORKER_URL = new URL('./worker.mjs', import.meta.url);
/** Loaders the connector was started with (a test runner's TypeScript loader) are not for hooks: they would cost every worker seconds. */
const WORKER_EXEC_ARGV = process.execArgv.filter((arg) => !/^--(import|loader|experimental-loader|require)\b/.test(arg));
/** The longest a first thread start may add to a time limit. */
const MAX_START_MS = 5000;

/** Not handed to hooks: the connector's secrets, and NODE_OPTIONS (its loaders are the connector's, see WORKER_EXEC_ARGV). */
const HIDDEN_ENV = new Set([...ENV_BINDINGS.map((b) => b.name).filter((name) => /SECRET|TOKEN/.test(name)), 'NODE_OPTIONS']);

/** The environment of a worker: the connector's, without its secrets. */
function workerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  // AMI_SECRET_<NAME>: one server's AMI password when there are several (config/env.ts).
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !HIDDEN_ENV.has(key) && !key.startsWith('AMI_SECRET_')) env[key] = value;
  return env;
}

/** The HookError for what a worker sent. */
function reviveError(hook: HookFile, err: SerializedFailure): HookError {
  let cause: Error | undefined;
  if (err.cause) {
    cause = new Error(err.cause.message);
    cause.name = err.cause.name;
    if (err.cause.stack) cause.stack = err.cause.stack;
    if (err.cause.code) Object.assign(cause, { code: err.cause.code });
  }
  return new HookError(err.code, hook.hook, err.message, { ...err.fields, file: hook.file, cause });
}

export function createHookPool(options: HookPoolOptions): HookPool {
  const { size, logger } = options;
  const graceMs = options.graceMs ?? 100;
  const heartbeatMs = options.heartbeatMs ?? 100;
  const maxQueued = options.maxQueued ?? 10_000;
  const slots: Slot[] = [];
  const queue: Job[] = [];
  const live = new Map<number, Job>();
  let nextId = 1;
  let pingSeq = 0;
  let replaced = 0;
  let closed = false;
  let beat: NodeJS.Timeout | undefined;
  let respawn: NodeJS.Timeout | undefined;
  /** A thread of this pool has started once: time limits run from the call from now on. */
  let started = false;
  const waitingForStart: Array<() => void> = [];
  let failedStarts = 0;

  const responsive = (slot: Slot, now: number): boolean => slot.pingAt === undefined || now - slot.pingAt < heartbeatMs;

  const spawn = (): Slot => {
    const worker = new Worker(WORKER_URL, {
      env: workerEnv(),
      execArgv: WORKER_EXEC_ARGV,
      stdout: true,
      stderr: true,
      resourceLimits: options.memoryMb ? { maxOldGenerationSizeMb: options.memoryMb } : undefined,
    });
    worker.unref();
    const slot: Slot = { worker, jobs: new Map(), pingAt: undefined, gone: false, online: false };
    worker.on('message', (message: WorkerOut) => onMessage(slot, message));
    worker.on('error', (err) => lose(slot, 'HOOK_THREW', `it failed: ${err.message}`, err));
    worker.on('exit', (code) => lose(slot, 'HOOK_THREW', `it exited with code ${code}`));
    for (const [name, stream] of [['stdout', worker.stdout], ['stderr', worker.stderr]] as const) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => logger.info({ [name]: text.length > 8192 ? `${text.slice(0, 8192)}…[cut]` : text }, `a customization wrote to ${name}; use context.logger`));
    }
    slots.push(slot);
    return slot;
  };

  const fill = (): void => {
    while (!closed && !respawn && slots.length < size) spawn();
  };

  /** Threads that die before they start are started again with a growing delay. */
  const fillLater = (): void => {
    if (respawn || closed) return;
    failedStarts++;
    respawn = setTimeout(() => {
      respawn = undefined;
      fill();
      dispatch();
    }, Math.min(100 * 2 ** (failedStarts - 1), 5000));
    respawn.unref();
  };

  const post = (slot: Slot, message: WorkerIn): void => {
    if (!slot.gone) slot.worker.postMessage(message);
  };

  const dispatch = (): void => {
    const now = performance.now();
    while (queue.length > 0) {
      let best: Slot | undefined;
      for (const slot of slots) {
        if (!slot.gone && responsive(slot, now) && (!best || slot.jobs.size < best.jobs.size)) best = slot;
      }
      if (!best) return;
      const job = queue.shift() as Job;
      job.slot = best;
      best.jobs.set(job.id, job);
      const { file, target, version, input, timeoutMs, loadOnly } = job.run;
      post(best, { t: 'run', id: job.id, file, target, version, input, timeoutMs, loadOnly });
      startBeat();
    }
  };

  const settle = (job: Job, err: HookError | undefined, answer?: string): void => {
    if (job.settled) return;
    job.settled = true;
    live.delete(job.id);
    job.slot?.jobs.delete(job.id);
    const at = queue.indexOf(job);
    if (at >= 0) queue.splice(at, 1);
    if (err) job.reject(err);
    else job.resolve(answer);
  };

  /**
   * The worker is gone or must go: fail what it started (HOOK_TIMEOUT when it was
   * stopped for blocking, HOOK_THREW when it died), move what it had not started.
   */
  const lose = (slot: Slot, code: 'HOOK_TIMEOUT' | 'HOOK_THREW', why: string, err?: Error): void => {
    if (slot.gone) return;
    slot.gone = true;
    slots.splice(slots.indexOf(slot), 1);
    void slot.worker.terminate();
    if (closed) return;
    replaced++;
    const moved: Job[] = [];
    for (const job of slot.jobs.values()) {
      if (job.started) {
        settle(job, new HookError(code, job.run.file.hook, `its worker thread was lost: ${why}`, { file: job.run.file.file, timeoutMs: job.run.timeoutMs, cause: err }));
      } else {
        job.slot = undefined;
        moved.push(job);
      }
    }
    slot.jobs.clear();
    logger.warn({ err, why, moved: moved.length }, 'customization worker replaced');
    queue.unshift(...moved);
    if (slot.online) fill();
    else fillLater();
    dispatch();
  };

  const onMessage = (slot: Slot, message: WorkerOut): void => {
    if (message.t === 'ready') {
      slot.online = true;
      failedStarts = 0;
      if (!started) {
        started = true;
        for (const start of waitingForStart.splice(0)) start();
      }
      return;
    }
    if (message.t === 'pong') {
      slot.pingAt = undefined;
      dispatch();
      return;
    }
    if (message.t === 'log') {
      const job = live.get(message.id);
      let args: unknown[];
      try {
        args = JSON.parse(message.args) as unknown[];
      } catch {
        args = [message.args];
      }
      const log = (job?.run.logger ?? logger).child(message.bindings);
      (log[message.level] as (...a: unknown[]) => void).apply(log, args);
      return;
    }
    const job = slot.jobs.get(message.id);
    if (!job) return; // settled already (time limit, abort)
    if (message.t === 'started') job.started = true;
    else if (message.t === 'done') {
      settle(job, message.ok ? undefined : reviveError(job.run.file, message.error), message.ok ? message.answer : undefined);
    }
  };

  /** The answer is no longer wanted: tell the worker; a worker that cannot hear it is blocked. */
  const giveUp = (job: Job, err: HookError): void => {
    const slot = job.slot;
    settle(job, err);
    if (!slot || slot.gone) return;
    if (!responsive(slot, performance.now())) {
      // It has missed a heartbeat already: its loop is blocked now, no grace to wait for.
      lose(slot, 'HOOK_TIMEOUT', `${job.run.file.hook} did not give its thread back (${err.code}; the thread missed its heartbeat)`);
      return;
    }
    post(slot, { t: 'abort', id: job.id, hook: job.run.file.hook, code: err.code, reason: err.message });
    const timer = setTimeout(() => lose(slot, 'HOOK_TIMEOUT', `${job.run.file.hook} did not give its thread back within ${graceMs} ms of ${err.code}`), graceMs);
    timer.unref();
    const onAck = (message: WorkerOut): void => {
      if (message.t !== 'ack' || message.id !== job.id) return;
      clearTimeout(timer);
      slot.worker.off('message', onAck);
    };
    slot.worker.on('message', onAck);
  };

  function startBeat(): void {
    if (beat || closed) return;
    beat = setInterval(() => {
      const now = performance.now();
      let busy = false;
      for (const slot of slots) {
        if (slot.jobs.size === 0) {
          slot.pingAt = undefined;
          continue;
        }
        busy = true;
        if (slot.pingAt === undefined) {
          slot.pingAt = now;
          post(slot, { t: 'ping', seq: ++pingSeq });
        }
      }
      if (!busy && queue.length === 0) {
        clearInterval(beat);
        beat = undefined;
      }
    }, heartbeatMs);
    beat.unref();
  }

  const run = (request: PoolRun): Promise<string | undefined> =>
    new Promise<string | undefined>((resolve, reject) => {
      const { file, timeoutMs, signal } = request;
      if (closed || signal.aborted) {
        reject(new HookError('HOOK_ABORTED', file.hook, 'aborted before the answer', { file: file.file, cause: signal.reason }));
        return;
      }
      if (queue.length >= maxQueued) {
        reject(new HookError('HOOK_TIMEOUT', file.hook, `${maxQueued} customization runs are already waiting for a worker`, { file: file.file, timeoutMs }));
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const startTimer = (extraMs = 0): void => {
        clearTimeout(timer);
        if (job.settled) return;
        timer = setTimeout(() => giveUp(job, new HookError('HOOK_TIMEOUT', file.hook, `no answer within ${timeoutMs} ms`, { file: file.file, timeoutMs })), timeoutMs + extraMs);
      };
      const onAbort = (): void => giveUp(job, new HookError('HOOK_ABORTED', file.hook, 'aborted before the answer', { file: file.file, cause: signal.reason }));
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const job: Job = {
        id: nextId++,
        run: request,
        slot: undefined,
        started: false,
        settled: false,
        resolve: (answer) => {
          done();
          resolve(answer);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // The limit is the hook's time: the pool's first thread start (tens of ms, once) is not
      // counted. A caller that cannot wait (autodistribution) has its own signal.
      if (started) startTimer();
      else {
        startTimer(MAX_START_MS); // a pool whose threads cannot start still answers
        waitingForStart.push(() => startTimer());
      }
      live.set(job.id, job);
      queue.push(job);
      fill();
      dispatch();
    });

  return {
    run,
    warm: fill,
    stats: () => ({ workers: slots.length, replaced, running: live.size - queue.length, queued: queue.length }),
    close: async () => {
      if (closed) return;
      closed = true;
      if (beat) clearInterval(beat);
      if (respawn) clearTimeout(respawn);
      for (const job of [...live.values()]) {
        settle(job, new HookError('HOOK_ABORTED', job.run.file.hook, 'the customization runner is closing', { file: job.run.file.file }));
      }
      const workers = slots.splice(0).map((slot) => {
        slot.gone = true;
        return slot.worker.terminate();
      });
      await Promise.allSettled(workers);
    },
  };
}
