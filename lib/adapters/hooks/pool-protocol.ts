/** The messages between the hook pool (pool.ts) and its worker threads (worker.mjs). */
import type { HookErrorCode } from './errors.js';
import type { HookFile } from './scan.js';
import type { HookName } from './types.js';

export interface WorkerRun {
  t: 'run';
  id: number;
  file: HookFile;
  /** What to import: the source, or the compiled TypeScript. */
  target: string;
  version: string;
  /** The input as JSON text (the hook gets its own copy). */
  input: string;
  timeoutMs: number;
  /** Only import the module (for `check`). */
  loadOnly?: boolean;
}

export type WorkerIn =
  | WorkerRun
  | { t: 'abort'; id: number; hook: HookName; code: HookErrorCode; reason: string }
  | { t: 'ping'; seq: number };

/** What the hook threw (or a load failure's cause). */
export type SerializedCause = { name: string; message: string; stack?: string | undefined; code?: string | undefined } | undefined;

/** A failure in the worker; the pool makes it a HookError naming the hook and file. */
export interface SerializedFailure {
  code: HookErrorCode;
  /** Without the hook's name (HookError adds it). */
  message: string;
  fields: Record<string, unknown>;
  cause: SerializedCause;
}

export type WorkerLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export type WorkerOut =
  /** The thread is up and listening (sent once). */
  | { t: 'ready' }
  | { t: 'started'; id: number }
  | { t: 'done'; id: number; ok: true; answer: string | undefined }
  | { t: 'done'; id: number; ok: false; error: SerializedFailure }
  | { t: 'ack'; id: number }
  | { t: 'pong'; seq: number }
  /** `args` is the JSON text of the logger call's arguments; id 0: not tied to a run. */
  | { t: 'log'; id: number; level: WorkerLogLevel; bindings: Record<string, unknown>; args: string };
