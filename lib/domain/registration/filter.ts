/**
 * Should this call be registered? (hook 1 `need_registration`, customizations/README.md.)
 *
 * Built-in rules first, then the hook:
 * 1. `local` (internal→internal) calls, and calls whose client number is an internal
 *    extension, only when `registration.register_internal`;
 * 2. the black lists (extensions, trunks, numbers): any match → not registered;
 * 3. the white lists: when any of them is non-empty, the call must match at least one
 *    entry of the non-empty lists;
 * 3b. at `call_ended`, the first matching per-number rule (`registration.rules`, ./rules.ts)
 *    with `register: false`;
 * 4. hook 1, with `call_stage`: its `result` decides. A broken hook falls back to "yes"
 *    (the built-in decision), so a failing customization never loses a call.
 *
 * A call the built-in rules reject never reaches the hook: the configuration is the
 * administrator's hard filter, the hook refines what it lets through.
 * Numbers match on their last `phone.match_digits` digits (`phonesMatch`); extensions
 * and trunks match exactly (trunks by number or by name).
 */
import type { Logger } from 'pino';
import type { CallFull, CallStage } from '../call/types.js';
import { createPhoneRewriter, isInternalNumber, normalizeClientPhone, phonesMatch, type PhoneRewriter } from '../../platform/phone.js';
import { extensionsOf, rawClientNumber, trunksOf } from './call-facts.js';
import { matchRule } from './rules.js';
import type { RegistrationHooks, RegistrationSettings } from './deps.js';

export type FilterVerdict = { register: true } | { register: false; reason: string };

export interface FilterDeps {
  config: RegistrationSettings;
  hooks: RegistrationHooks;
  logger: Logger;
  rewriter?: PhoneRewriter;
}

/** The built-in part (no hook): pure. */
export function builtInVerdict(call: CallFull, config: RegistrationSettings, rewriter: PhoneRewriter): FilterVerdict {
  const reg = config.registration;
  const maxDigits = config.phone.internal_max_digits;
  const matchDigits = config.phone.match_digits;
  const client = normalizeClientPhone(rawClientNumber(call), rewriter);
  const internal = call.channel.type === 'local' || (client !== null && isInternalNumber(client, maxDigits));
  if (internal && !reg.register_internal) return { register: false, reason: 'internal' };

  let extPattern: RegExp | null = null;
  try {
    extPattern = new RegExp(config.pbx.extension_pattern);
  } catch {
    extPattern = null;
  }
  const isExt = (n: string): boolean => (extPattern ? extPattern.test(n) : isInternalNumber(n, maxDigits));
  const exts = extensionsOf(call, isExt);
  const trunks = trunksOf(call);
  const numberMatches = (list: readonly string[]): boolean =>
    client !== null && list.some((n) => phonesMatch(normalizeClientPhone(n, rewriter) ?? n, client, matchDigits));
  const extMatches = (list: readonly string[]): boolean => list.some((e) => exts.has(e));
  const trunkMatches = (list: readonly string[]): boolean => list.some((t) => trunks.has(t));

  const bl = reg.blacklist;
  if (extMatches(bl.extensions)) return { register: false, reason: 'blacklist_extension' };
  if (trunkMatches(bl.trunks)) return { register: false, reason: 'blacklist_trunk' };
  if (numberMatches(bl.numbers)) return { register: false, reason: 'blacklist_number' };

  const wl = reg.whitelist;
  const anyWhite = wl.extensions.length + wl.trunks.length + wl.numbers.length > 0;
  if (anyWhite && !(extMatches(wl.extensions) || trunkMatches(wl.trunks) || numberMatches(wl.numbers))) {
    return { register: false, reason: 'not_whitelisted' };
  }
  return { register: true };
}

/** Built-in rules, then hook 1. Never throws. */
export async function registrationVerdict(stage: CallStage, call: CallFull, deps: FilterDeps): Promise<FilterVerdict> {
  const rewriter = deps.rewriter ?? createPhoneRewriter(deps.config.phone.rewrite_rules);
  const builtIn = builtInVerdict(call, deps.config, rewriter);
  if (!builtIn.register) return builtIn;
  // Per-number rules decide on the finished call only (before the end an answered call
  // still looks missed); a rule with a `client` criterion waits for the contact search.
  if (stage === 'call_ended' && matchRule(deps.config.registration.rules, call)?.register === false) return { register: false, reason: 'rule' };
  const out = await deps.hooks.run('need_registration', { call_full: call, call_stage: stage }, { result: true }, { logger: deps.logger });
  return out.data.result === false ? { register: false, reason: 'hook_need_registration' } : { register: true };
}

/** customizations/README.md: hook 1 "at every stage" — the call tracker asks this at each stage. */
export async function shouldRegister(stage: CallStage, call: CallFull, deps: FilterDeps): Promise<boolean> {
  return (await registrationVerdict(stage, call, deps)).register;
}
