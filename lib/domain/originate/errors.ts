/**
 * Click-to-call errors. One class, stable codes; context in fields
 * (`userId`, `extension`, `actionId`, `channelId`), the original error as `cause`.
 *
 * | code                   | meaning                                                                                  |
 * |------------------------|------------------------------------------------------------------------------------------|
 * | ORIGINATE_UNKNOWN_USER | the Kommo user has no extension in `pbx.extensions`                                      |
 * | ORIGINATE_NO_EXTENSION | neither a user nor an extension was given, or the extension is not a plain endpoint name |
 * | ORIGINATE_BAD_NUMBER   | the client number is empty, too short/long, or has characters a number never has        |
 * | ORIGINATE_AMI_DOWN     | AMI is not connected (an Originate is never queued nor replayed)                          |
 * | ORIGINATE_TIMEOUT      | AMI did not accept the action in time, or no `OriginateResponse` came before the deadline |
 * | ORIGINATE_FAILED       | Asterisk refused the action (`Response: Error`), or the AMI link dropped meanwhile        |
 */
import { KaError, type KaErrorOptions } from '../../platform/errors.js';

export type OriginateErrorCode =
  | 'ORIGINATE_UNKNOWN_USER'
  | 'ORIGINATE_NO_EXTENSION'
  | 'ORIGINATE_BAD_NUMBER'
  | 'ORIGINATE_AMI_DOWN'
  | 'ORIGINATE_TIMEOUT'
  | 'ORIGINATE_FAILED';

export class OriginateError extends KaError {
  declare readonly code: OriginateErrorCode;

  constructor(code: OriginateErrorCode, message: string, options: KaErrorOptions = {}) {
    super(code, message, options);
  }
}

