/**
 * Kommo client errors. Every failure of lib/adapters/kommo is a KommoError with a stable code.
 * "Kommo answered no" (KommoApiError) and "Kommo could not be reached" (KommoUnreachableError)
 * are different classes: an outage must never look like "unknown caller". Context travels in
 * fields (`status`, `method`, `path`, `attempts`, `maybeApplied` …), the original error as
 * `cause`. Tokens and secrets never appear in messages or fields.
 *
 * `maybeApplied: true` means a create may have reached Kommo and been applied even though
 * no answer came back: the caller must look before it creates again.
 *
 * | code                      | class                 | transient | meaning                                                                 |
 * |---------------------------|-----------------------|-----------|-------------------------------------------------------------------------|
 * | KOMMO_BAD_REQUEST         | KommoApiError         | no        | 400 without validation details                                          |
 * | KOMMO_VALIDATION          | KommoApiError         | no        | 400 with `validation-errors` (see `validationErrors`), or 422           |
 * | KOMMO_ENTITY_NOT_FOUND    | KommoApiError         | no        | 400 "Entity not found" (calls API: no contact/company for the phone)    |
 * | KOMMO_PAYMENT_REQUIRED    | KommoApiError         | no        | 402: the account's paid period is over                                  |
 * | KOMMO_FORBIDDEN           | KommoApiError         | no        | 403 problem JSON: the token's user lacks the right (e.g. users list)    |
 * | KOMMO_BLOCKED             | KommoApiError         | no        | 403 non-JSON (HTML) page: account/IP blocked after 429 storms           |
 * | KOMMO_NOT_FOUND           | KommoApiError         | no        | 404                                                                     |
 * | KOMMO_REJECTED            | KommoApiError         | no        | any other 4xx (405, 409, 413 …)                                         |
 * | KOMMO_RATE_LIMITED        | KommoApiError         | yes       | 429 and the retry policy is exhausted                                   |
 * | KOMMO_UNREACHABLE         | KommoUnreachableError | yes       | network failure (DNS, refused, reset) after retries                     |
 * | KOMMO_TIMEOUT             | KommoUnreachableError | yes       | connect/headers/body timeout after retries                              |
 * | KOMMO_SERVER_ERROR        | KommoUnreachableError | yes       | 5xx after retries (or at once for a create: `maybeApplied`)             |
 * | KOMMO_AUTH_FAILED         | KommoAuthError        | no        | 401 that a token refresh cannot cure (long-lived token, or 401 again)   |
 * | KOMMO_REFRESH_FAILED      | KommoAuthError        | if network| OAuth refresh refused (revoked/invalid) — or unreachable (`transient`)  |
 * | KOMMO_NO_CREDENTIALS      | KommoAuthError        | no        | no long-lived token, no token file and no seed refresh token            |
 * | KOMMO_TOKEN_STORE         | KommoAuthError        | no        | the token file cannot be read, parsed or written                        |
 * | KOMMO_PHONE_FIELD_MISSING | KommoError            | no        | contacts have no PHONE field, or it lacks the configured enum           |
 * | KOMMO_BAD_RESPONSE        | KommoError            | no        | 2xx whose body is not what the endpoint promises                        |
 * | KOMMO_INVALID_ARGUMENT    | KommoError            | no        | the caller passed something unsendable (NaN, > 250 items, no digits)   |
 * | KOMMO_ABORTED             | KommoError            | yes       | the caller's AbortSignal fired                                          |
 * | KOMMO_CLOSED              | KommoError            | no        | the client was closed                                                   |
 */
import { KaError, type KaErrorOptions } from '../../platform/errors.js';

export type KommoApiErrorCode =
  | 'KOMMO_BAD_REQUEST'
  | 'KOMMO_VALIDATION'
  | 'KOMMO_ENTITY_NOT_FOUND'
  | 'KOMMO_PAYMENT_REQUIRED'
  | 'KOMMO_FORBIDDEN'
  | 'KOMMO_BLOCKED'
  | 'KOMMO_NOT_FOUND'
  | 'KOMMO_REJECTED'
  | 'KOMMO_RATE_LIMITED';

export type KommoUnreachableCode = 'KOMMO_UNREACHABLE' | 'KOMMO_TIMEOUT' | 'KOMMO_SERVER_ERROR';

export type KommoAuthCode = 'KOMMO_AUTH_FAILED' | 'KOMMO_REFRESH_FAILED' | 'KOMMO_NO_CREDENTIALS' | 'KOMMO_TOKEN_STORE';

export type KommoErrorCode =
  | KommoApiErrorCode
  | KommoUnreachableCode
  | KommoAuthCode
  | 'KOMMO_PHONE_FIELD_MISSING'
  | 'KOMMO_BAD_RESPONSE'
  | 'KOMMO_INVALID_ARGUMENT'
  | 'KOMMO_ABORTED'
  | 'KOMMO_CLOSED';

/** One item of Kommo's `validation-errors`. */
export interface KommoValidationError {
  request_id?: string;
  errors: Array<{ code?: string; path?: string; detail?: string }>;
}

/** Base class of every error thrown by lib/adapters/kommo. */
export class KommoError extends KaError {
  declare readonly code: KommoErrorCode;
  /** A create may have been applied although no answer came back. */
  readonly maybeApplied: boolean;

  constructor(code: KommoErrorCode, message: string, options: KaErrorOptions & { maybeApplied?: boolean } = {}) {
    const { maybeApplied, ...rest } = options;
    super(code, message, rest);
    this.maybeApplied = maybeApplied ?? false;
  }
}

/** One item of an array answer's `errors` (the calls API: `{request_id, title, status, detail}`). */
export interface KommoItemError {
  request_id?: string;
  title?: string;
  detail?: string;
  status?: number;
}

export interface KommoApiErrorFields {
  status: number;
  method: string;
  path: string;
  title?: string;
  detail?: string;
  type?: string;
  validationErrors?: KommoValidationError[];
  /** The answer's per-item `errors` (calls API), when it had any. */
  itemErrors?: KommoItemError[];
  requestId?: string;
  cause?: unknown;
}

/** Kommo answered, and the answer is no. Retrying the same request will not help (except 429). */
export class KommoApiError extends KommoError {
  declare readonly code: KommoApiErrorCode;
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly validationErrors: KommoValidationError[];
  readonly itemErrors: KommoItemError[];

  constructor(code: KommoApiErrorCode, message: string, fields: KommoApiErrorFields) {
    const { status, method, path, title, detail, validationErrors, itemErrors, ...rest } = fields;
    super(code, message, rest);
    this.status = status;
    this.method = method;
    this.path = path;
    this.title = title;
    this.detail = detail;
    this.validationErrors = validationErrors ?? [];
    this.itemErrors = itemErrors ?? [];
  }
}

export interface KommoUnreachableFields {
  method: string;
  path: string;
  attempts: number;
  maybeApplied: boolean;
  status?: number;
  cause?: unknown;
}

/** Kommo could not be reached, timed out or failed (5xx). Worth trying again later. */
export class KommoUnreachableError extends KommoError {
  declare readonly code: KommoUnreachableCode;
  readonly method: string;
  readonly path: string;
  readonly attempts: number;
  readonly status: number | undefined;

  constructor(code: KommoUnreachableCode, message: string, fields: KommoUnreachableFields) {
    const { method, path, attempts, status, ...rest } = fields;
    super(code, message, rest);
    this.method = method;
    this.path = path;
    this.attempts = attempts;
    this.status = status;
  }
}

/** Authentication failed. `transient` is true only when the refresh could not reach Kommo. */
export class KommoAuthError extends KommoError {
  declare readonly code: KommoAuthCode;
  readonly transient: boolean;

  constructor(code: KommoAuthCode, message: string, options: KaErrorOptions & { transient?: boolean } = {}) {
    const { transient, ...rest } = options;
    super(code, message, rest);
    this.transient = transient ?? false;
  }
}

/**
 * Is this failure worth retrying later (outage, rate limit, 5xx, refresh that could not
 * reach Kommo, caller's abort)? False for "Kommo answered no" and for programming errors.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof KommoAuthError) return err.transient;
  if (err instanceof KommoError) return TRANSIENT_CODES.has(err.code);
  return false;
}

const TRANSIENT_CODES: ReadonlySet<KommoErrorCode> = new Set<KommoErrorCode>([
  'KOMMO_RATE_LIMITED',
  'KOMMO_UNREACHABLE',
  'KOMMO_TIMEOUT',
  'KOMMO_SERVER_ERROR',
  'KOMMO_ABORTED',
]);

/** Does this error say that a create may have been applied by Kommo? */
export function isMaybeApplied(err: unknown): boolean {
  return err instanceof KommoError && err.maybeApplied;
}
