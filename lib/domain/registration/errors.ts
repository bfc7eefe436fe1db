/**
 * Errors of the registration subsystem (README, "Which calls are registered, and how"). Codes are stable and
 * listed in the README's error-code table:
 *
 * | code                        | meaning                                                        |
 * |-----------------------------|----------------------------------------------------------------|
 * | REGISTRATION_STORE_IO       | the on-disk journal could not be read or written               |
 * | REGISTRATION_STORE_CORRUPT  | a journal file could not be parsed; it was quarantined         |
 * | REGISTRATION_NOT_FOUND      | no journal record for that id                                  |
 * | REGISTRATION_BAD_CALL       | the finished call lacks what registration needs (no client…)   |
 * | REGISTRATION_STOPPED        | the registrar is closing; the record stays pending             |
 * | REGISTRATION_PAUSED         | Kommo became unavailable; the record waits for the pause's end |
 * | REGISTRATION_GAVE_UP        | transient failures exceeded `registration.max_attempts`        |
 */
import { KaError, type KaErrorOptions } from '../../platform/errors.js';

export class RegistrationError extends KaError {
  constructor(code: string, message: string, options: KaErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Thrown between pipeline steps when the registrar is closing. Not a failure. */
export class RegistrationStoppedError extends RegistrationError {
  constructor() {
    super('REGISTRATION_STOPPED', 'registrar is closing; record left pending');
  }
}

/** Thrown between pipeline steps when another call found Kommo unavailable. Not a failure. */
export class RegistrationPausedError extends RegistrationError {
  constructor() {
    super('REGISTRATION_PAUSED', 'Kommo is unavailable; record waits for the pause to end');
  }
}
