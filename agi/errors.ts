/**
 * FastAGI errors. Every failure in agi/ is an AgiError with a stable code; context
 * travels in fields (command, argument, replyCode, usage, timeoutMs …) and the
 * original error (a socket error, say) as `cause`.
 *
 * | code                    | meaning                                                          |
 * |-------------------------|------------------------------------------------------------------|
 * | AGI_INVALID_ARGUMENT    | an argument holds CR, LF or NUL (or is not a finite number)      |
 * | AGI_INVALID_COMMAND     | a command name is not plain words                                |
 * | AGI_COMMAND_TOO_LONG    | the encoded line is over Asterisk's 2048-byte read buffer        |
 * | AGI_LINE_TOO_LONG       | Asterisk sent a line over the framer's limit                     |
 * | AGI_HEADER_TOO_LARGE    | the environment block is over the framer's limit                 |
 * | AGI_MALFORMED_ENV       | an environment line is not `agi_<name>: <value>`                 |
 * | AGI_MALFORMED_REPLY     | a reply is not `200 result=<n> …`, 510, 511 or 520               |
 * | AGI_UNEXPECTED_REPLY    | a reply arrived with no command in flight                        |
 * | AGI_COMMAND_UNKNOWN     | Asterisk answered 510 (unknown command)                          |
 * | AGI_DEAD_CHANNEL        | Asterisk answered 511 (not permitted on a dead channel)          |
 * | AGI_USAGE               | Asterisk answered 520 (bad syntax); `usage` holds the usage text |
 * | AGI_BUSY                | a command was sent while another is in flight                    |
 * | AGI_TIMEOUT             | no reply before the command deadline (the session is closed)     |
 * | AGI_ABORTED             | the command's AbortSignal fired (the session is closed)          |
 * | AGI_CLOSED              | the connection closed, reset or was closed by us                 |
 * | AGI_HEADER_TIMEOUT      | the environment block did not arrive before the header deadline  |
 * | AGI_HANDLER_TIMEOUT     | a route handler ran past its deadline                            |
 * | AGI_SERVER_CLOSED       | the server is closing or destroyed; handlers are aborted with it |
 * | AGI_INVALID_OPTIONS     | createAgiServer / acceptAgiSession options are wrong             |
 * | AGI_REFUSED             | a connection was refused: not in `agi.allow_from`, over `agi.max_connections`, or the server is closing (logged, never thrown) |
 */
import { KaError } from '../lib/platform/errors.js';

export type AgiErrorCode =
  | 'AGI_INVALID_ARGUMENT'
  | 'AGI_INVALID_COMMAND'
  | 'AGI_COMMAND_TOO_LONG'
  | 'AGI_LINE_TOO_LONG'
  | 'AGI_HEADER_TOO_LARGE'
  | 'AGI_MALFORMED_ENV'
  | 'AGI_MALFORMED_REPLY'
  | 'AGI_UNEXPECTED_REPLY'
  | 'AGI_COMMAND_UNKNOWN'
  | 'AGI_DEAD_CHANNEL'
  | 'AGI_USAGE'
  | 'AGI_BUSY'
  | 'AGI_TIMEOUT'
  | 'AGI_ABORTED'
  | 'AGI_CLOSED'
  | 'AGI_HEADER_TIMEOUT'
  | 'AGI_HANDLER_TIMEOUT'
  | 'AGI_SERVER_CLOSED'
  | 'AGI_INVALID_OPTIONS'
  | 'AGI_REFUSED';

export interface AgiErrorOptions {
  cause?: unknown;
  /** The AGI command concerned, e.g. `SET VARIABLE`. */
  command?: string;
  /** The argument at fault (encoder errors). */
  argument?: string;
  /** Asterisk's reply code (510, 511, 520). */
  replyCode?: number;
  /** The usage text of a 520 reply, one entry per line. */
  usage?: readonly string[];
  /** The deadline that was missed. */
  timeoutMs?: number;
  /** The offending line (parse errors), cut to a readable length. */
  line?: string;
  [field: string]: unknown;
}

export class AgiError extends KaError {
  declare readonly code: AgiErrorCode;
  declare readonly command?: string;
  declare readonly argument?: string;
  declare readonly replyCode?: number;
  declare readonly usage?: readonly string[];
  declare readonly timeoutMs?: number;
  declare readonly line?: string;

  constructor(code: AgiErrorCode, message: string, options: AgiErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Cut a line for an error field so that a megabyte of garbage does not land in a log. */
export function excerpt(line: string, max = 120): string {
  return line.length <= max ? line : `${line.slice(0, max)}…`;
}
