// The bridge in-process with a fake AMI (an EventEmitter) and a fake registrar, fed
// from the recorded AMI fixtures: stages → hook 1, call_ended → submit, merges,
// recordings, resync, drain.
import { EventEmitter } from 'node:events';
import t from 'tap';
import { pino } from 'pino';
import type { AmiEvent } from '../../lib/protocol/ami/events.js';
import { createBridge, withRecordingCandidates, type BridgeAmi, type BridgeRegistrar } from '../../lib/domain/bridge/index.js';
import type { CallFull, CallStage } from '../../lib/domain/call/types.js';
import type { FilterVerdict } from '../../lib/domain/registration/index.js';
import { loadRecorded, recordedScenarios, testContext } from '../tracker/replay.js';

class FakeAmi extends EventEmitter implements BridgeAmi {
  connected = false;
  connects = 0;
  failFirst = 0;
  connectOptions: unknown[] = [];
  /** Like the AMI client: with `retry` the refused attempts are retried inside connect(). */
  async connect(options?: { retry?: boolean }): Promise<void> {
    this.connects++;
    this.connectOptions.push(options);
    while (this.failFirst-- > 0) {
      if (!options?.retry) throw new Error('refused');
      await new Promise((r) => setTimeout(r, 2));
    }
    this.connected = true;
    this.emit('connected');
  }
  isConnected(): boolean {
    return this.connected;
  }
  feed(events: AmiEvent[]): void {
    for (const e of events) this.emit('event', e);
  }
}

interface FakeRegistrar extends BridgeRegistrar {
  submitted: CallFull[];
  asked: Array<{ stage: CallStage; linkedid: string }>;
  closed: number;
}

function fakeRegistrar(say: (stage: CallStage, call: CallFull) => FilterVerdict = () => ({ register: true }), submitDelayMs = 0): FakeRegistrar {
  const r: FakeRegistrar = {
    submitted: [],
    asked: [],
    closed: 0,
    async submit(call) {
      if (submitDelayMs) await new Promise((res) => setTimeout(res, submitDelayMs));
      r.submitted.push(call);
    },
    async shouldRegister(stage, call) {
      return say(stage, call).register;
    },
    async verdict(stage, call) {
      r.asked.push({ stage, linkedid: call.channel.id });
      return say(stage, call);
    },
    async close() {
      r.closed++;
    },
  };
  return r;
}

const config = { pbx: { extensions: { '101': 1001, '102': 1002, '103': 1003 }, trunks: ['trunk'], extension_pattern: '^[0-9]{2,5}$' } };
const logger = pino({ level: 'silent' });

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

t.test('every recorded scenario: exactly one submit per call, hook 1 asked at each conversation stage', async (t) => {
  for (const name of recordedScenarios()) {
    const ami = new FakeAmi();
    const registrar = fakeRegistrar();
    const bridge = createBridge({ config, ami, registrar, logger, trackerContext: testContext() });
    await bridge.start();
    ami.feed(loadRecorded(name));
    await settle();
    const s = bridge.stats();
    t.equal(registrar.submitted.length, s.stages.call_ended, `${name}: one submit per call_ended`);
    t.ok(registrar.submitted.length >= 1, `${name}: at least one call`);
    t.equal(registrar.asked.length, s.stages.conversation_requested + s.stages.conversation_accepted + s.stages.conversation_ended, `${name}: hook 1 at every conversation stage`);
    t.equal(s.calls_in_progress, 0, `${name}: nothing left in progress`);
    await bridge.close();
    t.equal(registrar.closed, 1, 'close() closes the registrar');
  }
});

t.test('attended transfer: the merged calls are submitted once', async (t) => {
  const ami = new FakeAmi();
  const registrar = fakeRegistrar();
  const bridge = createBridge({ config, ami, registrar, logger, trackerContext: testContext() });
  await bridge.start();
  ami.feed(loadRecorded('attended-transfer'));
  await settle();
  t.equal(registrar.submitted.length, 1, 'one call: the consultation call joined the original');
  t.ok(Object.keys(registrar.submitted[0]!.conversations).length >= 2, 'with the conversations of both');
  await bridge.close();
});

t.test('a call refused by hook 1 at a conversation stage is never submitted; "internal" early waits for the end', async (t) => {
  const ami = new FakeAmi();
  let n = 0;
  const registrar = fakeRegistrar((stage) => (stage === 'conversation_accepted' && ++n === 1 ? { register: false, reason: 'hook_need_registration' } : { register: true }));
  const bridge = createBridge({ config, ami, registrar, logger, trackerContext: testContext() });
  await bridge.start();
  ami.feed(loadRecorded('inbound-answered'));
  await settle();
  t.equal(registrar.submitted.length, 0);
  t.equal(bridge.stats().rejected_total, 1);
  await bridge.close();

  const ami2 = new FakeAmi();
  const reg2 = fakeRegistrar(() => ({ register: false, reason: 'internal' }));
  const b2 = createBridge({ config, ami: ami2, registrar: reg2, logger, trackerContext: testContext() });
  await b2.start();
  ami2.feed(loadRecorded('inbound-answered'));
  await settle();
  t.equal(reg2.submitted.length, 1, 'an early "internal" verdict does not stick: the pipeline decides at call_ended');
  await b2.close();
});

t.test('MIXMONITOR_FILENAME values go with the call as recording candidates', async (t) => {
  const events = loadRecorded('inbound-answered');
  const first = events.find((e) => e.event === 'newchannel')!;
  const varset = (value: string): AmiEvent =>
    ({ event: 'varset', channel: first['channel'], uniqueid: first['uniqueid'], linkedid: first['linkedid'], variable: 'MIXMONITOR_FILENAME', value }) as AmiEvent;
  const at = events.findIndex((e) => e.event === 'dialbegin');
  const fed = [...events.slice(0, at), varset('/rec/a.wav'), varset('/rec/b.wav'), varset('/rec/a.wav'), ...events.slice(at)];
  const ami = new FakeAmi();
  const registrar = fakeRegistrar();
  const bridge = createBridge({ config, ami, registrar, logger, trackerContext: testContext() });
  await bridge.start();
  ami.feed(fed);
  await settle();
  t.equal(registrar.submitted.length, 1);
  const candidates = registrar.submitted[0]!.channel.extra['recording_candidates'] as Array<{ path: string }>;
  t.match(candidates[0]!.path, /\.wav$/, 'the recorded MixMonitor file of the fixture');
  t.same(candidates.slice(1), [
    { path: '/rec/a.wav', uniqueid: first['uniqueid'] },
    { path: '/rec/b.wav', uniqueid: first['uniqueid'] },
  ]);
  const plain = registrar.submitted[0]!;
  t.equal(withRecordingCandidates(plain, []), plain, 'no candidates: the same object');
  await bridge.close();
});

t.test('resync after a reconnect: a call that ended while away is submitted once', async (t) => {
  const events = loadRecorded('inbound-answered');
  const cut = events.findIndex((e) => e.event === 'bridgeenter');
  const ami = new FakeAmi();
  const registrar = fakeRegistrar();
  const bridge = createBridge({ config, ami, registrar, logger, trackerContext: testContext() });
  await bridge.start();
  ami.feed(events.slice(0, cut + 1));
  ami.emit('disconnected', new Error('lost'));
  ami.emit('resync', []);
  await settle();
  t.equal(registrar.submitted.length, 1);
  t.equal(bridge.stats().resyncs_total, 1);
  ami.feed(events.slice(cut + 1));
  await settle();
  t.equal(registrar.submitted.length, 1, 'its late events do not submit it again');
  await bridge.close();
});

t.test('start leaves reconnecting to the AMI client; close drains submits before closing the registrar', async (t) => {
  const ami = new FakeAmi();
  ami.failFirst = 2;
  const registrar = fakeRegistrar(undefined, 30);
  const bridge = createBridge({ config, ami, registrar, logger, trackerContext: testContext(), firstConnectWaitMs: 5 });
  await bridge.start();
  await new Promise((r) => setTimeout(r, 50));
  t.equal(ami.connects, 1, 'one connect({ retry: true }): the bridge has no retry loop of its own');
  t.same(ami.connectOptions, [{ retry: true }]);
  t.ok(bridge.stats().ami_connected);
  ami.feed(loadRecorded('inbound-busy'));
  const closing = bridge.close();
  ami.feed(loadRecorded('inbound-answered'));
  await closing;
  t.equal(registrar.submitted.length, 1, 'the ended call was stored; events after close() were not taken');
  t.equal(registrar.closed, 1);
  t.equal(ami.listenerCount('event'), 0, 'listeners removed');
});

t.test('a journal that refuses the call is retried, then counted', async (t) => {
  const ami = new FakeAmi();
  const registrar = fakeRegistrar();
  let fails = 1;
  const submit = registrar.submit.bind(registrar);
  registrar.submit = async (call) => {
    if (fails-- > 0) throw new Error('disk full');
    return submit(call);
  };
  const bridge = createBridge({ config, ami, registrar, logger, trackerContext: testContext(), submitAttempts: 2 });
  await bridge.start();
  ami.feed(loadRecorded('inbound-busy'));
  await bridge.close();
  t.equal(registrar.submitted.length, 1);
  t.equal(bridge.stats().submit_failed_total, 0);
});

t.test('popups: a ring hook 1 lets through goes to the notifier; answers and the end reach it at once', async (t) => {
  const seen: string[] = [];
  const notifier = {
    ringing: (e: { conversationId?: string; call: CallFull }) => seen.push(`ring ${e.call.conversations[e.conversationId!]?.user?.extension ?? '?'}`),
    stopped: (_l: string, id: string) => seen.push(`stop ${id}`),
    callEnded: () => seen.push('end'),
    merged: () => seen.push('merged'),
  };
  const events = loadRecorded('ringgroup-answered');
  const lastDial = events.map((e) => e.event).lastIndexOf('dialbegin');
  const ami = new FakeAmi();
  const bridge = createBridge({ config, ami, registrar: fakeRegistrar(), notifier, logger, trackerContext: testContext() });
  await bridge.start();
  ami.feed(events.slice(0, lastDial + 1));
  await settle();
  t.same(seen.sort(), ['ring 102', 'ring 103'], 'both ringing phones of the ring group, nothing else yet');
  seen.length = 0;
  ami.feed(events.slice(lastDial + 1));
  await settle();
  t.ok(seen.filter((s) => s.startsWith('stop')).length >= 2, 'each conversation stopped ringing (answered or ended)');
  t.notOk(seen.some((s) => s.startsWith('ring')), 'no ring after');
  t.equal(seen.at(-1), 'end', 'the end of the call last');

  // The whole call before hook 1 answered (a slow hook): the phones no longer ring, no popup.
  const late: string[] = [];
  const ami2 = new FakeAmi();
  const bridge2 = createBridge({ config, ami: ami2, registrar: fakeRegistrar(), notifier: { ...notifier, ringing: () => late.push('ring') }, logger, trackerContext: testContext() });
  await bridge2.start();
  ami2.feed(events);
  await settle();
  t.same(late, [], 'answered and ended before the verdict: no popup');

  // Hook 1 says no at conversation_requested: no popup.
  const refused: string[] = [];
  const ami3 = new FakeAmi();
  const refusing = fakeRegistrar(() => ({ register: false, reason: 'hook_need_registration' }));
  const bridge3 = createBridge({ config, ami: ami3, registrar: refusing, notifier: { ...notifier, ringing: () => refused.push('ring') }, logger, trackerContext: testContext() });
  await bridge3.start();
  ami3.feed(events.slice(0, lastDial + 1));
  await settle();
  t.same(refused, [], 'refused by hook 1: no popup');
  await Promise.all([bridge.close(), bridge2.close(), bridge3.close()]);
});
