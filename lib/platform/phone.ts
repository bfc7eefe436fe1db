/**
 * Phone numbers: pure functions, no I/O, no Kommo.
 *
 * Every number the connector compares or sends is first reduced to its
 * digits (`digitsOnly`), then passed through the configured rewrite rules
 * (`createPhoneRewriter`), and only then through the `process_client_phone`
 * hook (which lives elsewhere). Kommo matches a call to a contact on the last
 * 10 digits, so comparisons here work on trailing digits as well.
 */
import type { RewriteRule } from './config/types.js';

/**
 * Zero code points of the non-ASCII decimal digit blocks we translate.
 * Full-width and mathematical digits are handled by NFKC normalisation.
 */
const DIGIT_ZEROS = [
  0x0660, // Arabic-Indic ٠
  0x06f0, // Extended Arabic-Indic (Persian, Urdu) ۰
  0x0966, // Devanagari ०
  0x09e6, // Bengali ০
  0x0e50, // Thai ๐
];

function toAsciiDigit(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  for (const zero of DIGIT_ZEROS) {
    if (cp >= zero && cp <= zero + 9) return String(cp - zero);
  }
  return '';
}

/**
 * The ASCII digits of `raw`, in order; everything else (`+`, spaces, dashes,
 * brackets, letters, Cyrillic …) is dropped. Full-width digits and the common
 * Arabic-Indic, Persian, Devanagari, Bengali and Thai digits are translated
 * to ASCII. `null`/`undefined` give `""`.
 */
export function digitsOnly(raw: string | number | null | undefined): string {
  if (raw === null || raw === undefined) return '';
  const text = String(raw);
  // Fast path: the common case is ASCII only.
  if (/^[\x00-\x7f]*$/.test(text)) return text.replace(/[^0-9]/g, '');
  let out = '';
  for (const ch of text.normalize('NFKC')) {
    if (ch >= '0' && ch <= '9') out += ch;
    else if (/\p{Nd}/u.test(ch)) out += toAsciiDigit(ch);
  }
  return out;
}

/** A compiled rewrite rule, anchored to the whole number. */
export interface CompiledRewriteRule {
  readonly source: RewriteRule;
  readonly regex: RegExp;
  readonly replace: string;
}

/**
 * Compile one rule. The pattern is wrapped as `^(?:<match>)$`, so a rule
 * applies only when it matches the **whole** digits-only number (anchors in
 * the pattern itself are allowed and harmless; capture-group numbers do not
 * change). Throws the engine's `SyntaxError` for an invalid pattern — the
 * configuration validator reports that with the rule's index.
 */
export function compileRewriteRule(rule: RewriteRule): CompiledRewriteRule {
  return { source: rule, regex: new RegExp(`^(?:${rule.match})$`), replace: rule.replace };
}

/** Digits in, digits out. */
export type PhoneRewriter = (phone: string) => string;

/**
 * Build the automatic number rewriter from `phone.rewrite_rules`.
 *
 * - the regular expressions are compiled once, here;
 * - the input is first reduced to digits (`digitsOnly`);
 * - the rules run **in order, each on the result of the previous one**; a rule
 *   changes the number only when it matches the whole number;
 * - non-digits produced by a replacement are dropped again, so the result is
 *   always digits only (possibly `""`).
 *
 * Examples: `{"match":"^9(\\d{11})$","replace":"$1"}` strips a trunk prefix,
 * `{"match":"^8(\\d{10})$","replace":"7$1"}` turns a Russian trunk 8 into the
 * country code 7, `{"match":"^(\\d{10})$","replace":"7$1"}` adds a missing
 * country code. With those three in that order, `9 8 999 123-45-67`,
 * `8 999 123 45 67` and `999 123 45 67` all become `79991234567`.
 */
export function createPhoneRewriter(rules: readonly RewriteRule[]): PhoneRewriter {
  const compiled = rules.map(compileRewriteRule);
  return (phone: string): string => {
    let digits = digitsOnly(phone);
    for (const rule of compiled) {
      if (rule.regex.test(digits)) digits = digitsOnly(digits.replace(rule.regex, rule.replace));
    }
    return digits;
  };
}

/** The identity rewriter (no rules). */
export const noRewrite: PhoneRewriter = (phone) => digitsOnly(phone);

/** The last `n` digits of a number (all of them when it is shorter). */
export function lastDigits(phone: string, n = 10): string {
  const digits = digitsOnly(phone);
  return digits.length > n ? digits.slice(-n) : digits;
}

/**
 * Do two numbers denote the same phone, the way Kommo matches them? Both are
 * reduced to digits; when both have at least `n` digits their last `n` digits
 * are compared (so `+7 999 123-45-67`, `8 999 123 45 67` and `9991234567`
 * match), otherwise the whole digit strings must be equal (short numbers such
 * as extensions never match a longer number by their tail). Empty never matches.
 */
export function phonesMatch(a: string, b: string, n = 10): boolean {
  const da = digitsOnly(a);
  const db = digitsOnly(b);
  if (da === '' || db === '') return false;
  if (da.length >= n && db.length >= n) return da.slice(-n) === db.slice(-n);
  return da === db;
}

/**
 * Is this an internal extension rather than a client's number? True when the
 * value has at least one digit, nothing but digits, and at most `maxDigits` of
 * them (`phone.internal_max_digits`).
 */
export function isInternalNumber(digits: string, maxDigits: number): boolean {
  return /^[0-9]+$/.test(digits) && digits.length <= maxDigits;
}

/** CallerID values Asterisk and SIP providers use for "no number". */
const NO_NUMBER = new Set(['', 'unknown', '<unknown>', 'anonymous', 'restricted', 'private', 'unavailable', 'withheld']);

/**
 * A client's number as the connector uses it: digits only, rewritten, or
 * `null` when there is no usable number (empty, `unknown`, `<unknown>`,
 * `anonymous` and similar, or no digit at all). The `process_client_phone`
 * hook runs after this, elsewhere.
 */
export function normalizeClientPhone(
  raw: string | number | null | undefined,
  rewriter: PhoneRewriter = noRewrite,
): string | null {
  if (raw === null || raw === undefined) return null;
  const text = String(raw).trim();
  if (NO_NUMBER.has(text.toLowerCase())) return null;
  const digits = digitsOnly(text);
  if (digits === '') return null;
  const rewritten = rewriter(digits);
  return rewritten === '' ? null : rewritten;
}
