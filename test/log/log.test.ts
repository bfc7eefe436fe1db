import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { ConfigError, KaError } from '../../lib/platform/errors.js';
import { REDACT_CENSOR, callLogger, createLogger, isSecretKey, redact, serializeError } from '../../lib/platform/log.js';
import { buildConfig } from '../../lib/platform/config/index.js';

/** A destination that keeps every JSON line. */
function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const text = (): string => chunks.join('');
  const lines = (): Array<Record<string, unknown>> =>
    text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines, text };
}

const SECRETS = {
  token: 'eyJhbGciOiJIUzI1NiJ9.LONGLIVED-SECRET-1',
  client: 'CLIENT-SECRET-2',
  refresh: 'REFRESH-SECRET-3',
  ami: 'AMI-SECRET-4',
  http: 'HTTP-SECRET-5-0123456789',
  access: 'ACCESS-SECRET-6',
  password: 'PASSWORD-SECRET-7',
};

function assertNoSecrets(t: Test, text: string): void {
  for (const [name, value] of Object.entries(SECRETS)) t.notMatch(text, value, `no ${name} secret in the output`);
}

t.test('JSON lines with level label, fields and message', async (t) => {
  const out = capture();
  const log = createLogger({ level: 'debug', destination: out.stream });
  log.info({ phone: '79991234567' }, 'contact found');
  log.trace('not written');
  const [line, ...rest] = out.lines();
  t.equal(rest.length, 0);
  t.match(line, { level: 'info', phone: '79991234567', msg: 'contact found' });
  t.type(line?.['time'], 'string');
  t.notOk(line && 'pid' in line, 'no pid/hostname noise by default');
});

t.test('secrets in logged objects are redacted', async (t) => {
  const out = capture();
  const log = createLogger({ level: 'info', destination: out.stream });
  log.info({ access_token: SECRETS.access, refresh_token: SECRETS.refresh, token: SECRETS.token }, 'top level');
  log.info({ tokens: { access_token: SECRETS.access, refresh_token: SECRETS.refresh, expires_in: 86400 } }, 'nested');
  log.info({ req: { headers: { authorization: `Bearer ${SECRETS.token}`, 'x-auth-token': SECRETS.token, host: 'x' } } }, 'request');
  log.info({ headers: { Authorization: `Bearer ${SECRETS.token}` } }, 'undici headers');
  log.info({ user: { name: 'op', password: SECRETS.password } }, 'password');
  const text = out.text();
  assertNoSecrets(t, text);
  const lines = out.lines();
  t.equal(lines[0]?.['access_token'], REDACT_CENSOR);
  t.match(lines[1], { tokens: { access_token: REDACT_CENSOR, refresh_token: REDACT_CENSOR, expires_in: 86400 } });
  t.match(lines[2], { req: { headers: { authorization: REDACT_CENSOR, 'x-auth-token': REDACT_CENSOR, host: 'x' } } });
  t.match(lines[3], { headers: { Authorization: REDACT_CENSOR } });
});

t.test('the AMI Login action is redacted', async (t) => {
  const out = capture();
  const log = createLogger({ level: 'debug', destination: out.stream });
  const action = { Action: 'Login', Username: 'kommo', Secret: SECRETS.ami, ActionID: '1' };
  log.debug({ action }, 'ami send');
  log.debug(action, 'ami send flat');
  log.debug({ queue: [action] }, 'queued');
  assertNoSecrets(t, out.text());
  t.match(out.lines()[0], { action: { Action: 'Login', Username: 'kommo', Secret: REDACT_CENSOR } });
  t.match(out.lines()[1], { Action: 'Login', Secret: REDACT_CENSOR });
});

t.test('a whole config is redacted, however it is logged', async (t) => {
  const config = buildConfig(
    {
      kommo: {
        base_url: 'https://example.kommo.com',
        oauth: { client_id: 'id', client_secret: SECRETS.client, redirect_uri: 'https://x.example/cb', refresh_token: SECRETS.refresh },
      },
      ami: { secret: SECRETS.ami },
      http: { secret: SECRETS.http, widget_secret: SECRETS.client },
    },
    { env: {} },
  );
  const configLongLived = buildConfig({ kommo: { base_url: 'https://example.kommo.com' } }, {
    env: { KOMMO_LONG_LIVED_TOKEN: SECRETS.token, AMI_SECRET: SECRETS.ami, KA_HTTP_SECRET: SECRETS.http },
  });
  const out = capture();
  const log = createLogger({ level: 'info', destination: out.stream });
  log.info({ config }, 'config');
  log.info(config, 'config flat');
  log.info({ app: { config: configLongLived } }, 'deeper');
  log.info({ kommo: config.kommo }, 'section');
  log.child({ config }).info('as bindings');
  log.child({ service: 'bridge' }).child({ kommo: { access_token: SECRETS.access } }).info('grandchild bindings');
  assertNoSecrets(t, out.text());
  t.match(out.lines()[0], {
    config: {
      kommo: { base_url: 'https://example.kommo.com', oauth: { client_id: 'id', client_secret: REDACT_CENSOR, refresh_token: REDACT_CENSOR } },
      ami: { secret: REDACT_CENSOR, username: 'kommo' },
      http: { secret: REDACT_CENSOR, widget_secret: REDACT_CENSOR },
    },
  });
  t.match(out.lines()[2], { app: { config: { kommo: { long_lived_token: REDACT_CENSOR } } } });
  t.match(out.lines()[5], { service: 'bridge', kommo: { access_token: REDACT_CENSOR } });
  t.ok(Object.isFrozen(config), 'logging did not try to mutate the frozen config');
});

t.test('several AMI servers: every server\'s secret is redacted (file and AMI_SECRET_<NAME>)', async (t) => {
  const config = buildConfig(
    {
      kommo: { base_url: 'https://example.kommo.com', long_lived_token: SECRETS.token },
      ami: [{ name: 'branch-a', secret: SECRETS.ami }, { name: 'branch-b', host: '10.0.1.5' }],
      http: { secret: SECRETS.http },
    },
    { env: { AMI_SECRET_BRANCH_B: SECRETS.password } },
  );
  const out = capture();
  const log = createLogger({ level: 'info', destination: out.stream });
  log.info({ config }, 'config');
  log.info({ servers: config.ami }, 'servers');
  assertNoSecrets(t, out.text());
  t.match(out.lines()[1], { servers: [{ name: 'branch-a', secret: REDACT_CENSOR }, { name: 'branch-b', host: '10.0.1.5', secret: REDACT_CENSOR }] });
});

t.test('errors keep code and context, secrets in context are redacted', async (t) => {
  const out = capture();
  const log = createLogger({ level: 'info', destination: out.stream });
  const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const err = new KaError('KOMMO_UNREACHABLE', 'Kommo unreachable', {
    cause, status: 503, path: '/api/v4/contacts', headers: { authorization: `Bearer ${SECRETS.token}` },
  });
  log.error({ err }, 'request failed');
  log.error({ err: new ConfigError(['a: bad', 'b: bad']) }, 'config');
  log.error({ err: 'a string was thrown' }, 'odd');
  assertNoSecrets(t, out.text());
  const [first, second, third] = out.lines();
  t.match(first, {
    err: {
      type: 'KaError', code: 'KOMMO_UNREACHABLE', message: 'Kommo unreachable', status: 503, path: '/api/v4/contacts',
      headers: { authorization: REDACT_CENSOR }, cause: { type: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
    },
  });
  t.type((first?.['err'] as Record<string, unknown>)['stack'], 'string');
  t.match(second, { err: { code: 'CONFIG_INVALID', problems: ['a: bad', 'b: bad'] } });
  t.match(third, { err: { message: 'a string was thrown' } });
});

t.test('serializeError is safe', async (t) => {
  const a = new Error('a') as Error & { other?: unknown };
  const b = new Error('b', { cause: a });
  a.other = b;
  Object.defineProperty(a, 'cause', { value: b });
  const s = serializeError(b);
  t.match(s, { message: 'b', cause: { message: 'a', other: { message: 'b', circular: true }, cause: { circular: true } } });
  t.same(serializeError(undefined), { message: 'undefined' });
  t.match(serializeError(new AggregateError([new Error('x')], 'many')), { errors: [{ message: 'x' }] });
  let deep: Error = new Error('0');
  for (let i = 1; i < 20; i++) deep = new Error(String(i), { cause: deep });
  t.doesNotThrow(() => JSON.stringify(serializeError(deep)));
  const poisoned = { toString() { throw new Error('nope'); } };
  t.doesNotThrow(() => serializeError(poisoned));
});

t.test('callLogger binds the call', async (t) => {
  const out = capture();
  const log = createLogger({ level: 'info', destination: out.stream });
  const call = callLogger(log, { linkedid: '1700000000.1', uniqueid: '1700000000.2', caller: '79991234567' });
  call.info({ stage: 'conversation_requested' }, 'ringing');
  callLogger(log, { linkedid: '1700000000.9' }).warn('no leg');
  const [first, second] = out.lines();
  t.match(first, { linkedid: '1700000000.1', uniqueid: '1700000000.2', caller: '79991234567', stage: 'conversation_requested', msg: 'ringing' });
  t.match(second, { linkedid: '1700000000.9', level: 'warn' });
  t.notOk(second && 'uniqueid' in second);
  t.notOk(second && 'caller' in second);
});

t.test('isSecretKey', async (t) => {
  const secret = [
    'secret', 'Secret', 'token', 'password', 'authorization', 'Authorization', 'x-auth-token', 'X-Auth-Token', 'cookie',
    'set-cookie', 'access_token', 'refresh_token', 'long_lived_token', 'client_secret', 'widget_secret',
    'KOMMO_LONG_LIVED_TOKEN', 'KOMMO_CLIENT_SECRET', 'AMI_SECRET', 'KA_HTTP_SECRET', 'accessToken', 'api_key', 'apiKey',
  ];
  const open = ['token_file', 'token_type', 'tokens', 'Username', 'Action', 'secretary', 'phone', 'expires_in', 'request_id', 'task_type_id'];
  for (const k of secret) t.equal(isSecretKey(k), true, k);
  for (const k of open) t.equal(isSecretKey(k), false, k);
});

t.test('redact: any depth, arrays, copy-on-write', async (t) => {
  const deep = { a: { b: { c: { d: { e: { f: [{ g: { password: 'p' } }] } } } } } };
  t.match(redact(deep), { a: { b: { c: { d: { e: { f: [{ g: { password: REDACT_CENSOR } }] } } } } } });
  t.equal(deep.a.b.c.d.e.f[0]?.g.password, 'p', 'the input is not changed');
  const clean = { a: { b: [1, 2] }, when: new Date(0) };
  t.equal(redact(clean), clean, 'nothing to redact: same object');
  t.same(redact({ secret: '', token: null }), { secret: '', token: null }, 'empty values are shown as empty');
  const cyclic: Record<string, unknown> = { name: 'x' };
  cyclic['self'] = cyclic;
  t.doesNotThrow(() => JSON.stringify(redact(cyclic)), 'cycles are cut');
  let nested: Record<string, unknown> = { secret: 's' };
  for (let i = 0; i < 20; i++) nested = { n: nested };
  t.notMatch(JSON.stringify(redact(nested)), '"s"', 'too deep is cut, not leaked');
});
