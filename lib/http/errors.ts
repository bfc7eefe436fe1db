/**
 * Errors of the connector's HTTP server. Every answer that is not a success is
 * `{"error": {"code": "<CODE>", "message": "<text>"}}` with the status below;
 * messages are written for the caller and never carry paths, stacks or secrets.
 */
import { KaError, type KaErrorOptions } from '../errors.js';

/** Stable codes → HTTP status. The README's error table lists them. */
export const HTTP_ERROR_STATUS = {
  HTTP_AUTH_REQUIRED: 401,
  HTTP_AUTH_INVALID: 401,
  HTTP_FORBIDDEN: 403,
  HTTP_NOT_FOUND: 404,
  HTTP_METHOD_NOT_ALLOWED: 405,
  HTTP_BAD_JSON: 400,
  HTTP_BAD_REQUEST: 400,
  HTTP_BODY_TOO_LARGE: 413,
  HTTP_UNSUPPORTED_MEDIA_TYPE: 415,
  HTTP_RANGE_NOT_SATISFIABLE: 416,
  HTTP_REQUEST_TIMEOUT: 408,
  HTTP_HANDLER_TIMEOUT: 504,
  HTTP_SHUTTING_DOWN: 503,
  HTTP_INTERNAL: 500,
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERROR_STATUS;

/** An answer the server gives on purpose; `status` is the HTTP status. */
export class HttpError extends KaError {
  readonly status: number;
  /** Extra response headers (e.g. `Allow`, `WWW-Authenticate`, `Content-Range`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: string, message: string, status: number, options: KaErrorOptions & { headers?: Record<string, string> } = {}) {
    const { headers, ...rest } = options;
    super(code, message, rest);
    this.status = status;
    this.headers = headers ?? {};
  }

  static of(code: HttpErrorCode, message: string, options: KaErrorOptions & { headers?: Record<string, string> } = {}): HttpError {
    return new HttpError(code, message, HTTP_ERROR_STATUS[code], options);
  }
}
