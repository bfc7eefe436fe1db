// The popup notifier with a fake Kommo client and fake hooks: who is notified, batching,
// the deadline "while it rings", bounds and failures. (The real endpoint: test/kommo/events.test.ts;
// the real Asterisk: test/e2e/notify.test.ts.)
import t, { type Test } from 'tap';
import { KommoError } from '../../lib/adapters/kommo/index.js';
import { createNotifier, type NotifierOptions, type NotifyHooks, type NotifyKommo } from '../../lib/domain/notify/index.js';
import type { StageEffect } from '../../lib/domain/tracker/types.js';
import { createPhoneRewriter, normalizeClientPhone } from '../../lib/platform/phone.js';
import { captureLogger, makeCall } from '../registration/helpers.js';

interface Sent {
  items: ReadonlyArray<{ phone: string; users: readonly number[] }>;
  opts: { signal: AbortSignal; priority: string; retryBudgetMs: number };
  settle: (err?: unknown) => void;
}

function fakeKommo(mode: 'answer' | 'hold' = 'answer'): NotifyKommo & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    addCallNotifications(items, opts) {
      return new Promise<void>((resolve, reject) => {
        const settle = (err?: unknown): void => (err === undefined ? resolve() : reject(err));
        sent.push({ items, opts, settle });
        opts.signal.addEventListener('abort', () => reject(new KommoError('KOMMO_ABORTED', 'aborted')), { once: true });
        if (mode === 'answer') setImmediate(() => settle());
      });
    },
  };
}

const noHooks: NotifyHooks = {
  isActive: () => false,
  run: async (_h, _i, defaults) => ({ data: defaults }),
};

const rewrite = createPhoneRewriter([{ match: '^8(\\d{10})$', replace: '7$1' }]);
const OPTS: NotifierOptions = { enabled: true, batchMs: 20, maxInFlight: 10, timeoutMs: 5000, internalMaxDigits: 5 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function setup(t: Test, over: Partial<NotifierOptions> = {}, kommo = fakeKommo(), hooks = noHooks) {
  const log = captureLogger();
  const n = createNotifier({ ...OPTS, ...over }, { kommo, hooks, normalizePhone: (raw) => normalizeClientPhone(raw, rewrite), logger: log.logger });
  t.teardown(() => n.close());
  return { n, kommo, log };
}

/** The `conversation_requested` effect of leg `i` (0-based) of `call`. */
function ring(call: ReturnType<typeof makeCall>, i: number): StageEffect {
  const id = Object.keys(call.conversations)[i] as string;
  return { type: 'stage', stage: 'conversation_requested', linkedid: call.channel.id, conversationId: id, call };
}

t.test('a ring group: both rings in one request naming both users; the number rewritten; realtime lane', async (t) => {
  const { n, kommo } = setup(t);
  const call = makeCall({ client: '8 (999) 123-45-67', legs: [{ ext: '101' }, { ext: '102' }] });
  n.ringing(ring(call, 0), Date.now());
  n.ringing(ring(call, 1), Date.now());
  t.equal(kommo.sent.length, 0, 'nothing is sent synchronously (the bridge is never held up)');
  await sleep(60);
  t.equal(kommo.sent.length, 1, 'one request');
  t.same(kommo.sent[0]?.items, [{ phone: '79991234567', users: [5001, 5002] }]);
  t.equal(kommo.sent[0]?.opts.priority, 'realtime');
  t.equal(kommo.sent[0]?.opts.retryBudgetMs, 5000);
  const s = n.stats();
  t.equal(s.sent_total, 1);
  t.equal(s.users_notified_total, 2);
  t.equal(s.in_flight, 0);
  t.equal(s.latency_ms.count, 1);
});

t.test('hook 3 decides the number (stage conversation_requested, the call as call_full)', async (t) => {
  const seen: Array<Record<string, unknown>> = [];
  const hooks: NotifyHooks = {
    isActive: () => true,
    run: async (_h, input, _d, opts) => {
      seen.push({ ...input, signal: opts?.signal instanceof AbortSignal });
      return { data: { phone: `+${input.phone}` } };
    },
  };
  const { n, kommo } = setup(t, {}, fakeKommo(), hooks);
  const call = makeCall({ client: '89991234567', legs: [{ ext: '102' }] });
  n.ringing(ring(call, 0), Date.now());
  await sleep(60);
  t.match(seen, [{ call_stage: 'conversation_requested', phone: '79991234567', signal: true }]);
  t.equal(seen[0]?.['call_full'], call);
  t.same(kommo.sent[0]?.items, [{ phone: '+79991234567', users: [5002] }]);
});

t.test('no popup for outbound and internal calls, unmapped extensions, anonymous or internal numbers, or when disabled', async (t) => {
  const { n, kommo } = setup(t);
  n.ringing(ring(makeCall({ direction: 'outgoing', legs: [{ ext: '101' }] }), 0), Date.now());
  n.ringing(ring(makeCall({ direction: 'local', client: '102', legs: [{ ext: '101' }] }), 0), Date.now());
  n.ringing(ring(makeCall({ legs: [{ ext: '109', userId: null }] }), 0), Date.now());
  n.ringing(ring(makeCall({ client: 'anonymous', legs: [{ ext: '101' }] }), 0), Date.now());
  n.ringing(ring(makeCall({ client: '104', legs: [{ ext: '101' }] }), 0), Date.now());
  await sleep(60);
  t.equal(kommo.sent.length, 0);
  t.same(n.stats().skipped, { not_inbound: 2, no_user: 1, no_number: 2 });

  const off = setup(t, { enabled: false });
  off.n.ringing(ring(makeCall({ legs: [{ ext: '101' }] }), 0), Date.now());
  await sleep(60);
  t.equal(off.kommo.sent.length, 0);
  t.same(off.n.stats().skipped, { disabled: 1 });
});

t.test('answered before the request left: never sent', async (t) => {
  const { n, kommo } = setup(t);
  const call = makeCall({ legs: [{ ext: '101' }] });
  const e = ring(call, 0);
  n.ringing(e, Date.now());
  n.stopped(call.channel.id, e.conversationId!);
  await sleep(60);
  t.equal(kommo.sent.length, 0);
  t.equal(n.stats().late_total, 1);

  // A ring that reaches the notifier after its stop (hook 1 took a while) is not sent either.
  const call2 = makeCall({ legs: [{ ext: '102' }] });
  const e2 = ring(call2, 0);
  n.stopped(call2.channel.id, e2.conversationId!);
  n.ringing(e2, Date.now());
  await sleep(60);
  t.equal(kommo.sent.length, 0);
  t.equal(n.stats().late_total, 2);
});

t.test('under way when the phone stops ringing: aborted (no retry after), counted late, logged at debug', async (t) => {
  const { n, kommo, log } = setup(t, {}, fakeKommo('hold'));
  const call = makeCall({ legs: [{ ext: '101' }, { ext: '102' }] });
  n.ringing(ring(call, 0), Date.now());
  n.ringing(ring(call, 1), Date.now());
  await sleep(60);
  const sent = kommo.sent[0]!;
  n.stopped(call.channel.id, ring(call, 0).conversationId!);
  t.notOk(sent.opts.signal.aborted, 'still ringing at 102');
  n.stopped(call.channel.id, ring(call, 1).conversationId!);
  t.ok(sent.opts.signal.aborted, 'the last ringing phone stopped: aborted');
  await sleep(10);
  const s = n.stats();
  t.equal(s.late_total, 1);
  t.equal(s.failed_total, 0);
  t.equal(s.in_flight, 0);
  t.ok(log.lines.some((l) => l['level'] === 20 && /stopped ringing/.test(String(l['msg']))), 'a debug line');
  t.notOk(log.lines.some((l) => (l['level'] as number) >= 40), 'no warning for a late popup');
});

t.test('the end of the call aborts what is under way; a later ring (a transfer target) is a request of its own', async (t) => {
  const { n, kommo } = setup(t, {}, fakeKommo('hold'));
  const call = makeCall({ legs: [{ ext: '101' }, { ext: '102' }] });
  n.ringing(ring(call, 0), Date.now());
  await sleep(60);
  n.ringing(ring(call, 1), Date.now());
  await sleep(60);
  t.equal(kommo.sent.length, 2, 'the second ring came after the first request left');
  t.same(kommo.sent.map((s) => s.items[0]?.users), [[5001], [5002]]);
  n.callEnded(call.channel.id);
  t.ok(kommo.sent.every((s) => s.opts.signal.aborted));
  await sleep(10);
  t.equal(n.stats().late_total, 2);
});

t.test('a merge (attended transfer, pickup) carries the notifications to the surviving call', async (t) => {
  const { n, kommo } = setup(t, {}, fakeKommo('hold'));
  const call = makeCall({ legs: [{ ext: '101' }] });
  n.ringing(ring(call, 0), Date.now());
  await sleep(60);
  n.merged(call.channel.id, 'other.1');
  n.callEnded(call.channel.id);
  t.notOk(kommo.sent[0]?.opts.signal.aborted, 'the old linkedid is gone');
  n.callEnded('other.1');
  t.ok(kommo.sent[0]?.opts.signal.aborted, 'ended with the call it merged into');
});

t.test('a failure while still ringing is counted by code and logged; it never throws', async (t) => {
  const kommo = fakeKommo('hold');
  const { n, log } = setup(t, {}, kommo);
  const call = makeCall({ legs: [{ ext: '101' }] });
  n.ringing(ring(call, 0), Date.now());
  await sleep(60);
  kommo.sent[0]?.settle(new KommoError('KOMMO_RATE_LIMITED', 'rate-limit queue is full'));
  await sleep(10);
  const s = n.stats();
  t.equal(s.failed_total, 1);
  t.same(s.failed_by_code, { KOMMO_RATE_LIMITED: 1 });
  t.ok(log.lines.some((l) => l['level'] === 40 && l['code'] === 'KOMMO_RATE_LIMITED'));
});

t.test('bounded: beyond max_in_flight a popup is dropped and counted, not queued', async (t) => {
  const { n, kommo } = setup(t, { maxInFlight: 2 }, fakeKommo('hold'));
  for (let i = 0; i < 3; i++) n.ringing(ring(makeCall({ legs: [{ ext: '101' }] }), 0), Date.now());
  await sleep(60);
  t.equal(kommo.sent.length, 2);
  t.equal(n.stats().dropped_total, 1);
  t.equal(n.stats().in_flight, 2);
  await n.close();
  t.equal(n.stats().in_flight, 0, 'close() aborted them and waited');
  t.ok(kommo.sent.every((s) => s.opts.signal.aborted));
  n.ringing(ring(makeCall({ legs: [{ ext: '101' }] }), 0), Date.now());
  await sleep(40);
  t.equal(kommo.sent.length, 2, 'nothing after close()');
});
