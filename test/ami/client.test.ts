import t from 'tap';
import { pino } from 'pino';
import { createAmiClient, type AmiClient } from '../../lib/protocol/ami/client.js';
import { AmiError } from '../../lib/protocol/ami/errors.js';
import type { AmiEvent } from '../../lib/protocol/ami/events.js';
import type { AmiConfig } from '../../lib/platform/config/types.js';
import { defaults } from '../../lib/platform/config/defaults.js';
import { FakeAmi, type FakeAmiOptions } from './fake-ami-server.js';

const logger = pino({ level: 'silent' });

function config(port: number, over: Partial<AmiConfig> = {}): AmiConfig {
  return {
    ...defaults.ami,
    host: '127.0.0.1',
    port,
    username: 'kommo',
    secret: 'sesame',
    action_timeout_ms: 400,
    reconnect_min_ms: 20,
    reconnect_max_ms: 80,
    max_queued_actions: 5,
    ...over,
  };
}

async function setup(
  t: { teardown: (fn: () => unknown) => void },
  opts: FakeAmiOptions = {},
  over: Partial<AmiConfig> = {},
): Promise<{ fake: FakeAmi; client: AmiClient }> {
  const fake = new FakeAmi(opts);
  const port = await fake.listen();
  const client = createAmiClient(config(port, over), { logger, random: () => 0.5 });
  t.teardown(async () => {
    client.destroy();
    await fake.close();
  });
  return { fake, client };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function code(err: unknown): string | undefined {
  return err instanceof AmiError ? err.code : undefined;
}

const LIVE = {
  Channel: 'PJSIP/trunk-00000001',
  ChannelState: '6',
  ChannelStateDesc: 'Up',
  CallerIDNum: '79001234567',
  Uniqueid: '1700000000.1',
  Linkedid: '1700000000.1',
  Application: 'Dial',
  Duration: '00:00:12',
};

t.test('login ok: connected, resync with the live channels, actions answered, events typed', async (t) => {
  const { fake, client } = await setup(t, { channels: [LIVE] });
  const resynced = new Promise<AmiEvent[]>((resolve) => client.on('resync', resolve));
  await client.connect();
  t.ok(client.isConnected());
  const channels = await resynced;
  t.equal(channels.length, 1);
  t.equal(channels[0]?.event, 'coreshowchannel');
  t.equal(channels[0]?.['uniqueid'], '1700000000.1');
  t.equal(fake.received('CoreShowChannels').length, 1);

  const pong = await client.action({ action: 'Ping' });
  t.equal(pong.response, 'Success');
  t.equal(pong['ping'], 'Pong');

  const got = new Promise<AmiEvent>((resolve) => client.on('event', resolve));
  fake.broadcast({ Event: 'VarSet', Channel: 'PJSIP/101-00000002', Uniqueid: '1.2', Variable: 'DIALSTATUS', Value: 'ANSWER' });
  const e = await got;
  t.same(e, { event: 'varset', channel: 'PJSIP/101-00000002', uniqueid: '1.2', variable: { DIALSTATUS: '' }, value: 'ANSWER' },
    'keys lowercased, event name lowercased, Variable line as the package parses it');
});

t.test('a wrong secret fails connect() quickly with AMI_LOGIN_FAILED and does not retry', async (t) => {
  const { fake, client } = await setup(t, { secret: 'other' }, { action_timeout_ms: 2000 });
  const started = Date.now();
  const err = await client.connect().catch((e: unknown) => e);
  t.equal(code(err), 'AMI_LOGIN_FAILED');
  t.match((err as Error).message, /login refused/);
  t.notMatch((err as Error).message, /sesame/, 'the secret is never in the message');
  t.ok(Date.now() - started < 1000, 'well within the action timeout');
  await sleep(150);
  t.equal(fake.connections, 1, 'no reconnect after a refused first login');
  t.notOk(client.isConnected());
});

t.test('a login that is never answered fails with AMI_TIMEOUT at the deadline', async (t) => {
  const { client } = await setup(t, { silentLogin: true }, { action_timeout_ms: 150 });
  const started = Date.now();
  const err = await client.connect().catch((e: unknown) => e);
  t.equal(code(err), 'AMI_TIMEOUT');
  t.ok(Date.now() - started >= 140);
});

t.test('nobody listening: AMI_CONNECT_FAILED with the socket error as cause', async (t) => {
  const fake = new FakeAmi();
  const port = await fake.listen();
  await fake.close();
  const client = createAmiClient(config(port), { logger });
  t.teardown(() => client.destroy());
  const err = await client.connect().catch((e: unknown) => e);
  t.equal(code(err), 'AMI_CONNECT_FAILED');
  t.match((err as Error).cause, { code: 'ECONNREFUSED' });
});

t.test('action deadline, error responses, abort', async (t) => {
  const { client } = await setup(t);
  await client.connect();
  const started = Date.now();
  const err = await client.action({ action: 'Silent' }, { timeoutMs: 100 }).catch((e: unknown) => e);
  t.equal(code(err), 'AMI_TIMEOUT');
  t.ok(Date.now() - started >= 95);
  t.match(err, { action: 'Silent' });

  const failed = await client.action({ action: 'NoSuchThing' }).catch((e: unknown) => e);
  t.equal(code(failed), 'AMI_ACTION_FAILED');
  t.match(failed, { response: { response: 'Error', message: 'Invalid/unknown command' } });

  const ac = new AbortController();
  const pending = client.action({ action: 'Silent' }, { signal: ac.signal, timeoutMs: 5000 });
  ac.abort(new Error('user left'));
  t.equal(code(await pending.catch((e: unknown) => e)), 'AMI_ABORTED');
  const pre = await client.action({ action: 'Ping' }, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
  t.equal(code(pre), 'AMI_ABORTED');

  // still usable
  t.equal((await client.action({ action: 'Ping' })).response, 'Success');
});

t.test('CR or LF in a field is AMI_INVALID_FIELD naming the field, and nothing is sent', async (t) => {
  const { fake, client } = await setup(t);
  const resynced = new Promise((r) => client.on('resync', r));
  await client.connect();
  await resynced;
  const before = fake.actions.length;
  const cases: [Record<string, unknown>, string][] = [
    [{ action: 'Originate', channel: 'Local/101@ctx', callerid: 'evil\r\nAction: Hangup' }, 'callerid'],
    [{ action: 'Setvar', variable: 'X', value: 'a\nb' }, 'value'],
    [{ action: 'Originate', channel: 'Local/101@ctx', variable: { KA_FROM: 'ok', KA_NAME: 'x\ry' } }, 'variable.KA_NAME'],
    [{ action: 'Ping', 'bad key': '1' }, 'bad key'],
  ];
  for (const [fields, name] of cases) {
    const err = await client.action(fields as never).catch((e: unknown) => e);
    t.equal(code(err), 'AMI_INVALID_FIELD', name);
    t.equal((err as AmiError).field, name);
    t.match((err as Error).message, name);
  }
  await sleep(30);
  t.equal(fake.actions.length, before, 'the server received none of them');
});

t.test('actionList collects the items until EventList: Complete', async (t) => {
  const { client } = await setup(t, { channels: [LIVE, { ...LIVE, Uniqueid: '1700000000.2', Channel: 'PJSIP/101-00000002' }] });
  await client.connect();
  const res = await client.actionList({ action: 'CoreShowChannels' });
  t.equal(res.response.response, 'Success');
  t.same(res.events.map((e) => e['uniqueid']), ['1700000000.1', '1700000000.2']);
  t.equal(res.complete?.event, 'coreshowchannelscomplete');
});

t.test('reconnect after the server drops the socket, with resync; queued actions run after login', async (t) => {
  const { fake, client } = await setup(t, { channels: [LIVE] });
  let resyncs = 0;
  const first = new Promise((r) => client.on('resync', r));
  client.on('resync', () => resyncs++);
  await client.connect();
  await first;
  const disconnected = new Promise<Error | undefined>((r) => client.on('disconnected', r));
  const reconnected = new Promise<void>((r) => client.on('connected', r));
  fake.dropAll();
  const why = await disconnected;
  t.equal(code(why), 'AMI_CONNECTION_LOST');
  t.notOk(client.isConnected());

  // while down: a Ping waits in the queue, an Originate fails at once
  const ping = client.action({ action: 'Ping' }, { timeoutMs: 2000 });
  const orig = await client.action({ action: 'Originate', channel: 'Local/101@from-internal' }).catch((e: unknown) => e);
  t.equal(code(orig), 'AMI_NOT_CONNECTED');

  await reconnected;
  t.equal((await ping).response, 'Success', 'the queued Ping was sent after the new login');
  await sleep(30);
  t.equal(fake.connections, 2);
  t.equal(fake.received('CoreShowChannels').length, 2, 'CoreShowChannels after every login');
  t.equal(resyncs, 2);
  t.equal(fake.received('Originate').length, 0, 'the Originate never reached Asterisk');
});

t.test('an Originate in flight when the link drops fails and is never replayed', async (t) => {
  const { fake, client } = await setup(t, {
    handlers: { originate: (_a, conn) => void setTimeout(() => conn.socket.destroy(), 10) },
  });
  await client.connect();
  const reconnected = new Promise<void>((r) => client.on('connected', r));
  const err = await client.action({ action: 'Originate', channel: 'Local/101@from-internal', async: 'true' }).catch((e: unknown) => e);
  t.equal(code(err), 'AMI_CONNECTION_LOST');
  await reconnected;
  await sleep(50);
  t.equal(fake.received('Originate').length, 1, 'sent once, never again');
});

t.test('a queued action still times out at its deadline while the link is down', async (t) => {
  const { fake, client } = await setup(t, {}, { reconnect_min_ms: 5000, reconnect_max_ms: 5000 });
  await client.connect();
  const disconnected = new Promise((r) => client.on('disconnected', r));
  fake.dropAll();
  await disconnected;
  const err = await client.action({ action: 'Ping' }, { timeoutMs: 60 }).catch((e: unknown) => e);
  t.equal(code(err), 'AMI_TIMEOUT');
  t.match(err, { queued: true });
});

t.test('bounded queue: AMI_QUEUE_FULL; destroy() rejects the rest with AMI_CLOSED', async (t) => {
  const { client } = await setup(t);
  const queued = Array.from({ length: 5 }, () => client.action({ action: 'Ping' }, { timeoutMs: 5000 }).catch((e: unknown) => e));
  const full = await client.action({ action: 'Ping' }).catch((e: unknown) => e);
  t.equal(code(full), 'AMI_QUEUE_FULL');
  client.destroy();
  client.destroy();
  for (const p of queued) t.equal(code(await p), 'AMI_CLOSED');
});

t.test('close(): no reconnect afterwards, idempotent, later actions AMI_CLOSED', async (t) => {
  const { fake, client } = await setup(t);
  await client.connect();
  const inflight = client.action({ action: 'Ping' });
  const closing = client.close();
  t.equal(client.close(), closing, 'the same promise');
  t.equal((await inflight).response, 'Success', 'close drains what is in flight');
  await closing;
  t.notOk(client.isConnected());
  await sleep(150);
  t.equal(fake.connections, 1, 'no reconnect after close');
  t.equal(code(await client.action({ action: 'Ping' }).catch((e: unknown) => e)), 'AMI_CLOSED');
  t.equal(code(await client.connect().catch((e: unknown) => e)), 'AMI_CLOSED');
  client.destroy();
});

t.test('close() before the first login ends the attempt; connect() rejects', async (t) => {
  const { fake, client } = await setup(t, { silentLogin: true }, { action_timeout_ms: 2000 });
  const connecting = client.connect().catch((e: unknown) => e);
  await sleep(50);
  await client.close();
  t.equal(code(await connecting), 'AMI_CLOSED');
  await sleep(100);
  t.equal(fake.connections, 1);
});

t.test('a throwing event listener is logged, never breaks the session', async (t) => {
  const { fake, client } = await setup(t);
  await client.connect();
  const seen: string[] = [];
  client.on('event', () => {
    throw new Error('consumer bug');
  });
  client.on('event', (e) => seen.push(e.event));
  fake.broadcast({ Event: 'Newchannel', Uniqueid: '1.1' });
  await sleep(30);
  t.same(seen, ['newchannel']);
  t.equal((await client.action({ action: 'Ping' })).response, 'Success');
});


t.test('connect({ retry: true }) keeps trying on its own backoff, never sooner than reconnect_min_ms', async (t) => {
  const probe = new FakeAmi();
  const port = await probe.listen();
  await probe.close(); // a port that refuses, for now
  const lines: Array<{ msg: string; delayMs?: number }> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const client = createAmiClient(config(port, { reconnect_min_ms: 200, reconnect_max_ms: 400 }), { logger: log, random: () => 0 });
  t.teardown(() => client.destroy());
  const started = Date.now();
  const connected = client.connect({ retry: true });
  await sleep(700);
  const fake = new FakeAmi();
  await fake.listen(port);
  t.teardown(() => fake.close());
  await connected;
  t.ok(client.isConnected(), 'connected once the server is there');
  const delays = lines.filter((l) => l.msg === 'AMI reconnect scheduled').map((l) => l.delayMs ?? -1);
  t.ok(delays.length >= 2, `retried on its own (${delays.join(', ')} ms)`);
  t.ok(delays.every((d) => d >= 200 && d <= 400), 'every delay within [reconnect_min_ms, reconnect_max_ms], jitter 0 included');
  t.ok(Date.now() - started >= 700);

  const once = createAmiClient(config(port + 1 === 65536 ? 1 : port + 1), { logger, random: () => 0 });
  t.teardown(() => once.destroy());
  await t.rejects(once.connect(), { code: 'AMI_CONNECT_FAILED' }, 'without retry the first failure is the caller\'s (check)');
});
