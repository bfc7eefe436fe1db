/**
 * Errors of the recordings subsystem (links, conversion). A failed conversion
 * never loses the link: the original file is linked instead.
 *
 * | code                         | meaning                                                              |
 * |------------------------------|----------------------------------------------------------------------|
 * | LINK_INVALID                 | 403: the token is not ours (forged, or signed with a rotated secret)  |
 * | LINK_EXPIRED                 | 410: a genuine link past its expiry                                   |
 * | LINK_NOT_FOUND               | 404: the file is gone, not a regular file, or outside the directories |
 * | LINK_OUTSIDE_ROOT            | no link made: the file is outside `recordings.dir` (after realpath)   |
 * | LINK_NO_KEY                  | no link made: no usable `http.secret`                                 |
 * | RECORDING_UNSUPPORTED        | not a PCM WAV lame can read: linked unconverted                       |
 * | RECORDING_CONVERSION_FAILED  | lame failed: the original file is linked                              |
 * | RECORDING_CONVERSION_TIMEOUT | lame took longer than `conversion_timeout_ms`: the original is linked |
 * | RECORDING_QUEUE_FULL         | too many conversions waiting: the original is linked                  |
 */
import { KaError, type KaErrorOptions } from '../../platform/errors.js';

export const RECORDING_ERROR_CODES = {
  /** The token is not one of ours (bad format, bad tag, wrong key: forged or revoked). → 403 */
  LINK_INVALID: 403,
  /** A genuine link past its expiry. → 410 */
  LINK_EXPIRED: 410,
  /** A genuine link whose file is gone, not a regular file, or outside the recordings roots. → 404 */
  LINK_NOT_FOUND: 404,
  /** makeLink refused: the file is outside the recordings roots (after realpath) or missing. */
  LINK_OUTSIDE_ROOT: 0,
  /** Links cannot be made: no usable secret. */
  LINK_NO_KEY: 0,
  /** The file is not a WAV lame can read (not RIFF/WAVE, not PCM, no data chunk …). */
  RECORDING_UNSUPPORTED: 0,
  /** lame failed (exit code, bad output). */
  RECORDING_CONVERSION_FAILED: 0,
  /** lame did not finish within `conversion_timeout_ms`; it was killed. */
  RECORDING_CONVERSION_TIMEOUT: 0,
  /** Too many conversions waiting. */
  RECORDING_QUEUE_FULL: 0,
} as const;

export type RecordingErrorCode = keyof typeof RECORDING_ERROR_CODES;

export class RecordingError extends KaError {
  declare readonly code: RecordingErrorCode;
  constructor(code: RecordingErrorCode, message: string, options: KaErrorOptions = {}) {
    super(code, message, options);
  }

  /** HTTP status of a link error (0 for errors that never reach HTTP). */
  get status(): number {
    return RECORDING_ERROR_CODES[this.code];
  }
}
