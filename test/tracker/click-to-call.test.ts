// Click-to-call: the variables of the originate service (KOMMO_CLICK_TO_CALL,
// KOMMO_CLIENT_NUMBER, KOMMO_CALLER_EXTENSION, KOMMO_USER_ID) in call_full.
import t from 'tap';
import type { AmiEvent } from '../../lib/protocol/ami/events.js';
import type { CallFull } from '../../lib/domain/call/types.js';
import { createTrackerContext, formatUtcTime } from '../../lib/domain/tracker/classify.js';
import { clientNumber, employeeConversation } from '../../lib/domain/call/facts.js';
import { loadScenario, replay } from './replay.js';

const KA = 'ka-1700000200000-0a1b2c3d';
const final = (events: AmiEvent[], ...ctx: Parameters<typeof replay>[1][]): CallFull => replay(events, ...ctx).stages.at(-1)!.call;
const recorded = (): AmiEvent[] => loadScenario('click-to-call').events;
const varName = (e: AmiEvent): string => (e.event === 'varset' ? Object.keys((e['variable'] as Record<string, string>) ?? {})[0] ?? '' : '');

t.test('recorded click-to-call: outgoing from the first stage, the clicking user, extra', async (t) => {
  const r = replay(recorded());
  const first = r.stages[0]!;
  t.equal(first.stage, 'conversation_requested');
  t.equal(Object.keys(first.call.conversations).length, 1, 'only the employee leg so far');
  t.equal(first.call.channel.type, 'outgoing', 'outgoing before the trunk leg exists (was: local)');
  const call = r.stages.at(-1)!.call;
  t.equal(call.channel.type, 'outgoing');
  t.equal(call.result, 200);
  t.match(call.channel.extra, { click_to_call: true, kommo_user_id: 1234567, kommo_caller_extension: '101' });
  t.notOk('kommo_client_number' in call.channel.extra, 'this recording predates KOMMO_CLIENT_NUMBER');
  t.equal(clientNumber(call), '79990001122', 'without KOMMO_CLIENT_NUMBER: the dialled number');
  t.same(employeeConversation(call)?.user, { id: 1234567, extension: '101' });
  for (const c of Object.values(call.conversations)) t.same(c.user, { id: 1234567, extension: '101' }, `${c.channel.name}: the clicker`);
});

t.test('KOMMO_USER_ID wins even when the extension is not in the map', async (t) => {
  const ctx = createTrackerContext({ extensions: {}, trunks: ['trunk'], extension_pattern: '^[0-9]{3}$' }, { formatTime: formatUtcTime });
  const call = final(recorded(), ctx);
  t.same(employeeConversation(call)?.user, { id: 1234567, extension: '101' });
  // and without KOMMO_USER_ID: the map (empty here) → no user
  const noUser = final(recorded().filter((e) => varName(e) !== 'KOMMO_USER_ID'), ctx);
  t.equal(employeeConversation(noUser)?.user, null);
  t.notOk('kommo_user_id' in noUser.channel.extra);
  t.equal(noUser.channel.extra['click_to_call'], true);
});

t.test('a trunk not classified as a trunk: still outgoing, the client leg decides', async (t) => {
  // the trunk endpoint matches the extension pattern and pbx.trunks is empty: both legs look internal
  const ctx = createTrackerContext(
    { extensions: { '101': 1001 }, trunks: [], extension_pattern: '^[0-9a-z]+$' },
    { formatTime: formatUtcTime },
  );
  const call = final(recorded(), ctx);
  t.equal(call.channel.type, 'outgoing', 'was: local');
  t.equal(clientNumber(call), '79990001122', 'the dialled number of the non-employee leg');
  t.equal(call.result, 200);
  t.equal(employeeConversation(call)?.user?.id, 1234567);
});

t.test('no client leg (the employee answered, hung up before the client was dialled): not answered', async (t) => {
  const events = recorded().filter((e) => !Object.values(e).some((v) => typeof v === 'string' && v.includes('trunk')));
  const r = replay(events);
  const call = r.stages.at(-1)!.call;
  t.equal(Object.keys(call.conversations).length, 1);
  t.equal(call.channel.type, 'outgoing');
  t.not(call.result, 200, 'the employee answering is not the client answering');
  t.equal(call.result, 487);
  t.equal(call.channel.was_answered, false);
  t.equal(employeeConversation(call)?.user?.id, 1234567);
  t.equal(call.is_ivr, false);
});

t.test('KOMMO_CLICK_TO_CALL absent or 0: the legs decide the type; the other variables still apply', async (t) => {
  const stripped = recorded().filter((e) => varName(e) !== 'KOMMO_CLICK_TO_CALL');
  const zero = recorded().map((e) => (varName(e) === 'KOMMO_CLICK_TO_CALL' ? { ...e, value: '0' } : e));
  for (const [name, events] of [['absent', stripped], ['0', zero]] as const) {
    const r = replay(events);
    t.equal(r.stages[0]!.call.channel.type, 'local', `${name}: before the trunk leg, as any ext-only call`);
    const call = r.stages.at(-1)!.call;
    t.equal(call.channel.type, 'outgoing', `${name}: the trunk leg makes it outgoing`);
    t.equal(call.channel.extra['click_to_call'], false, name);
    t.equal(employeeConversation(call)?.user?.id, 1234567, `${name}: KOMMO_USER_ID`);
  }
});

t.test('calls without the variables have no click-to-call extra', async (t) => {
  for (const name of ['outbound-answered', 'inbound-answered', 'internal-answered']) {
    const call = final(loadScenario(name).events);
    for (const k of ['click_to_call', 'kommo_user_id', 'kommo_client_number', 'kommo_caller_extension']) t.notOk(k in call.channel.extra, `${name}: ${k}`);
  }
});

t.test('VarSet: inherited names (_/__), empty values, another channel of the call', async (t) => {
  const ctxEvents = recorded();
  const renamed = ctxEvents.map((e) => {
    const v = varName(e);
    return v.startsWith('KOMMO_') ? { ...e, variable: { [`__${v}`]: '' } } : e;
  });
  t.equal(employeeConversation(final(renamed))?.user?.id, 1234567, '__KOMMO_USER_ID is KOMMO_USER_ID');
  const emptied = ctxEvents.map((e) => (varName(e) === 'KOMMO_USER_ID' ? { ...e, value: '' } : e));
  t.equal(employeeConversation(final(emptied))?.user?.id, 1001, 'an empty value is not set');
  const notNumber = ctxEvents.map((e) => (varName(e) === 'KOMMO_USER_ID' ? { ...e, value: 'abc' } : e));
  t.equal(employeeConversation(final(notNumber))?.user?.id, 1001, 'a non-numeric user id is ignored');
  // the variables on the client's (trunk) leg instead of the originated channel: not a click-to-call
  const moved = ctxEvents.map((e) =>
    varName(e).startsWith('KOMMO_') && e['uniqueid'] === 'kommo-c2c-0001'
      ? { ...e, channel: 'PJSIP/trunk-00000028', uniqueid: '1795504541.50' }
      : e,
  );
  // (the trunk channel appears later in the recording, so move them after its Newchannel)
  const vars = moved.filter((e) => varName(e).startsWith('KOMMO_') && e['uniqueid'] === '1795504541.50');
  const rest = moved.filter((e) => !vars.includes(e));
  const at = rest.findIndex((e) => e.event === 'newchannel' && e['uniqueid'] === '1795504541.50');
  const call = final([...rest.slice(0, at + 1), ...vars, ...rest.slice(at + 1)]);
  t.notOk('click_to_call' in call.channel.extra);
  t.equal(employeeConversation(call)?.user?.id, 1001);
});

t.test('hand-written: click-to-call merged with a consultation call (attended transfer)', async (t) => {
  const r = replay(loadScenario('click-to-call-transfer-merge').events);
  t.same(
    r.effects.filter((e) => e.type === 'merged'),
    [{ type: 'merged', from: '1700000210.12', into: KA }],
    'the ka- call (older) survives; a string comparison would have kept 1700000210.12',
  );
  const first = r.stages[0]!;
  t.equal(first.call.channel.type, 'outgoing');
  t.equal(first.call.channel.to.number, '79001112233', 'KOMMO_CLIENT_NUMBER from the first stage');
  const ended = r.stages.filter((s) => s.stage === 'call_ended');
  t.equal(ended.length, 1);
  const call = ended[0]!.call;
  t.equal(call.channel.id, KA);
  t.equal(call.channel.name, 'PJSIP/101-00000010');
  t.same(call.channel.extra['merged_linkedids'], ['1700000210.12']);
  t.match(call.channel.extra['transfers'], [{ type: 'attended', result: 'Success' }]);
  t.match(call.channel.extra, { click_to_call: true, kommo_user_id: 7001, kommo_client_number: '79001112233', kommo_caller_extension: '101' });
  t.equal(call.channel.type, 'outgoing');
  t.equal(call.channel.from.number, '101');
  t.equal(clientNumber(call), '79001112233', 'KOMMO_CLIENT_NUMBER, not the dialled 89001112233');
  const byName = Object.fromEntries(Object.values(call.conversations).map((c) => [c.channel.name, c]));
  t.equal(byName['PJSIP/trunk-00000011']?.channel.to.number, '89001112233', "the trunk leg keeps what was dialled");
  t.same(byName['PJSIP/101-00000010']?.user, { id: 7001, extension: '101' }, "the clicker's own leg");
  t.same(byName['PJSIP/trunk-00000011']?.user, { id: 7001, extension: '101' }, 'the client leg he talked on');
  t.same(byName['PJSIP/102-00000013']?.user, { id: 1002, extension: '102' }, '102 (the transfer target) keeps the mapped user');
  t.equal(employeeConversation(call)?.user?.id, 1002, '102 talked last');
  // before the merge, 102 rang in the consultation call (its own linkedid)
  const req102 = r.stages.find((s) => s.stage === 'conversation_requested' && s.conversationId === '1700000210.13')!;
  t.equal(req102.linkedid, '1700000210.12');
  t.notOk('click_to_call' in req102.call.channel.extra, 'the consultation call is not a click-to-call');
  const end102 = r.stages.find((s) => s.stage === 'conversation_ended' && s.conversationId === '1700000210.13')!;
  t.equal(end102.linkedid, KA);
});
