import t from 'tap';
import { ConfigError } from '../../lib/platform/errors.js';
import { amiServers, buildConfig, defaults, formatConfigError, loadConfig } from '../../lib/platform/config/index.js';

const SECRET_ENV = {
  KOMMO_LONG_LIVED_TOKEN: 'llt-secret-value',
  AMI_SECRET: 'ami-secret-value',
  KA_HTTP_SECRET: 'http-secret-value-123',
};
const MINIMAL = { kommo: { base_url: 'https://example.kommo.com' } };

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

t.test('a minimal file plus env gives the defaults, frozen', async (t) => {
  const dir = t.testdir({ 'config.json': JSON.stringify(MINIMAL) });
  const config = loadConfig({ path: `${dir}/config.json`, env: SECRET_ENV });
  t.equal(config.kommo.base_url, 'https://example.kommo.com');
  t.equal(config.kommo.long_lived_token, 'llt-secret-value');
  t.equal(amiServers(config)[0]?.secret, 'ami-secret-value');
  t.equal(config.http.secret, 'http-secret-value-123');
  t.equal(config.agi.port, defaults.agi.port);
  t.same(config.customizations.timeouts, { process_record_file_path: 10_000 });
  t.ok(Object.isFrozen(config));
  t.ok(Object.isFrozen(config.kommo.retry));
  t.ok(Object.isFrozen(config.pbx.trunks));
  t.throws(() => { (config.agi as { port: number }).port = 1; }, TypeError, 'strict mode: frozen');
  t.notOk(Object.isFrozen(defaults), 'the shared defaults are not frozen');
  t.notOk(Object.isFrozen(defaults.customizations.timeouts));
});

t.test('file problems are one message naming the path', async (t) => {
  const dir = t.testdir({
    'bad.json': '{\n  "kommo": {\n    "long_lived_token": "hunter2-secret",\n  }\n}\n',
    'truncated.json': '{"kommo": {"long_lived_token": "hunter2-secret"',
    'array.json': '[1, 2]',
    'sub': {},
    'bom.json': `\uFEFF${JSON.stringify(MINIMAL)}`,
  });
  const bad = problemsOf(() => loadConfig({ path: `${dir}/bad.json`, env: {} }));
  t.equal(bad.length, 1);
  t.match(bad[0], new RegExp(`^config file "${dir}/bad.json" is not valid JSON at line 4, column 3`));
  t.notMatch(bad[0], 'hunter2');
  const truncated = problemsOf(() => loadConfig({ path: `${dir}/truncated.json`, env: {} }));
  t.match(truncated[0], 'is not valid JSON');
  t.notMatch(truncated[0], 'hunter2');
  t.same(problemsOf(() => loadConfig({ path: `${dir}/missing.json`, env: {} })), [`config file "${dir}/missing.json" does not exist`]);
  t.same(problemsOf(() => loadConfig({ path: `${dir}/array.json`, env: {} })), [`config file "${dir}/array.json" must contain a JSON object`]);
  t.same(problemsOf(() => loadConfig({ path: `${dir}/sub`, env: {} })), [`config file "${dir}/sub" is a directory`]);
  t.equal(loadConfig({ path: `${dir}/bom.json`, env: SECRET_ENV }).kommo.base_url, 'https://example.kommo.com', 'a BOM is fine');
});

t.test('the default path is used', async (t) => {
  const problems = problemsOf(() => loadConfig({ env: {} }));
  t.match(problems[0], /^config file "\/etc\/kommo-asterisk\/config\.json"/);
});

t.test('environment', async (t) => {
  const c = buildConfig(MINIMAL, {
    env: { ...SECRET_ENV, KA_DATA_DIR: '/srv/ka', KA_LOG_LEVEL: 'debug', KOMMO_CLIENT_SECRET: 'client-secret' },
  });
  t.equal(c.data_dir, '/srv/ka');
  t.equal(c.log.level, 'debug');
  t.equal(c.http.widget_secret, 'client-secret', 'client secret doubles as widget secret');
  t.equal(c.kommo.oauth, undefined, 'no oauth object is invented for KOMMO_CLIENT_SECRET');

  const fileWins = buildConfig({ ...MINIMAL, http: { widget_secret: 'from-file' } }, { env: { ...SECRET_ENV, KOMMO_CLIENT_SECRET: 'env' } });
  t.equal(fileWins.http.widget_secret, 'from-file', 'widget_secret only when unset');

  const envWins = buildConfig({ kommo: { base_url: 'https://example.kommo.com', long_lived_token: 'file-token' } }, { env: SECRET_ENV });
  t.equal(envWins.kommo.long_lived_token, 'llt-secret-value', 'env wins over file');

  const oauth = buildConfig(
    { kommo: { base_url: 'https://example.kommo.com', oauth: { client_id: 'id', client_secret: 'file', redirect_uri: 'https://x.example/cb' } } },
    { env: { AMI_SECRET: 'a', KA_HTTP_SECRET: 'h'.repeat(16), KOMMO_CLIENT_SECRET: 'env-client', KOMMO_REFRESH_TOKEN: 'env-refresh' } },
  );
  t.match(oauth.kommo.oauth, { client_secret: 'env-client', refresh_token: 'env-refresh' });

  const empty = buildConfig(MINIMAL, { env: { ...SECRET_ENV, KA_LOG_LEVEL: '' } });
  t.equal(empty.log.level, 'info', 'an empty variable counts as unset');

  const refreshOnly = problemsOf(() => buildConfig(MINIMAL, { env: { AMI_SECRET: 'a', KA_HTTP_SECRET: 'h'.repeat(16), KOMMO_REFRESH_TOKEN: 'r' } }));
  t.same(refreshOnly, ['kommo.oauth.client_id: is required', 'kommo.oauth.client_secret: is required', 'kommo.oauth.redirect_uri: is required, e.g. "https://pbx.example.com/oauth"']);

  const badLevel = problemsOf(() => buildConfig(MINIMAL, { env: { ...SECRET_ENV, KA_LOG_LEVEL: 'verbose' } }));
  t.same(badLevel, ['log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "verbose" (from env KA_LOG_LEVEL)']);
});

t.test('merge: deep for objects, arrays replaced, overrides last', async (t) => {
  const c = buildConfig(
    {
      ...MINIMAL,
      phone: { rewrite_rules: [{ match: '^8(\\d{10})$', replace: '7$1' }] },
      pbx: { trunks: ['a', 'b'] },
      customizations: { timeouts: { need_registration: 500 } },
      kommo: { base_url: 'https://example.kommo.com', retry: { max_attempts: 3 } },
    },
    { env: SECRET_ENV, overrides: { pbx: { trunks: ['c'] }, log: { level: 'warn' }, ami: { secret: 'override' } } },
  );
  t.same(c.pbx.trunks, ['c'], 'arrays replaced');
  t.equal(c.log.level, 'warn');
  t.equal(amiServers(c)[0]?.secret, 'override', 'overrides win over env');
  t.same(c.kommo.retry, { ...defaults.kommo.retry, max_attempts: 3 }, 'nested objects merged');
  t.same(c.customizations.timeouts, { process_record_file_path: 10_000, need_registration: 500 }, 'maps merged');
  t.equal(c.phone.rewrite_rules.length, 1);
});

t.test('null on an optional key means unset; normalisation', async (t) => {
  const c = buildConfig(
    { kommo: { base_url: 'https://Example.kommo.com/' }, pbx: { default_user_id: null }, http: { public_url: 'https://pbx.example.com/ka/' } },
    { env: SECRET_ENV },
  );
  t.equal(c.pbx.default_user_id, undefined);
  t.notOk('default_user_id' in c.pbx);
  t.equal(c.kommo.base_url, 'https://example.kommo.com', 'origin only');
  t.equal(c.http.public_url, 'https://pbx.example.com/ka', 'no trailing slash');
});

t.test('prototype pollution keys are ignored by the merge', async (t) => {
  const file = JSON.parse(`{"kommo":{"base_url":"https://example.kommo.com"},"__proto__":{"polluted":true}}`) as Record<string, unknown>;
  buildConfig(file, { env: SECRET_ENV });
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

t.test('formatConfigError', async (t) => {
  const err = new ConfigError(['a: is required', 'b: must be an object, got null']);
  t.equal(formatConfigError(err), 'configuration is invalid (2 problems):\n  - a: is required\n  - b: must be an object, got null');
  t.equal(formatConfigError(new ConfigError(['x'])), 'configuration is invalid (1 problem):\n  - x');
  t.equal(formatConfigError(new Error('boom')), 'configuration could not be loaded: boom');
  t.notMatch(formatConfigError(err), /at .*\.ts/, 'no stack');
});

t.test('ami.secret is required unless the process never connects to AMI (the agi command)', async (t) => {
  const file = { kommo: { base_url: 'https://example.kommo.com', long_lived_token: 'tok' }, http: { enabled: false } };
  t.ok(problemsOf(() => buildConfig(file, { env: {} })).includes('ami.secret: is required: set ami.secret (or env AMI_SECRET)'));
  const agiOnly = buildConfig(file, { env: {}, amiRequired: false });
  t.notOk(amiServers(agiOnly)[0]?.secret, 'no secret, no problem');
  t.equal(agiOnly.agi.port, 4573);
});

t.test('kommo.realtime_reserve must leave registration at least one request per second', async (t) => {
  const file = { kommo: { base_url: 'https://example.kommo.com', long_lived_token: 'tok', rate_limit_per_second: 7, realtime_reserve: 7 }, http: { enabled: false } };
  t.match(problemsOf(() => buildConfig(file, { env: { AMI_SECRET: 'x' } })), [/^kommo\.realtime_reserve: must be less than kommo\.rate_limit_per_second \(7\), got 7/]);
  t.equal(buildConfig({ ...file, kommo: { ...file.kommo, realtime_reserve: 2 } }, { env: { AMI_SECRET: 'x' } }).kommo.realtime_reserve, 2);
});
