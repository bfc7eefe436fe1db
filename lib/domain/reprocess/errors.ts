/**
 * Re-processing errors. One class, stable codes; context in fields (`source`).
 *
 * | code               | meaning                                                                                         |
 * |--------------------|-------------------------------------------------------------------------------------------------|
 * | REPROCESS_PERIOD   | the period is empty or invalid (`--from` must be before `--to`)                                  |
 * | REPROCESS_TOO_OLD  | `--from` is older than the registration journal's retention: duplicates possible (`--force`)     |
 * | REPROCESS_SOURCE   | the cdr_custom file cannot be read (see `dialplan/cdr_custom.conf.sample`)                      |
 */
import { KaError, type KaErrorOptions } from '../../platform/errors.js';

export type ReprocessErrorCode = 'REPROCESS_PERIOD' | 'REPROCESS_TOO_OLD' | 'REPROCESS_SOURCE';

export class ReprocessError extends KaError {
  declare readonly code: ReprocessErrorCode;

  constructor(code: ReprocessErrorCode, message: string, options: KaErrorOptions = {}) {
    super(code, message, options);
  }
}
