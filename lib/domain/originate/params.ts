/**
 * Pure parts of click-to-call: who is called from which phone, the client's
 * number, the channel ids chosen up front, the Originate action itself, and
 * what Asterisk's `OriginateResponse` reason codes mean. No I/O.
 */
import type { AmiActionFields } from '../../protocol/ami/encoder.js';
import type { OriginateParams } from '../../adapters/hooks/types.js';
import { OriginateError } from './errors.js';

/** The shortest and longest client number accepted, in digits after normalisation (E.164 has at most 15; prefixes add a few). */
export const MIN_NUMBER_DIGITS = 3;
export const MAX_NUMBER_DIGITS = 20;
/** Longest raw number accepted before normalisation (spaces, brackets, dashes included). */
export const MAX_RAW_NUMBER_LENGTH = 40;

/**
 * What a phone number as typed or stored in Kommo may contain: digits (any
 * script), `+`, spaces, brackets, dots, dashes, slashes. Anything else — a
 * CR/LF, `:`, `,`, `&`, `@`, `;`, letters — is refused rather than cleaned,
 * so that nothing a caller sends can become part of a dialstring or an AMI line.
 */
const RAW_NUMBER = /^[\p{Nd}+\s().\-/]+$/u;

/** An endpoint name as it appears after `PJSIP/` (the CLI's `--from`). */
const EXTENSION_NAME = /^[A-Za-z0-9_.-]{1,80}$/;

/** What hook 6 may produce. Deliberately narrow: these go into an AMI action and a dialplan. */
const HOOK_CHANNEL = /^[A-Za-z0-9_]+\/[A-Za-z0-9_.@+*#/-]{1,200}$/;
const HOOK_CONTEXT = /^[A-Za-z0-9_.-]{1,80}$/;
const HOOK_EXTEN = /^[A-Za-z0-9_.+*#-]{1,80}$/;
const HOOK_PRIORITY = /^(?:[1-9][0-9]{0,5}|[A-Za-z_][A-Za-z0-9_-]{0,79})$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_CALLER_ID = 128;

/** Asterisk's OriginateResponse `Reason` (ast_control_frame_type of the first leg's outcome). */
export const ORIGINATE_REASONS: Readonly<Record<number, string>> = Object.freeze({
  0: 'no channel',
  1: 'hung up',
  3: 'ringing timeout',
  4: 'answered',
  5: 'busy',
  8: 'congestion',
});

export function reasonText(reason: number): string {
  return ORIGINATE_REASONS[reason] ?? `unknown (${reason})`;
}

/**
 * What a failed first leg means: the hangup cause of our channel when it is
 * specific (Asterisk 22 reports a 486 Busy Here as reason 0 "no channel",
 * with cause 17 on the channel), else the OriginateResponse reason.
 */
export function failureText(reason: number, cause: number): string {
  switch (cause) {
    case 17:
      return 'busy';
    case 21:
      return 'rejected';
    case 18:
    case 19:
      return 'ringing timeout';
    case 20:
      return 'unavailable';
    case 34:
    case 38:
    case 41:
    case 42:
    case 44:
      return 'congestion';
    default:
      return reasonText(reason);
  }
}

/**
 * The client's number as digits (after the connector's normalisation), or
 * ORIGINATE_BAD_NUMBER. `normalize` is the connector's `normalizeClientPhone`
 * with the configured rewrite rules; it returns null for "no number".
 */
export function validateClientNumber(raw: unknown, normalize: (raw: string) => string | null): string {
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    throw new OriginateError('ORIGINATE_BAD_NUMBER', 'the client number is missing');
  }
  const text = String(raw).trim();
  if (text === '') throw new OriginateError('ORIGINATE_BAD_NUMBER', 'the client number is empty');
  if (text.length > MAX_RAW_NUMBER_LENGTH) {
    throw new OriginateError('ORIGINATE_BAD_NUMBER', `the client number is longer than ${MAX_RAW_NUMBER_LENGTH} characters`);
  }
  if (!RAW_NUMBER.test(text)) {
    throw new OriginateError(
      'ORIGINATE_BAD_NUMBER',
      'the client number may contain only digits, "+", spaces, brackets, dots, dashes and slashes',
    );
  }
  const digits = normalize(text);
  if (digits === null || !/^[0-9]+$/.test(digits)) {
    throw new OriginateError('ORIGINATE_BAD_NUMBER', 'the client number has no digits');
  }
  if (digits.length < MIN_NUMBER_DIGITS || digits.length > MAX_NUMBER_DIGITS) {
    throw new OriginateError(
      'ORIGINATE_BAD_NUMBER',
      `the client number must have ${MIN_NUMBER_DIGITS} to ${MAX_NUMBER_DIGITS} digits (it has ${digits.length})`,
      { digits: digits.length },
    );
  }
  return digits;
}

export interface WhoCalls {
  extension: string;
  /** The Kommo user, when known (given, or the only user mapped to the extension). */
  userId: number | undefined;
}

/**
 * The employee's extension: given directly (CLI `--from`), else the Kommo
 * user's through the reverse of `pbx.extensions`. When a user has several
 * extensions the lowest (in string order) is used — deterministic; the
 * widget can send `extension` to choose.
 */
export function resolveCaller(
  req: { userId?: number | undefined; extension?: string | undefined },
  extensions: Readonly<Record<string, number>>,
): WhoCalls {
  if (req.extension !== undefined && req.extension !== '') {
    const ext = String(req.extension).trim();
    if (!EXTENSION_NAME.test(ext)) {
      throw new OriginateError('ORIGINATE_NO_EXTENSION', 'the extension may contain only letters, digits, ".", "_" and "-"');
    }
    const mapped = extensions[ext];
    if (req.userId !== undefined && mapped !== undefined && mapped !== req.userId) {
      throw new OriginateError(
        'ORIGINATE_UNKNOWN_USER',
        `extension ${ext} belongs to Kommo user ${mapped}, not to user ${req.userId}`,
        { extension: ext, userId: req.userId },
      );
    }
    return { extension: ext, userId: req.userId ?? mapped };
  }
  if (req.userId === undefined) {
    throw new OriginateError('ORIGINATE_NO_EXTENSION', 'say who calls: a Kommo user id or an extension');
  }
  if (!Number.isSafeInteger(req.userId) || req.userId <= 0) {
    throw new OriginateError('ORIGINATE_UNKNOWN_USER', 'the Kommo user id must be a positive integer', { userId: req.userId });
  }
  const own = Object.keys(extensions)
    .filter((ext) => extensions[ext] === req.userId)
    .sort();
  const first = own[0];
  if (first === undefined) {
    throw new OriginateError(
      'ORIGINATE_UNKNOWN_USER',
      `Kommo user ${req.userId} has no extension: add it to pbx.extensions ("<extension>": ${req.userId})`,
      { userId: req.userId },
    );
  }
  return { extension: first, userId: req.userId };
}

export interface ChannelIds {
  channelId: string;
  otherChannelId: string;
}

/**
 * Uniqueids for the originated channel (and, for a Local channel, its other
 * half), chosen before the Originate so the call is known from its first
 * event: `ka-<epoch ms>-<8 hex>` — letters, digits and dashes only (safe in
 * file names and in the registration journal's ids), far below Asterisk's
 * 149-character limit.
 */
export function newChannelIds(now: number, random: () => number): ChannelIds {
  const rand = Math.floor(random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, '0');
  const channelId = `ka-${Math.floor(now)}-${rand}`;
  return { channelId, otherChannelId: `${channelId}-2` };
}

/** Why hook 6's answer cannot be used (null when it can). */
export function paramsProblem(p: OriginateParams): string | null {
  if (typeof p.channel !== 'string' || !HOOK_CHANNEL.test(p.channel)) return 'channel must look like TECH/resource (e.g. PJSIP/101)';
  if (typeof p.context !== 'string' || !HOOK_CONTEXT.test(p.context)) return 'context may contain only letters, digits, ".", "_" and "-"';
  if (typeof p.extension !== 'string' || !HOOK_EXTEN.test(p.extension)) return 'extension may contain only letters, digits and + * # . _ -';
  if (!HOOK_PRIORITY.test(String(p.priority))) return 'priority must be a positive number or a label';
  if (typeof p.caller_id !== 'string' || CONTROL.test(p.caller_id) || p.caller_id.length > MAX_CALLER_ID) {
    return `caller_id must be text without control characters, at most ${MAX_CALLER_ID} characters`;
  }
  return null;
}

/** `"Name" <number>` with the name's quotes and backslashes dropped. */
export function formatCallerId(name: string, number: string): string {
  const clean = name.replace(/["\\<>]/g, '').replace(CONTROL, '').trim();
  return clean ? `"${clean}" <${number}>` : `<${number}>`;
}

export interface OriginateActionInput {
  params: OriginateParams;
  ids: ChannelIds;
  /** How long the employee's phone rings, ms (Originate `Timeout`). */
  ringTimeoutMs: number;
  /** Channel variables set on the originated channel. */
  variables: Readonly<Record<string, string>>;
}

/** The AMI Originate, asynchronous, with our own channel ids. */
export function buildOriginateAction(input: OriginateActionInput): AmiActionFields {
  const { params, ids } = input;
  return {
    action: 'Originate',
    Channel: params.channel,
    Context: params.context,
    Exten: params.extension,
    Priority: String(params.priority),
    Timeout: String(Math.max(1000, Math.round(input.ringTimeoutMs))),
    CallerID: params.caller_id,
    Async: 'true',
    ChannelId: ids.channelId,
    OtherChannelId: ids.otherChannelId,
    Variable: { ...input.variables },
  };
}
