/**
 * Customization errors. A failing hook never reaches the caller as an exception: the
 * runner logs a HookError and hands back the caller's defaults together with it.
 *
 * | code              | meaning                                                                  |
 * |-------------------|--------------------------------------------------------------------------|
 * | HOOK_LOAD_FAILED  | the file could not be imported/compiled (syntax error, no `default` or `handler` function export), or an executable could not be started |
 * | HOOK_UNSUPPORTED  | a `.ts` hook but the `typescript` package is not installed: use .mjs/.js  |
 * | HOOK_THREW        | the module threw or its promise rejected, or its worker thread died (process.exit, out of memory) |
 * | HOOK_TIMEOUT      | no answer within the hook's time limit (an executable is stopped, a blocked worker thread replaced), or its thread was blocked by another hook |
 * | HOOK_STATE        | the answer's `state` is not `"success"`                                  |
 * | HOOK_BAD_JSON     | an executable's stdout is not one JSON value (or is over the size limit) |
 * | HOOK_EXIT         | an executable exited with a non-zero status or was killed by a signal    |
 * | HOOK_BAD_SHAPE    | the answer or its `data` has the wrong shape; `path` names the field     |
 * | HOOK_ABORTED      | the caller's AbortSignal fired (or the runner was closed) before the answer |
 */
import { KaError } from '../../platform/errors.js';
import type { HookName } from './types.js';

export type HookErrorCode =
  | 'HOOK_LOAD_FAILED'
  | 'HOOK_UNSUPPORTED'
  | 'HOOK_THREW'
  | 'HOOK_TIMEOUT'
  | 'HOOK_STATE'
  | 'HOOK_BAD_JSON'
  | 'HOOK_EXIT'
  | 'HOOK_BAD_SHAPE'
  | 'HOOK_ABORTED';

export const HOOK_ERROR_CODES: readonly HookErrorCode[] = [
  'HOOK_LOAD_FAILED',
  'HOOK_UNSUPPORTED',
  'HOOK_THREW',
  'HOOK_TIMEOUT',
  'HOOK_STATE',
  'HOOK_BAD_JSON',
  'HOOK_EXIT',
  'HOOK_BAD_SHAPE',
  'HOOK_ABORTED',
];

export interface HookErrorOptions {
  cause?: unknown;
  /** The file that implements the hook. */
  file?: string;
  /** The time limit that was missed (HOOK_TIMEOUT). */
  timeoutMs?: number;
  /** The wrong field, e.g. `data.name` or `data._embedded.contacts[0].id` (HOOK_BAD_SHAPE). */
  path?: string;
  /** The `state` the hook answered (HOOK_STATE). */
  state?: unknown;
  /** Exit status / signal of an executable (HOOK_EXIT). */
  exitCode?: number | null;
  signal?: string | null;
  /** The executable's stderr, cut to a bounded size. */
  stderr?: string;
  [field: string]: unknown;
}

export class HookError extends KaError {
  declare readonly code: HookErrorCode;
  declare readonly hook: HookName;
  declare readonly file?: string;
  declare readonly timeoutMs?: number;
  declare readonly path?: string;
  declare readonly state?: unknown;
  declare readonly exitCode?: number | null;
  declare readonly signal?: string | null;
  declare readonly stderr?: string;

  constructor(code: HookErrorCode, hook: HookName, message: string, options: HookErrorOptions = {}) {
    super(code, `${hook}: ${message}`, { ...options, hook });
  }
}

/**
 * What to add to a message about `err`: nothing for an Error (pino's serializer
 * appends the cause's message itself), the value for anything else thrown.
 */
export function detail(err: unknown): string {
  if (err instanceof Error) return '';
  let text: string;
  try {
    text = typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    text = String(err);
  }
  return `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}
