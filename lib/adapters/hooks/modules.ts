/**
 * Preparing a JavaScript or TypeScript customization module for the worker threads
 * that import it (./worker.mjs), again after every change:
 *
 * - ESM (`.mjs`, or `.js` with ESM syntax) and CommonJS (`.cjs`, `.js`) are imported by
 *   the worker as they are, re-imported with a cache-busting query `?v=<version>` after
 *   an edit (CommonJS also leaves `require.cache` first); Node cannot unload modules,
 *   so each edit keeps the old version in memory (a few kilobytes per edit, until restart).
 * - TypeScript (`.ts`, `.mts`) runs on plain Node 20: the types are stripped with the
 *   `typescript` package's `transpileModule` (when it can be resolved at run time) and
 *   the result is written next to the source as `.<name>.compiled.mjs` (a generated
 *   cache file, safe to delete), so relative
 *   imports and packages resolve as they would from the source; if the directory is
 *   not writable, into a private temporary directory instead. Without `typescript`
 *   a `.ts` hook fails with HOOK_UNSUPPORTED: write it as `.mjs` or `.js`.
 * No source text is ever evaluated from a string.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { HookError } from './errors.js';
import type { HookFile } from './scan.js';
import type { HookName } from './types.js';

/**
 * The second argument of a module hook (executables get `KA_HOOK`/`KA_HOOK_TIMEOUT_MS`
 * in their environment instead).
 */
export interface HookContext {
  hook: HookName;
  /** Fires when the answer is no longer awaited (time limit reached, call gone, shutdown): cancel your requests with it. */
  signal: AbortSignal;
  timeoutMs: number;
  /** The connector's (per-call) logger, bound to the hook's name — log here, not to stdout. */
  logger: Logger;
}

export type HookFunction = (input: unknown, context: HookContext) => unknown;

/** The subset of the `typescript` package used here. */
export interface TypeScriptApi {
  transpileModule(
    input: string,
    options: {
      compilerOptions: Record<string, unknown>;
      fileName?: string;
      reportDiagnostics?: boolean;
    },
  ): { outputText: string; diagnostics?: Array<{ category: number; messageText: unknown; start?: number }> };
  flattenDiagnosticMessageText(messageText: unknown, newLine: string): string;
  DiagnosticCategory: { Error: number };
  ModuleKind: { ESNext: number };
  ScriptTarget: { ES2022: number };
}

let typescript: Promise<TypeScriptApi | undefined> | undefined;

/** `typescript`, when it can be resolved from here at run time; undefined otherwise. */
function importTypeScript(): Promise<TypeScriptApi | undefined> {
  typescript ??= import('typescript').then(
    (mod: unknown) => ((mod as { default?: TypeScriptApi }).default ?? (mod as TypeScriptApi)),
    () => undefined,
  );
  return typescript;
}

export interface ModuleLoaderOptions {
  /** Where the TypeScript compiler comes from (tests pass one that finds none). */
  typescript?: () => Promise<TypeScriptApi | undefined>;
}

export class ModuleLoader {
  readonly #typescript: () => Promise<TypeScriptApi | undefined>;

  constructor(options: ModuleLoaderOptions = {}) {
    this.#typescript = options.typescript ?? importTypeScript;
  }

  /** Private fallback directory for compiled TypeScript, made on first need. */
  #fallbackDir: Promise<string> | undefined;

  /**
   * Load the TypeScript compiler now (it takes a few hundred milliseconds, once), so
   * that the first run of a `.ts` hook does not spend its time limit on it. Never rejects.
   */
  async warmTypeScript(): Promise<void> {
    await this.#typescript();
  }

  /**
   * The file to import for `hf`: the source itself, or for TypeScript the compiled
   * `.mjs` (compiled here, once per change, so that workers never load the compiler).
   */
  prepare(hf: HookFile): Promise<string> {
    return hf.kind === 'typescript' ? this.#compile(hf) : Promise.resolve(hf.file);
  }

  async #compile(hf: HookFile): Promise<string> {
    const ts = await this.#typescript();
    if (!ts) {
      throw new HookError(
        'HOOK_UNSUPPORTED',
        hf.hook,
        `${hf.name} is TypeScript but the "typescript" package is not installed; rename it to .mjs (plain JavaScript) or install typescript`,
        { file: hf.file },
      );
    }
    let source: string;
    try {
      source = await readFile(hf.file, 'utf8');
    } catch (err) {
      throw loadFailed(hf.hook, hf, `cannot read ${hf.name}`, err);
    }
    const out = ts.transpileModule(source, {
      fileName: hf.name,
      reportDiagnostics: true,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        sourceMap: false,
        inlineSourceMap: false,
        verbatimModuleSyntax: false,
        isolatedModules: true,
      },
    });
    const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    const first = errors[0];
    if (first) {
      const text = ts.flattenDiagnosticMessageText(first.messageText, '\n');
      const line = first.start === undefined ? '' : ` (line ${source.slice(0, first.start).split('\n').length})`;
      throw loadFailed(hf.hook, hf, `${hf.name} does not compile: ${text}${line}`);
    }
    const compiledName = `.${basename(hf.name)}.compiled.mjs`;
    try {
      return await this.#write(join(dirname(hf.file), compiledName), out.outputText);
    } catch {
      // Read-only customizations directory: relative imports will not resolve from here.
      this.#fallbackDir ??= mkdtemp(join(tmpdir(), 'kommo-asterisk-hooks-'));
      try {
        return await this.#write(join(await this.#fallbackDir, compiledName), out.outputText);
      } catch (err) {
        throw loadFailed(hf.hook, hf, `cannot write the compiled ${hf.name}`, err);
      }
    }
  }

  /** Atomic write (two processes may share one directory). */
  async #write(target: string, text: string): Promise<string> {
    const temp = `${target}.${process.pid}.tmp`;
    await writeFile(temp, text);
    try {
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return target;
  }

  /**
   * Remove the private fallback directory. Idempotent. Compiled files next to the
   * sources stay (another process may be using the same directory); they are
   * regenerated whenever the source changes.
   */
  async close(): Promise<void> {
    const pending = this.#fallbackDir;
    this.#fallbackDir = undefined;
    const dir = pending ? await pending.catch(() => undefined) : undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

function loadFailed(hook: HookName, hf: HookFile, message: string, cause?: unknown): HookError {
  return new HookError('HOOK_LOAD_FAILED', hook, message, { file: hf.file, cause });
}
