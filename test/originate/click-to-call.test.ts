import t from 'tap';
import { AmiError } from '../../lib/protocol/ami/errors.js';
import { encodeAction } from '../../lib/protocol/ami/encoder.js';
import { createClickToCall, OriginateError, type OriginateOutcome } from '../../lib/domain/originate/index.js';
import { normalizeClientPhone, createPhoneRewriter } from '../../lib/platform/phone.js';
import { captureLogger, fakeAmi, fakeHooks, originateResponse } from './fakes.js';

// The service unrefs its result timers (a real AMI socket keeps the process up): stand in for it.
const keepAlive = setInterval(() => undefined, 1000);
t.teardown(() => clearInterval(keepAlive));

const rewriter = createPhoneRewriter([{ match: '^8(\\d{10})$', replace: '7$1' }]);
const normalizePhone = (raw: string): string | null => normalizeClientPhone(raw, rewriter);
const config = { pbx: { extensions: { '101': 5001, '102': 5002, '201': 5002 } }, originate: { ring_timeout_ms: 20_000, response_timeout_ms: 200 } };

function setup(opts: { hooks?: ReturnType<typeof fakeHooks> } = {}) {
  const ami = fakeAmi();
  const hooks = opts.hooks ?? fakeHooks();
  const log = captureLogger();
  const c2c = createClickToCall({ config, ami, hooks, normalizePhone, logger: log.logger, now: () => 1795504540763, random: () => 0.5 });
  return { ami, hooks, log, c2c };
}

t.test('the exact Originate: defaults, own channel ids, variables', async (t) => {
  const { ami, c2c, hooks } = setup();
  const out = await c2c.clickToCall({ userId: 5001, phone: '8 (999) 123-45-67', requestData: { from: 'widget' } });
  t.equal(ami.sent.length, 1);
  t.same(ami.sent[0], {
    action: 'Originate',
    Channel: 'PJSIP/101',
    Context: 'kommo-originate',
    Exten: '79991234567',
    Priority: '1',
    Timeout: '20000',
    CallerID: '"Kommo" <79991234567>',
    Async: 'true',
    ChannelId: 'ka-1795504540763-80000000',
    OtherChannelId: 'ka-1795504540763-80000000-2',
    Variable: {
      KOMMO_CLICK_TO_CALL: '1',
      KOMMO_CLIENT_NUMBER: '79991234567',
      KOMMO_CALLER_EXTENSION: '101',
      KOMMO_USER_ID: '5001',
    },
  });
  t.match(encodeAction(ami.sent[0]!), /Variable: KOMMO_USER_ID=5001\r\n/, 'variables become repeated lines');
  t.match(out, { state: 'queued', placed: true, actionId: 'fake-1', channelId: 'ka-1795504540763-80000000', extension: '101', userId: 5001, number: '79991234567', hookApplied: false });
  t.same(hooks.inputs[0], {
    caller_id: '"Kommo" <79991234567>',
    channel: 'PJSIP/101',
    context: 'kommo-originate',
    extension: '79991234567',
    priority: 1,
    request_data: { from: 'widget' },
  }, 'hook 6 gets the defaults and the request');
});

t.test('a user with several extensions rings the lowest; the CLI extension wins', async (t) => {
  const { ami, c2c } = setup();
  await c2c.clickToCall({ userId: 5002, phone: '79991234567' });
  t.equal(ami.sent[0]!['Channel'], 'PJSIP/102');
  await c2c.clickToCall({ extension: '201', phone: '79991234567' });
  t.equal(ami.sent[1]!['Channel'], 'PJSIP/201');
  t.equal((ami.sent[1]!['Variable'] as Record<string, string>)['KOMMO_USER_ID'], '5002', 'the mapped user of the extension');
  await c2c.clickToCall({ extension: '555', phone: '79991234567' });
  t.notOk('KOMMO_USER_ID' in (ami.sent[2]!['Variable'] as Record<string, string>), 'unmapped extension: no user');
});

t.test('hook 6 changes are applied', async (t) => {
  const hooks = fakeHooks(() => ({ channel: 'Local/101@from-internal', context: 'outbound-routes', extension: '+79991234567', priority: 2, caller_id: 'Sales <100>' }));
  const { ami, c2c } = setup({ hooks });
  const out = await c2c.clickToCall({ userId: 5001, phone: '79991234567' });
  t.match(ami.sent[0], { Channel: 'Local/101@from-internal', Context: 'outbound-routes', Exten: '+79991234567', Priority: '2', CallerID: 'Sales <100>' });
  t.equal((ami.sent[0]!['Variable'] as Record<string, string>)['KOMMO_CLIENT_NUMBER'], '79991234567', 'the variable keeps the normalised number');
  t.equal(out.hookApplied, true);
});

t.test('an unusable hook answer (injection) falls back to the defaults, logged', async (t) => {
  const hooks = fakeHooks(() => ({ extension: '123\r\nAction: Hangup' }));
  const { ami, c2c, log } = setup({ hooks });
  const out = await c2c.clickToCall({ userId: 5001, phone: '79991234567' });
  t.equal(ami.sent[0]!['Exten'], '79991234567');
  t.equal(out.hookApplied, false);
  t.ok(log.lines.some((l) => l['hook'] === 'process_originate_params' && l['level'] === 40), 'warned with the hook name');
  for (const bad of [{ channel: 'PJSIP/101,foo' }, { context: 'a b' }, { priority: '0' }, { caller_id: 'x\u0007' }, { channel: 'PJSIP/1&PJSIP/2' }]) {
    const h = fakeHooks(() => bad);
    const s = setup({ hooks: h });
    const o = await s.c2c.clickToCall({ userId: 5001, phone: '79991234567' });
    t.equal(o.hookApplied, false, `rejected ${JSON.stringify(bad)}`);
  }
});

t.test('a failing hook: defaults', async (t) => {
  const { ami, c2c } = setup({ hooks: fakeHooks(undefined, true) });
  await c2c.clickToCall({ userId: 5001, phone: '79991234567' });
  t.equal(ami.sent[0]!['Channel'], 'PJSIP/101');
});

t.test('bad numbers and injection attempts are rejected before anything is sent', async (t) => {
  const { ami, c2c } = setup();
  const bad = [
    '79991234567\r\nAction: Hangup',
    '79991234567\nChannel: PJSIP/999',
    '7999123@evil',
    '79991234567&PJSIP/102',
    '7999;1234',
    'abc',
    '',
    '   ',
    '12',
    '1'.repeat(21),
    '+7 999 123 45 67 ext. 5',
    '7999,1234567',
    '7999:1234567',
  ];
  for (const phone of bad) {
    await t.rejects(c2c.clickToCall({ userId: 5001, phone }), { code: 'ORIGINATE_BAD_NUMBER' }, JSON.stringify(phone));
  }
  await t.rejects(c2c.clickToCall({ userId: 5001, phone: undefined as unknown as string }), { code: 'ORIGINATE_BAD_NUMBER' });
  t.equal(ami.sent.length, 0, 'nothing reached AMI');
  // accepted formats
  for (const phone of ['+7 (999) 123-45-67', '8-999-123-45-67', '７９９９１２３４５６７', '999.123.4567', '101']) {
    await c2c.clickToCall({ userId: 5001, phone });
  }
  t.same(ami.sent.map((a) => a['Exten']), ['79991234567', '79991234567', '79991234567', '9991234567', '101']);
});

t.test('who calls: unknown user, no extension, bad extension, mismatch', async (t) => {
  const { ami, c2c } = setup();
  await t.rejects(c2c.clickToCall({ userId: 9999, phone: '79991234567' }), { code: 'ORIGINATE_UNKNOWN_USER', userId: 9999, message: /pbx\.extensions/ });
  await t.rejects(c2c.clickToCall({ phone: '79991234567' }), { code: 'ORIGINATE_NO_EXTENSION' });
  await t.rejects(c2c.clickToCall({ extension: '101\r\nAction: x', phone: '79991234567' }), { code: 'ORIGINATE_NO_EXTENSION' });
  await t.rejects(c2c.clickToCall({ extension: '101/evil', phone: '79991234567' }), { code: 'ORIGINATE_NO_EXTENSION' });
  await t.rejects(c2c.clickToCall({ extension: '101', userId: 5002, phone: '79991234567' }), { code: 'ORIGINATE_UNKNOWN_USER' });
  await t.rejects(c2c.clickToCall({ userId: -1, phone: '79991234567' }), { code: 'ORIGINATE_UNKNOWN_USER' });
  t.equal(ami.sent.length, 0);
  const err = await c2c.clickToCall({ userId: 9999, phone: '1' }).catch((e: unknown) => e);
  t.ok(err instanceof OriginateError, 'an OriginateError (a KaError)');
});

t.test('AMI down / refused / slow', async (t) => {
  const { ami, c2c } = setup();
  ami.connected = false;
  await t.rejects(c2c.clickToCall({ userId: 5001, phone: '79991234567' }), { code: 'ORIGINATE_AMI_DOWN' });
  t.equal(ami.sent.length, 0);
  ami.connected = true;
  ami.next = { error: new AmiError('AMI_NOT_CONNECTED', 'down', { action: 'Originate' }) };
  await t.rejects(c2c.clickToCall({ userId: 5001, phone: '79991234567' }), { code: 'ORIGINATE_AMI_DOWN' });
  ami.next = { error: new AmiError('AMI_ACTION_FAILED', 'x', { action: 'Originate', response: { response: 'Error', message: 'Extension does not exist.' } }) };
  await t.rejects(c2c.clickToCall({ userId: 5001, phone: '79991234567' }), { code: 'ORIGINATE_FAILED', message: /Extension does not exist/ });
  ami.next = { error: new AmiError('AMI_TIMEOUT', 'slow', { action: 'Originate' }) };
  await t.rejects(c2c.clickToCall({ userId: 5001, phone: '79991234567' }), { code: 'ORIGINATE_TIMEOUT' });
  ami.next = { error: new AmiError('AMI_CONNECTION_LOST', 'lost', { action: 'Originate' }) };
  await t.rejects(c2c.clickToCall({ userId: 5001, phone: '79991234567' }), { code: 'ORIGINATE_FAILED', maybePlaced: true });
  t.equal(ami.listenerCount(), 0, 'no listener left behind');
});

t.test('wait: pairs OriginateResponse by ActionID, ignores others', async (t) => {
  const { ami, c2c } = setup();
  const p = c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true });
  await new Promise((r) => setImmediate(r));
  ami.emitEvent(originateResponse('someone-else', 'Failure', 5));
  ami.emitEvent({ event: 'newchannel', actionid: 'fake-1' });
  ami.emitEvent(originateResponse('fake-1', 'Success', 4, 'ka-1795504540763-80000000'));
  const out = await p;
  t.match(out, { state: 'answered', placed: true, response: 'Success', reason: 4, reasonText: 'answered', actionId: 'fake-1', channel: 'PJSIP/101-00000001' });
  t.equal(ami.listenerCount(), 0, 'listeners removed');
});

t.test('wait: a Failure (busy, no channel, ringing timeout) is an outcome, not a throw', async (t) => {
  for (const [reason, text] of [[5, 'busy'], [0, 'no channel'], [3, 'ringing timeout'], [1, 'hung up'], [8, 'congestion'], [7, 'unknown (7)']] as const) {
    const { ami, c2c } = setup();
    const p = c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true });
    await new Promise((r) => setImmediate(r));
    ami.emitEvent(originateResponse('fake-1', 'Failure', reason));
    t.match(await p, { state: 'failed', placed: false, response: 'Failure', reason, reasonText: text });
  }
});

t.test('wait: an OriginateResponse in the same tick as the action response is not lost', async (t) => {
  const { ami, c2c } = setup();
  ami.next = { sameTick: (id) => [originateResponse(id, 'Failure', 0)] };
  const out = await c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true });
  t.match(out, { state: 'failed', reason: 0, reasonText: 'no channel' });
});

t.test('wait: pairs by our ChannelId when the ActionID is missing', async (t) => {
  const { ami, c2c } = setup();
  const p = c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true });
  await new Promise((r) => setImmediate(r));
  ami.emitEvent({ ...originateResponse('', 'Success', 4, 'ka-1795504540763-80000000'), actionid: undefined } as never);
  t.match(await p, { state: 'answered' });
});

t.test('wait: no OriginateResponse → ORIGINATE_TIMEOUT; link lost → ORIGINATE_FAILED', async (t) => {
  const { ami, c2c } = setup();
  await t.rejects(c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true }), { code: 'ORIGINATE_TIMEOUT', actionId: 'fake-1' });
  t.equal(ami.listenerCount(), 0);
  const p = c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true });
  await new Promise((r) => setImmediate(r));
  ami.emitDisconnected();
  await t.rejects(p, { code: 'ORIGINATE_FAILED', maybePlaced: true });
  const ac = new AbortController();
  const q = c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true, signal: ac.signal });
  await new Promise((r) => setImmediate(r));
  ac.abort();
  await t.rejects(q, { code: 'ORIGINATE_FAILED' });
  t.equal(ami.listenerCount(), 0);
});

t.test('queued: the final result still reaches onResult and the log', async (t) => {
  const { ami, c2c, log } = setup();
  const results: Array<OriginateOutcome | OriginateError> = [];
  const out = await c2c.clickToCall({ userId: 5001, phone: '79991234567' }, { onResult: (r) => results.push(r) });
  t.equal(out.state, 'queued');
  ami.emitEvent(originateResponse('fake-1', 'Failure', 5));
  await new Promise((r) => setImmediate(r));
  t.match(results, [{ state: 'failed', reasonText: 'busy' }]);
  t.ok(log.lines.some((l) => l['msg'] === 'originate result' && l['reasonText'] === 'busy'));
  // a timeout in the background is reported, never an unhandled rejection
  const results2: Array<OriginateOutcome | OriginateError> = [];
  await c2c.clickToCall({ userId: 5001, phone: '79991234567' }, { onResult: (r) => results2.push(r) });
  await new Promise((r) => setTimeout(r, 300));
  t.match(results2, [{ code: 'ORIGINATE_TIMEOUT' }]);
  t.equal(ami.listenerCount(), 0);
});

t.test('settings: defaults and tech', async (t) => {
  const ami = fakeAmi();
  const { logger } = captureLogger();
  const c2c = createClickToCall({ config: { pbx: { extensions: { '101': 1 } }, originate: { channel_tech: 'SIP' } }, ami, hooks: fakeHooks(), normalizePhone, logger });
  t.match(c2c.settings(), { channel_tech: 'SIP', context: 'kommo-originate', ring_timeout_ms: 30000, response_timeout_ms: 45000, caller_id_name: 'Kommo' });
  await c2c.clickToCall({ userId: 1, phone: '79991234567' });
  t.equal(ami.sent[0]!['Channel'], 'SIP/101');
  t.match(ami.sent[0]!['ChannelId'], /^ka-\d+-[0-9a-f]{8}$/);
});

t.test('a Failure is explained by our channel hangup cause (Asterisk 22: 486 → reason 0, cause 17)', async (t) => {
  const id = 'ka-1795504540763-80000000';
  {
    const { ami, c2c } = setup();
    const p = c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true });
    await new Promise((r) => setImmediate(r));
    ami.emitEvent({ event: 'newchannel', uniqueid: id, channel: 'PJSIP/101-00000000' });
    ami.emitEvent({ event: 'hanguprequest', uniqueid: id, cause: '17' });
    ami.emitEvent({ event: 'hangup', uniqueid: 'someone-else', cause: '21' });
    ami.emitEvent(originateResponse('fake-1', 'Failure', 0));
    t.match(await p, { state: 'failed', reason: 0, reasonText: 'busy', hangupCause: 17 });
  }
  {
    // the cause comes just after the OriginateResponse
    const { ami, c2c } = setup();
    const p = c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true });
    await new Promise((r) => setImmediate(r));
    ami.emitEvent({ event: 'newchannel', uniqueid: id, channel: 'PJSIP/101-00000000' });
    ami.emitEvent(originateResponse('fake-1', 'Failure', 0));
    setTimeout(() => ami.emitEvent({ event: 'hangup', uniqueid: id, cause: '21' }), 20);
    t.match(await p, { state: 'failed', reasonText: 'rejected', hangupCause: 21 });
  }
  {
    // a channel that never existed: no wait, Asterisk's reason
    const { ami, c2c } = setup();
    const p = c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true });
    await new Promise((r) => setImmediate(r));
    const started = Date.now();
    ami.emitEvent(originateResponse('fake-1', 'Failure', 0));
    const out = await p;
    t.match(out, { reasonText: 'no channel' });
    t.equal(out.hangupCause, undefined);
    t.ok(Date.now() - started < 200, 'no grace wait');
  }
});
