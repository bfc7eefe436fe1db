/**
 * Logging: pino JSON lines, secrets redacted wherever they appear, one child
 * logger per call. Only the composition root (bin/) calls `createLogger`;
 * everything else receives a `Logger`.
 *
 * Conventions: fields first, message second —
 * `log.info({ phone, status }, 'contact found')`; errors under `err`.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { LogLevel } from './config/types.js';

export type { Logger };

export const REDACT_CENSOR = '[redacted]';

/** Keys whose values are secret, compared case-insensitively. */
const SECRET_WORDS = 'secret|token|password|passwd|authorization|cookie|api_?key';
const SECRET_KEY = new RegExp(`^(?:.*[_-])?(?:${SECRET_WORDS})$`, 'i');
const SECRET_CAMEL = /[a-z0-9](?:Secret|Token|Password|Authorization|Cookie|ApiKey)$/;

/**
 * Is this key's value secret? True for `secret`, `token`, `password`,
 * `authorization`, `cookie`, `api_key` in any case, alone or as the last
 * `_`/`-` separated part (`long_lived_token`, `client_secret`,
 * `widget_secret`, `x-auth-token`, `KOMMO_REFRESH_TOKEN`, AMI's `Secret`), or
 * as a camelCase suffix (`accessToken`). `token_file` is not secret.
 */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || SECRET_CAMEL.test(key);
}

/** Nesting depth searched for secrets; deeper subtrees (and cycles) are cut. */
const MAX_REDACT_DEPTH = 10;

/**
 * Return `value` with every secret-keyed value replaced by `[redacted]`, at
 * any depth (objects and arrays). Copy-on-write: objects without secrets are
 * returned as they are (frozen configs are never touched). Errors anywhere
 * are turned into their safe serialized form first.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_REDACT_DEPTH) return '[too deep]'; // never let an unchecked subtree through
  if (value instanceof Error) return serializeError(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = redact(item, depth + 1);
      if (next !== item) (copy ??= value.slice())[i] = next;
    }
    return copy ?? value;
  }
  if (!isPlainish(value)) return value;
  let copy: Record<string, unknown> | undefined;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const item = obj[key];
    const next = isSecretKey(key) && item !== undefined && item !== null && item !== '' ? REDACT_CENSOR : redact(item, depth + 1);
    if (next !== item) (copy ??= { ...obj })[key] = next;
  }
  return copy ?? value;
}

/** Plain objects and class instances are walked; Buffers, Dates, Maps … are left to JSON. */
function isPlainish(value: object): boolean {
  return !(ArrayBuffer.isView(value) || value instanceof Date || value instanceof Map || value instanceof Set || value instanceof URL);
}

const MAX_CAUSE_DEPTH = 5;

/**
 * A safe error serializer: never throws, survives cycles, keeps `name`,
 * `message`, `code`, the context fields of a `KaError` (status, hook,
 * actionId …), the stack, and the `cause` chain (serialized the same way).
 * Values that are not errors are logged as `{ message }`. Secret-keyed
 * context fields are redacted.
 */
export function serializeError(err: unknown, depth = 0, seen: Set<unknown> = new Set()): Record<string, unknown> {
  if (!(err instanceof Error)) {
    if (typeof err === 'object' && err !== null) return { message: safeString(err), value: redact(err, 1) };
    return { message: safeString(err) };
  }
  if (seen.has(err)) return { name: err.name, message: err.message, circular: true };
  seen.add(err);
  const out: Record<string, unknown> = { type: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out['code'] = code;
  for (const [key, value] of Object.entries(err)) {
    if (key === 'cause' || key in out) continue;
    out[key] = value instanceof Error ? (depth < MAX_CAUSE_DEPTH ? serializeError(value, depth + 1, seen) : { message: value.message }) : redact(value, 1);
  }
  if (err.stack) out['stack'] = err.stack;
  if (err instanceof AggregateError && depth < MAX_CAUSE_DEPTH) {
    out['errors'] = err.errors.map((e) => serializeError(e, depth + 1, seen));
  }
  if (err.cause !== undefined) {
    out['cause'] = depth < MAX_CAUSE_DEPTH ? serializeError(err.cause, depth + 1, seen) : { message: '[cause chain truncated]' };
  }
  return out;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Where JSON lines go; default stdout. Tests pass a stream they read back. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Fields on every line (e.g. `{ service: 'agi' }`). Default none (no pid/hostname). */
  base?: Record<string, unknown>;
}

/** The pino options used by `createLogger`. */
export function loggerOptions({ level, base = {} }: Pick<CreateLoggerOptions, 'level' | 'base'>): LoggerOptions {
  const errSerializer = (e: unknown): unknown =>
    e instanceof Error || typeof e !== 'object' || e === null ? serializeError(e) : e; // already serialized by `redact`
  return {
    level,
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      // Redaction runs on every logged object and on child bindings, before serializers.
      log: (obj) => redact(obj) as Record<string, unknown>,
      bindings: (bindings) => redact(bindings) as Record<string, unknown>, // root `base` only
    },
    serializers: { err: errSerializer, error: errSerializer },
  };
}

/**
 * The process logger: pino JSON lines with an ISO `time`, the level as a
 * label (`"level":"info"`), errors serialized safely (`err`), and the value
 * of every secret key (`isSecretKey`) replaced by `[redacted]` at any depth —
 * in logged objects, child bindings and error context fields alike.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const opts = loggerOptions(options);
  const logger = options.destination ? pino(opts, options.destination as DestinationStream) : pino(opts);
  // pino applies `formatters.bindings` to the root only; children inherit this
  // own property (they are Object.create(parent)), so every child's bindings
  // are redacted too, at any generation.
  const child = logger.child;
  (logger as { child: unknown }).child = function redactingChild(this: Logger, bindings: Record<string, unknown>, childOptions?: object) {
    return child.call(this, redact(bindings) as Record<string, unknown>, childOptions);
  };
  return logger;
}

export interface CallBindings {
  /** The call (Asterisk Linkedid). */
  linkedid: string;
  /** The channel/conversation (Uniqueid), when the log is about one leg. */
  uniqueid?: string;
  /** The caller's number as seen on the channel. */
  caller?: string;
}

/** The child logger for one call: every line carries linkedid/uniqueid/caller. */
export function callLogger(logger: Logger, bindings: CallBindings): Logger {
  const fields: Record<string, string> = { linkedid: bindings.linkedid };
  if (bindings.uniqueid !== undefined) fields['uniqueid'] = bindings.uniqueid;
  if (bindings.caller !== undefined) fields['caller'] = bindings.caller;
  return logger.child(fields);
}
