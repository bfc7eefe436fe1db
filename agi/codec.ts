/**
 * FastAGI codec: frames ↔ typed messages. Pure functions, no I/O.
 *
 *  - parseEnv: the environment block → AgiRequest. Each line splits at the FIRST
 *    `": "` (values may hold `:` — `agi_request: agi://host:4573/x`).
 *  - parseReply: one reply frame → AgiReply (200 / 510 / 511 / 520).
 *  - encodeCommand: a command and its arguments → one protocol line. Every argument
 *    is quoted with `\` and `"` escaped; CR, LF or NUL in a value is an error naming
 *    the argument, never a new line.
 */
import { AgiError, excerpt } from './errors.js';

// ---------------------------------------------------------------------------
// Environment block

export interface AgiRequest {
  /** Script path without slashes at either end or query, e.g. `autodistribution`. */
  readonly script: string;
  /** Query parameters of the AGI URL (`agi://host/script?x=1` → `{ x: '1' }`); last one wins. */
  readonly params: Readonly<Record<string, string>>;
  /** `agi_network: yes`. */
  readonly network: boolean;
  readonly request: string;
  readonly channel: string;
  readonly language: string;
  readonly type: string;
  readonly uniqueId: string;
  readonly version: string;
  /** Caller number; `null` when Asterisk sent `unknown` or nothing. */
  readonly callerId: string | null;
  /** Caller name; `null` when Asterisk sent `unknown` or nothing. */
  readonly callerIdName: string | null;
  readonly callingPres: string;
  readonly callingAni2: string;
  readonly callingTon: string;
  readonly callingTns: string;
  /** Dialled number; `null` when `unknown`. */
  readonly dnid: string | null;
  /** Redirecting number; `null` when `unknown`. */
  readonly rdnis: string | null;
  readonly context: string;
  readonly extension: string;
  readonly priority: string;
  readonly enhanced: boolean;
  readonly accountCode: string;
  readonly threadId: string;
  /** `agi_arg_1..N` in order (a missing index reads as ''). */
  readonly args: readonly string[];
  /** Every line as sent, keyed by the full name (`agi_channel`). */
  readonly raw: Readonly<Record<string, string>>;
}

const ENV_KEY = /^agi_[a-z0-9_]+$/i;
const ARG_KEY = /^agi_arg_([1-9][0-9]{0,3})$/;
const MAX_ARGS = 128;

function callerValue(value: string | undefined): string | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === '' || trimmed.toLowerCase() === 'unknown' ? null : value;
}

function splitScript(pathAndQuery: string): { script: string; params: Record<string, string> } {
  const q = pathAndQuery.indexOf('?');
  const rawPath = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  if (q !== -1) {
    for (const [key, value] of new URLSearchParams(pathAndQuery.slice(q + 1))) params[key] = value;
  }
  let script = rawPath.replace(/^\/+|\/+$/g, '');
  try {
    script = decodeURIComponent(script);
  } catch {
    // keep the raw path: a bad %-escape is the route table's problem, not a parse error
  }
  return { script, params };
}

/** The part after `agi://host[:port]/` of an AGI URL, or '' when it is not one. */
function scriptFromRequest(request: string): string {
  const match = /^agi:\/\/[^/]*\/(.*)$/i.exec(request);
  return match?.[1] ?? '';
}

/**
 * Parse the environment block (the `env` frame's lines).
 * Throws AgiError AGI_MALFORMED_ENV on a line that is not `agi_<name>: <value>` or a
 * block with neither `agi_network_script` nor `agi_request`.
 */
export function parseEnv(lines: readonly string[]): AgiRequest {
  const raw: Record<string, string> = Object.create(null) as Record<string, string>;
  const args: string[] = [];
  for (const line of lines) {
    const sep = line.indexOf(': ');
    const key = sep === -1 ? '' : line.slice(0, sep);
    if (!ENV_KEY.test(key)) {
      throw new AgiError('AGI_MALFORMED_ENV', 'AGI environment line is not "agi_<name>: <value>"', {
        line: excerpt(line),
      });
    }
    const value = line.slice(sep + 2);
    raw[key] = value;
    const arg = ARG_KEY.exec(key);
    if (arg) {
      const index = Number(arg[1]) - 1;
      if (index >= MAX_ARGS) {
        throw new AgiError('AGI_MALFORMED_ENV', `AGI environment has more than ${MAX_ARGS} arguments`, {
          line: excerpt(line),
        });
      }
      args[index] = value;
    }
  }
  if (raw.agi_network_script === undefined && raw.agi_request === undefined) {
    throw new AgiError('AGI_MALFORMED_ENV', 'AGI environment has neither agi_network_script nor agi_request', {
      lines: lines.length,
    });
  }
  const { script, params } = splitScript(raw.agi_network_script ?? scriptFromRequest(raw.agi_request ?? ''));
  const str = (key: string): string => raw[key] ?? '';
  return {
    script,
    params,
    network: str('agi_network') === 'yes',
    request: str('agi_request'),
    channel: str('agi_channel'),
    language: str('agi_language'),
    type: str('agi_type'),
    uniqueId: str('agi_uniqueid'),
    version: str('agi_version'),
    callerId: callerValue(raw.agi_callerid),
    callerIdName: callerValue(raw.agi_calleridname),
    callingPres: str('agi_callingpres'),
    callingAni2: str('agi_callingani2'),
    callingTon: str('agi_callington'),
    callingTns: str('agi_callingtns'),
    dnid: callerValue(raw.agi_dnid),
    rdnis: callerValue(raw.agi_rdnis),
    context: str('agi_context'),
    extension: str('agi_extension'),
    priority: str('agi_priority'),
    enhanced: str('agi_enhanced') === '1.0' || str('agi_enhanced') === '1',
    accountCode: str('agi_accountcode'),
    threadId: str('agi_threadid'),
    args: Array.from(args, (a) => a ?? ''),
    raw,
  };
}

// ---------------------------------------------------------------------------
// Replies

export interface AgiSuccessReply {
  readonly code: 200;
  /** The `result=` value as a number (-1 failure, 0/1, a DTMF code …). */
  readonly result: number;
  /** The text in parentheses, or null when there is none. */
  readonly data: string | null;
  /** `endpos=` when present. */
  readonly endpos: number | null;
  /** Anything after result/data/endpos that was not understood. */
  readonly extra: string;
  readonly raw: string;
}

export interface AgiErrorReply {
  readonly code: 510 | 511 | 520;
  /** The first line's text after the code. */
  readonly message: string;
  /** 520 only: the usage text between the first and the closing line. */
  readonly usage: readonly string[];
  readonly raw: string;
}

export type AgiReply = AgiSuccessReply | AgiErrorReply;

const SUCCESS = /^200 result=(-?[0-9]+)(?:\s+(.*))?$/s;
const ENDPOS = /(?:^|\s+)endpos=(-?[0-9]+)$/;

/** Parse one reply frame. Throws AgiError AGI_MALFORMED_REPLY for anything else. */
export function parseReply(lines: readonly string[]): AgiReply {
  const first = lines[0] ?? '';
  const raw = lines.join('\n');
  if (lines.length === 1) {
    const ok = SUCCESS.exec(first);
    if (ok) {
      let rest = (ok[2] ?? '').trim();
      let endpos: number | null = null;
      const pos = ENDPOS.exec(rest);
      if (pos) {
        endpos = Number(pos[1]);
        rest = rest.slice(0, pos.index).trim();
      }
      let data: string | null = null;
      if (rest.startsWith('(')) {
        const close = rest.lastIndexOf(')');
        if (close !== -1) {
          data = rest.slice(1, close);
          rest = rest.slice(close + 1).trim();
        }
      }
      return { code: 200, result: Number(ok[1]), data, endpos, extra: rest, raw };
    }
    for (const code of [510, 511, 520] as const) {
      const prefix = `${code} `;
      if (first.startsWith(prefix) || first === String(code)) {
        return { code, message: first.slice(prefix.length).trim(), usage: [], raw };
      }
    }
  } else if (first.startsWith('520-')) {
    return {
      code: 520,
      message: first.slice(4).trim(),
      usage: lines.slice(1, -1),
      raw,
    };
  }
  throw new AgiError('AGI_MALFORMED_REPLY', 'AGI reply is not 200/510/511/520', { line: excerpt(first) });
}

// ---------------------------------------------------------------------------
// Commands

/** A bare value (named `arg1`, `arg2` … in errors) or a named one. */
export type AgiArgument = string | number | { readonly name: string; readonly value: string | number };

/**
 * Asterisk reads a command with a 2048-byte buffer (AGI_BUF_LEN); a longer line is
 * cut and the rest read as another command. The LF is included in this bound.
 */
export const MAX_COMMAND_BYTES = 2047;

const COMMAND = /^[A-Za-z]+(?: [A-Za-z]+)*$/;
const FORBIDDEN = /[\r\n\0]/;
const ESCAPE = /[\\"]/g;

/** Quote one value the way res_agi's parse_args reads it back. */
export function quoteArgument(value: string): string {
  return `"${value.replace(ESCAPE, '\\$&')}"`;
}

/**
 * Encode `command` with `args` as one line, LF included:
 * `encodeCommand('SET VARIABLE', [{ name: 'name', value: 'X' }, { name: 'value', value: 'a "b"' }])`
 * → `SET VARIABLE "X" "a \"b\""\n`.
 */
export function encodeCommand(command: string, args: readonly AgiArgument[] = []): string {
  if (!COMMAND.test(command)) {
    throw new AgiError('AGI_INVALID_COMMAND', 'AGI command must be words of letters separated by single spaces', {
      command: excerpt(command),
    });
  }
  let line = command;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as AgiArgument;
    const named = typeof arg === 'object';
    const name = named ? arg.name : `arg${i + 1}`;
    const value = named ? arg.value : arg;
    let text: string;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) {
        throw new AgiError('AGI_INVALID_ARGUMENT', `AGI argument "${name}" of ${command} is not a finite number`, {
          command,
          argument: name,
        });
      }
      text = String(value);
    } else {
      if (FORBIDDEN.test(value)) {
        throw new AgiError(
          'AGI_INVALID_ARGUMENT',
          `AGI argument "${name}" of ${command} contains CR, LF or NUL`,
          { command, argument: name },
        );
      }
      text = value;
    }
    line += ` ${quoteArgument(text)}`;
  }
  line += '\n';
  const bytes = Buffer.byteLength(line, 'utf8');
  if (bytes > MAX_COMMAND_BYTES) {
    throw new AgiError('AGI_COMMAND_TOO_LONG', `AGI command ${command} is ${bytes} bytes, over ${MAX_COMMAND_BYTES}`, {
      command,
      bytes,
    });
  }
  return line;
}
