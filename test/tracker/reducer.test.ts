import t from 'tap';
import type { AmiEvent } from '../../lib/protocol/ami/events.js';
import { createClassifier, createTrackerContext, formatUtcTime, parseChannel, withNow } from '../../lib/domain/tracker/classify.js';
import { PMap } from '../../lib/domain/tracker/pmap.js';
import { projectCall } from '../../lib/domain/tracker/project.js';
import { initialState, olderLinkedid, reduce, resync } from '../../lib/domain/tracker/reducer.js';
import { causeResult, dialStatusResult } from '../../lib/domain/tracker/results.js';
import { callDirection, clientNumber, employeeConversation, isInternal, isMissed, lastConversationDuration } from '../../lib/domain/call/facts.js';
import type { StageEffect, TrackerState } from '../../lib/domain/tracker/types.js';
import { loadScenario, replay, testContext } from './replay.js';

function snapshot(state: TrackerState): string {
  const ctx = testContext();
  return JSON.stringify([...state.calls.values()].map((c) => projectCall(c, ctx)));
}

t.test('pure: earlier states are never modified, replays are deterministic', async (t) => {
  const { events } = loadScenario('queue-answered');
  const ctx = testContext();
  let state = initialState();
  const kept: { state: TrackerState; snap: string }[] = [];
  for (const [i, e] of events.entries()) {
    state = reduce(state, e, withNow(ctx, 1)).state;
    if (i % 10 === 0) kept.push({ state, snap: snapshot(state) });
  }
  for (const k of kept) t.equal(snapshot(k.state), k.snap);
  t.same(replay(events).effects, replay(events).effects);
});

t.test('events the tracker does not use return the very same state', async (t) => {
  const ctx = testContext();
  const state = initialState();
  for (const event of ['newexten', 'cel', 'cdr', 'bridgeleave', 'softhanguprequest', 'dtmfend']) {
    const r = reduce(state, { event, uniqueid: '1.1', linkedid: '1.1', channel: 'PJSIP/101-1' }, ctx);
    t.equal(r.state, state, event);
    t.same(r.effects, []);
  }
  const r = reduce(state, { event: 'varset', variable: { BRIDGEPEER: '' }, value: 'x', uniqueid: '1.1' }, ctx);
  t.equal(r.state, state, 'an uninteresting VarSet');
});

t.test('stray events for channels never seen create nothing', async (t) => {
  const ctx = testContext();
  let state = initialState();
  for (const e of [
    { event: 'hangup', channel: 'PJSIP/101-00000001', uniqueid: '9.1', linkedid: '9.1', cause: '16' },
    { event: 'varset', channel: 'PJSIP/101-00000001', uniqueid: '9.1', linkedid: '9.1', variable: { DIALSTATUS: '' }, value: 'ANSWER' },
    { event: 'dialend', channel: 'PJSIP/101-00000001', uniqueid: '9.1', linkedid: '9.1', destuniqueid: '9.2', dialstatus: 'ANSWER' },
    { event: 'newcallerid', channel: 'PJSIP/101-00000001', uniqueid: '9.1', linkedid: '9.1', calleridnum: '5' },
  ] as AmiEvent[]) {
    state = reduce(state, e, ctx).state;
  }
  t.equal(state.calls.size, 0);
  t.equal(state.index.size, 0);
});

t.test('without Timestamp headers the times come from ctx.now', async (t) => {
  const { events } = loadScenario('inbound-answered');
  const stripped = events.map((e) => {
    const { timestamp: _drop, ...rest } = e;
    return rest as AmiEvent;
  });
  const ctx = createTrackerContext({ extensions: {}, trunks: ['trunk'], extension_pattern: '^[0-9]{3}$' }, { formatTime: formatUtcTime });
  let state = initialState();
  const stages: StageEffect[] = [];
  stripped.forEach((e, i) => {
    const r = reduce(state, e, withNow(ctx, Date.UTC(2024, 0, 2, 3, 4, 5) + i * 1000));
    state = r.state;
    for (const x of r.effects) if (x.type === 'stage') stages.push(x);
  });
  const call = stages.find((s) => s.stage === 'call_ended')!.call;
  t.equal(call.channel.start_time.slice(0, 16), '2024-01-02 03:04');
  t.ok(call.channel.end_time > call.channel.answer_time);
  t.equal(call.result, 200);
  t.equal(employeeConversation(call)?.user, null, 'no Kommo user when the extension is not in the map');
});

t.test('in progress: result 0 until decided, is_ivr only at the end, active conversation', async (t) => {
  const r = replay(loadScenario('ringgroup-answered').events);
  const req = r.stages.filter((s) => s.stage === 'conversation_requested');
  for (const s of req) {
    t.equal(s.call.result, 0);
    t.equal(s.call.is_ivr, false);
    t.equal(s.call.channel.state, 'ringing');
    t.not(s.call.active_conversation_id, '');
  }
  const acc = r.stages.find((s) => s.stage === 'conversation_accepted')!;
  t.equal(acc.call.result, 200);
  t.equal(acc.call.channel.state, 'talking');
  t.equal(acc.call.active_conversation_id, acc.conversationId);
  const loser = r.stages.find((s) => s.stage === 'conversation_ended')!;
  const conv = loser.call.conversations[loser.conversationId!]!;
  t.equal(conv.channel.extra['answered_elsewhere'], true, 'the losing ring-group leg: cause 26');
  t.equal(conv.channel.was_answered, false);
  t.equal(loser.call.result, 200, 'the call is answered, the losing leg is not a missed call');
});

t.test('resync after a reconnect: gone channels hang up (call_ended once), live ones are kept', async (t) => {
  const { events } = loadScenario('inbound-answered');
  const ctx = testContext();
  const cut = events.findIndex((e) => e.event === 'bridgeenter');
  const mid = replay(events.slice(0, cut + 1), ctx);
  t.equal(mid.state.calls.size, 1);
  const call = [...mid.state.calls.values()][0]!;
  const live = [...call.channels.values()].map((ch) => ({
    event: 'coreshowchannel',
    channel: ch.name,
    uniqueid: ch.id,
    linkedid: call.linkedid,
    channelstate: '6',
  })) as AmiEvent[];

  // everything still there: nothing changes
  const same = resync(mid.state, live, withNow(ctx, 1_800_000_000_000));
  t.same(same.effects, []);
  t.equal(same.state.calls.size, 1);

  // Asterisk restarted while we were away: nothing is live any more
  const gone = resync(mid.state, [], withNow(ctx, 1_800_000_000_000));
  const stages = gone.effects.filter((e): e is StageEffect => e.type === 'stage').map((s) => s.stage);
  t.same(stages, ['conversation_ended', 'call_ended']);
  t.equal(gone.state.calls.size, 0);
  t.equal(gone.state.index.size, 0);
  const ended = gone.effects.find((e): e is StageEffect => e.type === 'stage' && e.stage === 'call_ended')!;
  t.equal(ended.call.result, 200);
  // and the late events of the gone call create nothing
  const late = replay(events.slice(cut + 1), ctx, gone.state);
  t.equal(late.effects.length, 0);
  t.equal(late.state.calls.size, 0);
});

t.test('resync from nothing: calls in progress are picked up and end normally', async (t) => {
  const { events } = loadScenario('inbound-answered');
  const ctx = testContext();
  const trunk = events.find((e) => e.event === 'newchannel')!;
  const phone = events.filter((e) => e.event === 'newchannel')[1]!;
  const live = [
    { ...trunk, event: 'coreshowchannel', channelstate: '6', duration: '00:00:03' },
    { ...phone, event: 'coreshowchannel', channelstate: '6', duration: '00:00:02' },
  ] as AmiEvent[];
  const now = 1_795_504_165_000;
  const r = resync(initialState(), live, withNow(ctx, now));
  t.same(
    r.effects.map((e) => (e.type === 'stage' ? e.stage : e.type)),
    ['conversation_requested', 'conversation_accepted'],
  );
  const acc = r.effects[1] as StageEffect;
  t.equal(acc.call.channel.extra['start_ms'], now - 3000, 'start from the Duration');
  const rest = events.slice(events.findIndex((e) => e.event === 'bridgeleave'));
  const after = replay(rest, ctx, r.state);
  t.same(after.stages.map((s) => s.stage), ['conversation_ended', 'call_ended']);
  const call = after.stages[1]!.call;
  t.equal(call.channel.type, 'incoming');
  t.equal(call.result, 200);
  t.equal(clientNumber(call), '79991234567');
  t.equal(employeeConversation(call)?.user?.extension, '101');
});

t.test('an attended transfer merges the consultation call into the original: one call_ended', async (t) => {
  const r = replay(loadScenario('attended-transfer-merge').events);
  const merged = r.effects.filter((e) => e.type === 'merged');
  t.same(merged, [{ type: 'merged', from: '1700000110.3', into: '1700000100.1' }]);
  const ended = r.stages.filter((s) => s.stage === 'call_ended');
  t.equal(ended.length, 1);
  const call = ended[0]!.call;
  t.equal(call.channel.id, '1700000100.1');
  t.same(call.channel.extra['merged_linkedids'], ['1700000110.3']);
  t.match(call.channel.extra['transfers'], [{ type: 'attended', result: 'Success' }]);
  t.equal(lastConversationDuration(call), 24, '102: answered at +11 s, hung up at +35 s');
  // before the merge, the consultation had its own linkedid
  const req102 = r.stages.find((s) => s.stage === 'conversation_requested' && s.conversationId === '1700000110.4')!;
  t.equal(req102.linkedid, '1700000110.3');
  t.equal(req102.call.channel.type, 'local');
  const end102 = r.stages.find((s) => s.stage === 'conversation_ended' && s.conversationId === '1700000110.4')!;
  t.equal(end102.linkedid, '1700000100.1');
  t.equal(olderLinkedid('1700000110.3', '1700000100.1'), '1700000100.1');
  t.equal(olderLinkedid('1700000100.10', '1700000100.9'), '1700000100.9');
  t.equal(olderLinkedid('kommo-c2c-2', 'kommo-c2c-1'), 'kommo-c2c-1');
});

t.test('queue and transfer details in extra; recording file', async (t) => {
  const q = replay(loadScenario('queue-abandoned').events).stages.at(-1)!.call;
  t.equal(q.channel.extra['queue'], 'sales');
  t.equal(q.channel.extra['queue_abandoned'], true);
  t.match(q.channel.extra['recording_file'], /\.wav$/);
  const b = replay(loadScenario('blind-transfer').events).stages.at(-1)!.call;
  t.match(b.channel.extra['transfers'], [{ type: 'blind', target: '102', result: 'Success' }]);
  const first = Object.values(b.conversations)[0]!;
  t.equal(first.channel.extra['transfer'], 'blind');
  const c2c = replay(loadScenario('click-to-call').events).stages.at(-1)!.call;
  t.equal(c2c.channel.extra['originate'], 'Success:4');
});

t.test('channel names and classification', async (t) => {
  const c = createClassifier({ extensions: { alice: 7, '101': 1 }, trunks: ['trunk', 'DAHDI/g1'], extension_pattern: '^[0-9]{3}$' });
  t.match(parseChannel('PJSIP/101-0000000a', c), { tech: 'PJSIP', endpoint: '101', kind: 'extension', ext: '101', half: 0 });
  t.match(parseChannel('SIP/alice-0000000a', c), { kind: 'extension', ext: 'alice' });
  t.match(parseChannel('PJSIP/trunk-00000001', c), { kind: 'trunk', ext: '' });
  t.match(parseChannel('DAHDI/g1-1', c), { kind: 'trunk' });
  t.match(parseChannel('PJSIP/provider-x-00000001', c), { endpoint: 'provider-x', kind: 'external' });
  t.match(parseChannel('Local/102@from-queue-00000000;2', c), { tech: 'Local', endpoint: '102@from-queue', kind: 'local', ext: '102', half: 2 });
  t.match(parseChannel('Local/s@ivr-00000001;1', c), { kind: 'local', ext: '', half: 1 });
  t.equal(c.user('101')?.id, 1);
  t.equal(c.user('999'), null);
});

t.test('results from DIALSTATUS and causes', async (t) => {
  t.equal(dialStatusResult('ANSWER'), 200);
  t.equal(dialStatusResult('busy'), 486);
  t.equal(dialStatusResult('NOANSWER'), 480);
  t.equal(dialStatusResult('CANCEL'), 487);
  t.equal(dialStatusResult('CONGESTION'), 503);
  t.equal(dialStatusResult('CHANUNAVAIL'), 503);
  t.equal(dialStatusResult('GOTO'), undefined);
  t.equal(causeResult(17), 486);
  t.equal(causeResult(1), 404);
  t.equal(causeResult(28), 404);
  t.equal(causeResult(19), 480);
  t.equal(causeResult(34), 503);
  t.equal(causeResult(21), 603);
  t.equal(causeResult(127), 487);
  t.equal(causeResult(16), undefined);
});

t.test('helpers on an internal call', async (t) => {
  const call = replay(loadScenario('internal-answered').events).stages.at(-1)!.call;
  t.equal(callDirection(call), 'internal');
  t.ok(isInternal(call));
  t.equal(clientNumber(call), '');
  t.notOk(isMissed(call));
  t.equal(call.channel.from.number, '101');
  t.equal(call.channel.to.number, '102');
});

t.test('PMap: persistent set/get/delete', async (t) => {
  let m = PMap.empty<number>();
  const olds: PMap<number>[] = [];
  for (let i = 0; i < 5000; i++) {
    olds.push(m);
    m = m.set(`k${i}`, i);
  }
  t.equal(m.size, 5000);
  t.equal(m.get('k4999'), 4999);
  t.equal(olds[10]!.size, 10);
  t.equal(olds[10]!.get('k20'), undefined);
  t.equal(m.set('k1', 1), m, 'same value: same map');
  const m2 = m.set('k1', 2);
  t.equal(m.get('k1'), 1);
  t.equal(m2.get('k1'), 2);
  t.equal(m2.size, 5000);
  let d = m;
  for (let i = 0; i < 5000; i++) d = d.delete(`k${i}`);
  t.equal(d.size, 0);
  t.equal([...d.entries()].length, 0);
  t.equal(m.size, 5000);
  t.equal([...m.values()].length, 5000);
  t.equal(d.delete('nope'), d);
  t.notOk(m.has('nope'));
});
