// registration.rules (issue 12, part 3): per-number rules without code, matched by DID,
// trunk, call type and known/unknown client, applied before the hooks.
import t from 'tap';
import { registrationVerdict } from '../../lib/domain/registration/filter.js';
import { runPipeline } from '../../lib/domain/registration/pipeline.js';
import { matchRule, ruleCallKind } from '../../lib/domain/registration/rules.js';
import type { RegistrationRule } from '../../lib/platform/config/types.js';
import { pino } from 'pino';
import { FakeHooks, harness, makeCall, newRecord, settings } from './helpers.js';

const DID = '74950000000'; // makeCall's incoming DID
const withRules = (rules: RegistrationRule[]) => settings({ registration: { ...settings().registration, rules } });

t.test('matchRule: criteria, first match wins, client undecided before the search', async (t) => {
  const answered = makeCall();
  const missed = makeCall({ legs: [{ ext: '101' }] });
  const outgoing = makeCall({ direction: 'outgoing' });
  t.equal(ruleCallKind(answered), 'incoming_answered');
  t.equal(ruleCallKind(missed), 'incoming_missed');
  t.equal(ruleCallKind(outgoing), 'outgoing');
  const rules: RegistrationRule[] = [
    { dids: ['74951111111'], tag: 'other-did' },
    { dids: ['+7 495 000-00-00'], calls: ['incoming_missed'], tag: 'missed-on-did' },
    { trunks: ['trunk1'], client: 'known', tag: 'known-on-trunk' },
    { trunks: ['trunk1'], tag: 'trunk' },
  ];
  t.equal(matchRule(rules, missed)?.tag, 'missed-on-did', 'DID (digits compared) and call type');
  t.equal(matchRule(rules, answered)?.tag, 'trunk', 'a client rule does not match before the search');
  t.equal(matchRule(rules, answered, true)?.tag, 'known-on-trunk');
  t.equal(matchRule(rules, answered, false)?.tag, 'trunk');
  t.equal(matchRule(rules, makeCall({ trunk: 'trunk2' })), undefined, 'no rule for another trunk');
  t.equal(matchRule([{ dids: [DID] }], outgoing), undefined, 'an outgoing call has no DID');
});

t.test('unknown client on a DID → an incoming lead in the rule\'s pipeline, not contact + lead', async (t) => {
  const h = harness({ config: withRules([{ dids: [DID], client: 'unknown', create: 'incoming_lead', pipeline_id: 777 }]) });
  const out = await runPipeline(h.deps, h.run(newRecord(makeCall())));
  t.same(out, { status: 'done' });
  t.equal(h.kommo.count('createContact'), 0);
  t.equal(h.kommo.unsorted.length, 1);
  t.equal(h.kommo.unsorted[0]!.body['pipeline_id'], 777, 'the rule\'s pipeline');
  t.equal(h.hooks.input('process_unsorted_creation_params')?.params.pipeline_id, 777, 'hook 13 sees the rule\'s body');
});

t.test('a rule creating a lead with pipeline, status and tag', async (t) => {
  const h = harness({ config: withRules([{ calls: ['incoming_missed'], create: 'lead', pipeline_id: 11, status_id: 22, tag: 'missed-line' }]) });
  await runPipeline(h.deps, h.run(newRecord(makeCall({ legs: [{ ext: '101' }] }))));
  t.equal(h.kommo.count('createContact'), 1);
  t.equal(h.kommo.count('createLead'), 1);
  const hooks = h.hooks;
  t.same(hooks.input('process_contact_creation_params')?.params.tags, ['missed-line'], 'the contact tagged');
  t.match(hooks.input('process_lead_creation_params')?.params, { pipeline_id: 11, status_id: 22, _embedded: { tags: [{ name: 'missed-line' }] } });
  // an answered call matches no rule: the defaults (no lead)
  const d = harness({ config: withRules([{ calls: ['incoming_missed'], create: 'lead' }]) });
  await runPipeline(d.deps, d.run(newRecord(makeCall({ client: '+7 999 000 11 22' }))));
  t.equal(d.kommo.count('createLead'), 0, 'registration.create_lead (false) for the rest');
});

t.test('register: false — decided at call_ended, before hook 1', async (t) => {
  const config = withRules([{ trunks: ['trunk1'], calls: ['incoming_missed'], register: false }]);
  const hooks = new FakeHooks();
  const deps = { config, hooks, logger: pino({ level: 'silent' }) };
  const missed = makeCall({ legs: [{ ext: '101' }] });
  t.same(await registrationVerdict('call_ended', missed, deps), { register: false, reason: 'rule' });
  t.equal(hooks.ran('need_registration'), 0, 'hook 1 not asked');
  t.same(await registrationVerdict('conversation_requested', missed, deps), { register: true }, 'not while the call goes on');
  t.same(await registrationVerdict('call_ended', makeCall(), deps), { register: true }, 'an answered call is registered');
  const h = harness({ config });
  t.same(await runPipeline(h.deps, h.run(newRecord(missed))), { status: 'skipped', reason: 'rule' });
  t.equal(h.kommo.requests.length, 0, 'nothing sent');
});

t.test('register: false for a known client only', async (t) => {
  const config = withRules([{ client: 'known', register: false }]);
  const known = harness({ config });
  known.kommo.seedContact({ phones: ['79991234567'] });
  t.same(await runPipeline(known.deps, known.run(newRecord(makeCall()))), { status: 'skipped', reason: 'rule' });
  t.equal(known.kommo.count('createCall'), 0, 'no call record');
  const unknown = harness({ config });
  t.same(await runPipeline(unknown.deps, unknown.run(newRecord(makeCall()))), { status: 'done' });
  t.equal(unknown.kommo.count('createCall'), 1, 'an unknown client is registered');
});

t.test('register: false for an unknown client: nothing is created', async (t) => {
  const h = harness({ config: withRules([{ client: 'unknown', register: false }]) });
  t.same(await runPipeline(h.deps, h.run(newRecord(makeCall()))), { status: 'skipped', reason: 'unknown_client' });
  t.equal(h.kommo.count('createContact'), 0);
  t.equal(h.kommo.count('createCall'), 0);
});
