/**
 * Per-number rules without code (`registration.rules`, issue 12 part 3): the first rule whose
 * criteria all match a call decides, before any hook, whether it is registered and what an
 * unknown client gets (a lead, an incoming lead or a contact only; pipeline, status, tag).
 * Pure. Criteria: `dids` (the dialled number of an incoming call), `trunks` (endpoint names
 * or numbers, as the lists match them), `calls` (incoming_answered / incoming_missed /
 * outgoing), `client` (known / unknown — undecided before the contact search, where such a
 * rule does not match yet).
 */
import { callDirection, isMissed } from '../call/facts.js';
import type { CallFull } from '../call/types.js';
import type { DeepReadonly, RegistrationRule } from '../../platform/config/types.js';
import { trunksOf } from './call-facts.js';
import type { RegistrationSettings } from './deps.js';

export type RuleCallKind = 'incoming_answered' | 'incoming_missed' | 'outgoing' | 'internal';

export function ruleCallKind(call: CallFull): RuleCallKind {
  const dir = callDirection(call);
  if (dir === 'inbound') return isMissed(call) ? 'incoming_missed' : 'incoming_answered';
  if (dir === 'outbound') return 'outgoing';
  return 'internal';
}

const digitsOf = (s: string): string => s.replace(/\D/g, '');

/** The first rule matching the call; `clientKnown` undefined = not searched yet. */
export function matchRule(
  rules: readonly DeepReadonly<RegistrationRule>[],
  call: CallFull,
  clientKnown?: boolean,
): DeepReadonly<RegistrationRule> | undefined {
  const kind = ruleCallKind(call);
  const did = call.channel.type === 'incoming' ? digitsOf(call.channel.to.number) : '';
  const trunks = trunksOf(call);
  return rules.find((r) => {
    if (r.dids?.length && !(did !== '' && r.dids.some((d) => digitsOf(d) === did))) return false;
    if (r.trunks?.length && !r.trunks.some((t) => trunks.has(t))) return false;
    if (r.calls?.length && !(r.calls as readonly string[]).includes(kind)) return false;
    if (r.client !== undefined && (clientKnown === undefined || (r.client === 'known') !== clientKnown)) return false;
    return true;
  });
}

/** The settings a rule makes for the call's unknown client (what is created, where, tagged how). */
export function withRule(config: RegistrationSettings, rule: DeepReadonly<RegistrationRule> | undefined): RegistrationSettings {
  if (!rule) return config;
  const reg = { ...config.registration };
  if (rule.register === false) {
    reg.create_contact = false;
    reg.use_unsorted = false;
  } else if (rule.create) {
    reg.create_contact = true;
    reg.use_unsorted = rule.create === 'incoming_lead';
    reg.create_lead = rule.create === 'lead';
  }
  if (rule.pipeline_id !== undefined) reg.lead_pipeline_id = rule.pipeline_id;
  if (rule.status_id !== undefined) reg.lead_status_id = rule.status_id;
  const kommo = rule.tag !== undefined ? { ...config.kommo, tag: rule.tag } : config.kommo;
  return { ...config, registration: reg, kommo };
}
