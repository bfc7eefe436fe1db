/**
 * Errors of the connector's HTTP server. Every answer that is not a success is
 * `{"error": {"code": "<CODE>", "message": "<text>"}}` with the status below;
 * messages are written for the caller and never carry paths, stacks or secrets.
 * A widget token that fails verification answers HTTP_AUTH_INVALID, and the
 * message names the JWT_* reason (lib/adapters/http/jwt.ts).
 *
 * | code                        | meaning                                                          |
 * |-----------------------------|------------------------------------------------------------------|
 * | HTTP_AUTH_REQUIRED          | 401: no `Authorization: Bearer` secret and no `X-Auth-Token`      |
 * | HTTP_AUTH_INVALID           | 401: wrong secret, or a widget token that fails verification     |
 * | HTTP_FORBIDDEN              | 403: authenticated, but not for this (e.g. another user's id)     |
 * | HTTP_NOT_FOUND              | 404: no such route                                               |
 * | HTTP_METHOD_NOT_ALLOWED     | 405: known path, wrong method (`Allow` says which)               |
 * | HTTP_BAD_JSON               | 400: the body is not valid JSON                                  |
 * | HTTP_BAD_REQUEST            | 400: valid JSON of the wrong shape (the message names the field) |
 * | HTTP_BODY_TOO_LARGE         | 413: body over `http.max_body_bytes`                             |
 * | HTTP_UNSUPPORTED_MEDIA_TYPE | 415: a POST that is not `application/json`                       |
 * | HTTP_RANGE_NOT_SATISFIABLE  | 416: a `Range` outside the recording                             |
 * | HTTP_REQUEST_TIMEOUT        | 408: the request did not arrive in time                          |
 * | HTTP_HANDLER_TIMEOUT        | 504: the handler did not finish in time                          |
 * | HTTP_SHUTTING_DOWN          | 503: the server is draining                                      |
 * | HTTP_INTERNAL               | 500: an unexpected failure (logged; nothing leaks)               |
 * | JWT_MALFORMED               | widget token: not three strict base64url parts, or bad JSON      |
 * | JWT_ALG_NOT_ALLOWED         | widget token: `alg` is not exactly HS256 (`none` included)       |
 * | JWT_BAD_SIGNATURE           | widget token: signature does not verify (or no widget secret)    |
 * | JWT_EXPIRED                 | widget token: past `exp`                                         |
 * | JWT_NOT_YET_VALID           | widget token: before `nbf`                                       |
 * | JWT_ISSUED_IN_FUTURE        | widget token: `iat` in the future                                |
 * | JWT_WRONG_ACCOUNT           | widget token: `account_id` is not `http.account_id`              |
 * | JWT_CLAIM_INVALID           | widget token: a claim of the wrong type (e.g. no `exp`)          |
 */
import { KaError, type KaErrorOptions } from '../../platform/errors.js';

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
