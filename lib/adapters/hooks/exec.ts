/**
 * Running an executable customization: spawned directly (no shell), the input as one
 * JSON document on stdin, one JSON document expected on stdout, stderr kept (bounded)
 * for the log. The child runs in its own process group so that the whole group —
 * a shell script's own children included — is stopped at the time limit: SIGTERM
 * first, SIGKILL `killGraceMs` later if anything of it is still there. The answer does
 * not wait for that: the caller has its HOOK_TIMEOUT at the time limit.
 */
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { HookError } from './errors.js';
import type { HookName } from './types.js';

export interface ExecOptions {
  hook: HookName;
  file: string;
  /** The input, already serialised. */
  input: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Bytes of stdout accepted (default 1 MiB). */
  maxStdout?: number;
  /** Bytes of stderr kept for the log (default 8 KiB). */
  maxStderr?: number;
  /** Between SIGTERM and SIGKILL when the program is stopped (default 1000 ms). */
  killGraceMs?: number;
}

export interface ExecResult {
  /** The parsed stdout. */
  value: unknown;
  /** What the program wrote to stderr (cut to maxStderr), or "". */
  stderr: string;
}

/** Environment variables passed through; the connector's secrets are never handed on. */
const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'TZ', 'TMPDIR', 'USER', 'LOGNAME'];

function childEnv(hook: HookName, timeoutMs: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of PASSED_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  env.KA_HOOK = hook;
  env.KA_HOOK_TIMEOUT_MS = String(timeoutMs);
  return env;
}

export function runExecutable(opts: ExecOptions): Promise<ExecResult> {
  const { hook, file, timeoutMs, signal } = opts;
  const maxStdout = opts.maxStdout ?? 1024 * 1024;
  const maxStderr = opts.maxStderr ?? 8 * 1024;

  return new Promise<ExecResult>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new HookError('HOOK_ABORTED', hook, 'aborted before start', { file, cause: signal.reason }));
      return;
    }
    let settled = false;
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let overflow = false;
    const stderrChunks: Buffer[] = [];
    let stderrBytes = 0;
    let stderrCut = false;

    const child = spawn(file, [], {
      cwd: dirname(file),
      env: childEnv(hook, timeoutMs),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group, killed as a whole
      windowsHide: true,
    });

    const stderrText = (): string => {
      const text = Buffer.concat(stderrChunks).toString('utf8');
      return stderrCut ? `${text}…[cut]` : text;
    };

    let closed = false;
    let exited = false;
    // Signal the whole group (a script's own children too) unless every pipe has closed.
    const signalGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined || closed) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        if (!exited) child.kill(sig); // no such group any more; make sure the leader gets it too
      }
    };
    // SIGTERM lets a script clean up; what is still there after the grace gets SIGKILL.
    const killGroup = (): void => {
      signalGroup('SIGTERM');
      if (closed) return;
      const hard = setTimeout(() => signalGroup('SIGKILL'), opts.killGraceMs ?? 1000);
      hard.unref();
      child.once('close', () => clearTimeout(hard));
    };

    const finish = (err: HookError | undefined, result?: ExecResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        killGroup();
        reject(err);
      } else if (result) {
        resolve(result);
      }
    };

    const timer = setTimeout(() => {
      finish(new HookError('HOOK_TIMEOUT', hook, `no answer within ${timeoutMs} ms; the program was killed`, { file, timeoutMs, stderr: stderrText() }));
    }, timeoutMs);

    const onAbort = (): void => {
      finish(new HookError('HOOK_ABORTED', hook, 'aborted; the program was killed', { file, cause: signal?.reason, stderr: stderrText() }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (err: NodeJS.ErrnoException) => {
      // spawn failed: ENOENT (also a bad #! line), EACCES, …
      finish(new HookError('HOOK_LOAD_FAILED', hook, 'cannot start the program', { file, cause: err }));
    });

    child.stdout.on('data', (chunk: Buffer) => {
      if (overflow) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) {
        overflow = true;
        finish(new HookError('HOOK_BAD_JSON', hook, `stdout is over ${maxStdout} bytes`, { file, stderr: stderrText() }));
        return;
      }
      stdout.push(chunk);
    });

    child.stderr.on('data', (chunk: Buffer) => {
      const room = maxStderr - stderrBytes;
      if (room <= 0) {
        stderrCut = true;
        return;
      }
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (kept !== chunk) stderrCut = true;
      stderrChunks.push(kept);
      stderrBytes += kept.length;
    });

    // A program that never reads its stdin makes the write fail with EPIPE: not an
    // error by itself, the exit status and stdout decide.
    child.stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') {
        finish(new HookError('HOOK_LOAD_FAILED', hook, 'cannot write the input', { file, cause: err }));
      }
    });
    child.stdin.end(opts.input);

    child.once('exit', () => {
      exited = true;
    });
    child.on('close', (code: number | null, sig: NodeJS.Signals | null) => {
      closed = true;
      if (settled) return;
      const stderr = stderrText();
      if (code !== 0) {
        const how = code === null ? `was killed by ${sig ?? 'a signal'}` : `exited with status ${code}`;
        finish(new HookError('HOOK_EXIT', hook, `the program ${how}`, { file, exitCode: code, signal: sig, stderr }));
        return;
      }
      const text = Buffer.concat(stdout).toString('utf8').trim();
      if (text === '') {
        finish(new HookError('HOOK_BAD_JSON', hook, 'the program wrote nothing to stdout', { file, stderr }));
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        finish(new HookError('HOOK_BAD_JSON', hook, 'stdout is not JSON', { file, cause: err, stderr }));
        return;
      }
      finish(undefined, { value, stderr });
    });
  });
}
