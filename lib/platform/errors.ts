/**
 * Errors with stable codes. Every subsystem has its own subclass of KaError;
 * context travels in fields (status, hook, actionId …) and the original error
 * as `cause`. The README's error-code table lists every code.
 *
 * | code          | meaning                                                                                |
 * |---------------|----------------------------------------------------------------------------------------|
 * | ZIP_BAD_NAME  | a ZIP entry name is empty, absolute, has a `..`/`.` segment, a backslash, a control character, or appears twice (zip.ts) |
 * | ZIP_TOO_LARGE | more than 65,535 entries or 4 GiB: the archive would need ZIP64 (zip.ts)               |
 */
export interface KaErrorOptions {
  cause?: unknown;
  [field: string]: unknown;
}

export class KaError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options: KaErrorOptions = {}) {
    const { cause, ...fields } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) (this as Record<string, unknown>)[key] = value;
    }
  }

  /** A JSON-safe view for logs: code, message and context fields, no stack. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const [key, value] of Object.entries(this)) {
      if (key !== 'code' && key !== 'name') out[key] = value;
    }
    return out;
  }
}

/** Configuration problems, reported all at once at start. */
export class ConfigError extends KaError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `configuration is invalid:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

export function errorCode(err: unknown): string {
  return err instanceof KaError ? err.code : 'INTERNAL';
}
