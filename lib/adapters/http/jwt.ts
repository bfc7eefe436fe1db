/**
 * Verification of Kommo's widget token (`X-Auth-Token`): a JWT signed HS256 with
 * the integration's client secret, about 30 minutes long, carrying `account_id`,
 * `user_id`, `subdomain`, `aud` … (Kommo's API documentation).
 *
 * Written here on purpose (no dependency), and strict:
 * - exactly three base64url parts, each strictly base64url (no padding, no `+/`);
 * - header `alg` must be exactly `HS256` (`none`, `HS512`, `RS256` … are refused,
 *   whatever the signature); `typ`, when present, must be `JWT`; `crit` is refused;
 * - the signature is an HMAC-SHA256 of `<header>.<payload>` compared in constant time;
 * - `exp` is required; `nbf` and `iat`, when present, may not lie in the future
 *   (a small clock skew is allowed on every time check);
 * - `account_id`, when one is expected, must equal it.
 *
 * Every failure is a `JwtError` with a stable code; its message never echoes the token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { KaError } from '../../platform/errors.js';

export const JWT_ERROR_CODES = [
  'JWT_MALFORMED',
  'JWT_ALG_NOT_ALLOWED',
  'JWT_BAD_SIGNATURE',
  'JWT_EXPIRED',
  'JWT_NOT_YET_VALID',
  'JWT_ISSUED_IN_FUTURE',
  'JWT_WRONG_ACCOUNT',
  'JWT_CLAIM_INVALID',
] as const;
export type JwtErrorCode = (typeof JWT_ERROR_CODES)[number];

export class JwtError extends KaError {
  declare readonly code: JwtErrorCode;
  constructor(code: JwtErrorCode, message: string) {
    super(code, message);
  }
}

/** The claims the connector relies on; everything else is kept as it came. */
export interface WidgetClaims {
  exp: number;
  iat?: number;
  nbf?: number;
  account_id?: number;
  user_id?: number;
  subdomain?: string;
  aud?: string | string[];
  [claim: string]: unknown;
}

export interface VerifyOptions {
  /** The HS256 key (Kommo integration's client secret). */
  secret: string;
  /** When set, the token's `account_id` must equal it. */
  accountId?: number | undefined;
  /** Unix seconds; default the wall clock. */
  now?: number;
  /** Allowed clock skew in seconds (default 30). */
  skewSeconds?: number;
}

/** Tokens longer than this are refused before any work (a Kommo token is ~600 chars). */
export const MAX_TOKEN_LENGTH = 8192;
const B64URL = /^[A-Za-z0-9_-]+$/;

/** Verify a compact JWS; answers the claims or throws a `JwtError`. */
export function verifyWidgetToken(token: string, options: VerifyOptions): WidgetClaims {
  if (!options.secret) throw new JwtError('JWT_BAD_SIGNATURE', 'widget tokens are not accepted: no widget secret is configured');
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw new JwtError('JWT_MALFORMED', 'token is empty or too long');
  }
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('JWT_MALFORMED', 'token must have three dot-separated parts');
  const [h, p, s] = parts as [string, string, string];
  if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(s)) throw new JwtError('JWT_MALFORMED', 'token parts must be base64url');

  const header = decodeJson(h, 'header');
  if (header.alg !== 'HS256') throw new JwtError('JWT_ALG_NOT_ALLOWED', 'token algorithm must be HS256');
  if (header.typ !== undefined && header.typ !== 'JWT') throw new JwtError('JWT_MALFORMED', 'token type must be JWT');
  if (header.crit !== undefined) throw new JwtError('JWT_MALFORMED', 'token has critical header parameters');

  // Signature before any claim is trusted.
  const expected = createHmac('sha256', options.secret).update(`${h}.${p}`, 'ascii').digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JwtError('JWT_BAD_SIGNATURE', 'token signature is not valid');
  }

  const claims = decodeJson(p, 'payload');
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const skew = options.skewSeconds ?? 30;
  const exp = numericDate(claims, 'exp', true);
  const nbf = numericDate(claims, 'nbf', false);
  const iat = numericDate(claims, 'iat', false);
  if (exp === undefined || now >= exp + skew) throw new JwtError('JWT_EXPIRED', 'token has expired');
  if (nbf !== undefined && nbf > now + skew) throw new JwtError('JWT_NOT_YET_VALID', 'token is not valid yet');
  if (iat !== undefined && iat > now + skew) throw new JwtError('JWT_ISSUED_IN_FUTURE', 'token is issued in the future');

  const accountId = idClaim(claims, 'account_id');
  const userId = idClaim(claims, 'user_id');
  if (options.accountId !== undefined && accountId !== options.accountId) {
    throw new JwtError('JWT_WRONG_ACCOUNT', 'token is for another Kommo account');
  }
  const out: WidgetClaims = { ...claims, exp };
  if (accountId !== undefined) out.account_id = accountId;
  if (userId !== undefined) out.user_id = userId;
  return out;
}

/** Sign claims with HS256 — for tests, the simulator and the CLI; the connector only verifies. */
export function signHs256(claims: Record<string, unknown>, secret: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const s = createHmac('sha256', secret).update(`${h}.${p}`, 'ascii').digest('base64url');
  return `${h}.${p}.${s}`;
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('JWT_MALFORMED', `token ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtError('JWT_MALFORMED', `token ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function numericDate(claims: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const v = claims[name];
  if (v === undefined) {
    if (required) throw new JwtError('JWT_CLAIM_INVALID', `token has no ${name} claim`);
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new JwtError('JWT_CLAIM_INVALID', `token claim ${name} must be a number`);
  return v;
}

/** Ids may arrive as numbers or digit strings; anything else is refused. */
function idClaim(claims: Record<string, unknown>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^[0-9]{1,15}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) throw new JwtError('JWT_CLAIM_INVALID', `token claim ${name} must be a positive integer`);
  return n;
}
