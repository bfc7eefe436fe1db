/**
 * AMI errors. One class, stable codes; context in fields (`action`, `actionId`,
 * `field`, `response`), the original error as `cause`.
 *
 * | code                | meaning                                                                     |
 * |---------------------|-----------------------------------------------------------------------------|
 * | AMI_CONNECT_FAILED  | the TCP connection could not be made (refused, unreachable, reset at once)   |
 * | AMI_LOGIN_FAILED    | Asterisk answered the Login with `Response: Error` (wrong user or secret)    |
 * | AMI_TIMEOUT         | no answer before the deadline (the Login, or an action queued or in flight)  |
 * | AMI_QUEUE_FULL      | `max_queued_actions` actions are already waiting or in flight                |
 * | AMI_NOT_CONNECTED   | an Originate while the link is down: it is never queued nor replayed         |
 * | AMI_CONNECTION_LOST | the link dropped while the action was in flight; it may or may not have run  |
 * | AMI_INVALID_FIELD   | a CR or LF (or a bad key) in an action field; `field` names it               |
 * | AMI_ACTION_FAILED   | Asterisk answered the action with `Response: Error`; `response` holds it     |
 * | AMI_ABORTED         | the caller's AbortSignal fired first                                         |
 * | AMI_CLOSED          | the client was closed (or destroyed) before the action could run             |
 */
import { KaError, type KaErrorOptions } from '../../platform/errors.js';

export type AmiErrorCode =
  | 'AMI_CONNECT_FAILED'
  | 'AMI_LOGIN_FAILED'
  | 'AMI_TIMEOUT'
  | 'AMI_QUEUE_FULL'
  | 'AMI_NOT_CONNECTED'
  | 'AMI_CONNECTION_LOST'
  | 'AMI_INVALID_FIELD'
  | 'AMI_ACTION_FAILED'
  | 'AMI_ABORTED'
  | 'AMI_CLOSED';

export class AmiError extends KaError {
  declare readonly code: AmiErrorCode;
  /** Context fields set by the constructor when given. */
  declare readonly action?: string;
  declare readonly actionId?: string;
  declare readonly field?: string;

  constructor(code: AmiErrorCode, message: string, options: KaErrorOptions = {}) {
    super(code, message, options);
  }
}

export function isAmiError(err: unknown, code?: AmiErrorCode): err is AmiError {
  return err instanceof AmiError && (code === undefined || err.code === code);
}
