import t from 'tap';
import { ConfigError } from '../../lib/platform/errors.js';
import { HOOK_NAMES, buildConfig, describeValue, validateConfig } from '../../lib/platform/config/index.js';

const ENV = { KOMMO_LONG_LIVED_TOKEN: 'token-value', AMI_SECRET: 'ami-pass', KA_HTTP_SECRET: 'http-secret-0123456789' };
const BASE = { kommo: { base_url: 'https://example.kommo.com' } };

function problems(file: Record<string, unknown>, env: Record<string, string> = ENV): string[] {
  try {
    buildConfig(file, { env });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

const withKommo = (kommo: Record<string, unknown>): Record<string, unknown> => ({ kommo: { ...BASE.kommo, ...kommo } });

t.test('valid minimal config has no problems', async (t) => {
  t.same(problems(BASE), []);
});

t.test('every problem is reported together', async (t) => {
  const got = problems({
    kommo: { base_url: 'foo', bse_url: 'x', rate_limit_per_second: 0 },
    agi: { port: 'x', budget_ms: 1.5 },
    pbx: { extensions: { 101: 'bob', '1a': 5, 102: 5002 }, trunks: ['trunk', 'bad trunk'], extension_pattern: '([0-9' },
    phone: { rewrite_rules: [{ match: '(', replace: '7$1' }, { match: '^8(\\d{10})$', replace: '+7$1' }, { match: '^8(\\d{10})$', replace: '7$2' }] },
    customizations: { timeouts: { process_record_filepath: 1000, need_registration: 'fast' } },
    registration: { blacklist: { numbers: ['+7 999'] }, tasks: { enabled: 'yes' } },
    recordings: { mp3_bitrate: 33 },
    log: { level: 'verbose' },
    lgo: {},
  }, { AMI_SECRET: 'a', KA_HTTP_SECRET: 'h'.repeat(16) });
  t.same(got, [
    'log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "verbose"',
    'kommo.base_url: must be an http(s) URL, got "foo"',
    'kommo.rate_limit_per_second: must be an integer between 1 and 100, got 0',
    'unknown key "kommo.bse_url" (did you mean "kommo.base_url"?)',
    'phone.rewrite_rules[0].match: must be a valid regular expression (Unterminated group), got "("',
    'pbx.extensions["101"]: must be a Kommo user id (positive integer), got "bob"',
    'pbx.extensions["1a"]: an extension must be digits only',
    'pbx.trunks[1]: must be an endpoint name (no spaces or "/"), got "bad trunk"',
    'pbx.extension_pattern: must be a valid regular expression (Unterminated character class), got "([0-9"',
    'agi.port: must be an integer between 1 and 65535, got "x"',
    'agi.budget_ms: must be an integer between 100 and 30000, got 1.5',
    'registration.tasks.enabled: must be true or false, got "yes"',
    'registration.blacklist.numbers[0]: must be digits only (1–20), got "+7 999"',
    'recordings.mp3_bitrate: must be one of 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, got 33',
    `customizations.timeouts["process_record_filepath"]: unknown hook "process_record_filepath"; hooks are: ${HOOK_NAMES.join(', ')}`,
    'customizations.timeouts["need_registration"]: must be an integer between 10 and 600000, got "fast"',
    'unknown key "lgo" (did you mean "log"?)',
    'kommo: a token is required: set kommo.long_lived_token (or env KOMMO_LONG_LIVED_TOKEN) or kommo.oauth',
    'phone.rewrite_rules[1].replace: may contain only digits and $1-style references, got "+7$1"',
    'phone.rewrite_rules[2].replace: refers to $2 but the match has 1 group(s)',
  ]);
});

t.test('the 13 hooks', async (t) => {
  t.equal(HOOK_NAMES.length, 13);
  t.equal(new Set(HOOK_NAMES).size, 13);
  const timeouts = Object.fromEntries(HOOK_NAMES.map((h) => [h, 1000]));
  t.same(problems({ ...BASE, customizations: { timeouts } }), []);
});

t.test('base_url', async (t) => {
  t.same(problems({ kommo: {} }), ['kommo.base_url: is required, e.g. "https://example.kommo.com"']);
  t.same(problems(withKommo({ base_url: 'ftp://example.kommo.com' })), ['kommo.base_url: must be an http(s) URL, got "ftp://example.kommo.com"']);
  t.same(problems(withKommo({ base_url: 'https://example.kommo.com/api/v4' })), [
    'kommo.base_url: must be the account\'s base URL without a path, e.g. "https://example.kommo.com", got "https://example.kommo.com/api/v4"',
  ]);
  t.same(problems(withKommo({ base_url: 'http://127.0.0.1:8090' })), []);
  t.same(problems(withKommo({ base_url: 42 })), ['kommo.base_url: must be a string, got 42']);
});

t.test('tokens', async (t) => {
  const noToken = { AMI_SECRET: 'a', KA_HTTP_SECRET: 'h'.repeat(16) };
  t.same(problems(withKommo({ long_lived_token: '' }), noToken), [
    'kommo.long_lived_token: must not be empty',
    'kommo: a token is required: set kommo.long_lived_token (or env KOMMO_LONG_LIVED_TOKEN) or kommo.oauth',
  ]);
  const oauth = { client_id: 'id', client_secret: 'cs-value', redirect_uri: 'https://pbx.example.com/oauth' };
  t.same(problems(withKommo({ oauth }), noToken), []);
  t.same(problems(withKommo({ oauth }), ENV), [
    'kommo: set either kommo.long_lived_token (or env KOMMO_LONG_LIVED_TOKEN) or kommo.oauth, not both',
  ]);
  t.same(problems(withKommo({ long_lived_token: 'abc def' }), noToken), [
    'kommo.long_lived_token: must be a token without whitespace, got a string (value hidden)',
  ]);
  t.same(problems(withKommo({ oauth: { ...oauth, redirect_uri: 'nope', extra: 1 } }), noToken), [
    'kommo.oauth.redirect_uri: must be an http(s) URL, got "nope"',
    'unknown key "kommo.oauth.extra"',
  ]);
});

t.test('secrets are never echoed', async (t) => {
  const secret = 'S3CR3T-VALUE-eyJ';
  const got = problems({
    kommo: { base_url: 'https://example.kommo.com', long_lived_token: ` ${secret}`, oauth: { client_secret: 5, refresh_token: `${secret} x` } },
    ami: { secret: 12345 },
    http: { secret: 'short', widget_secret: ['x'] },
  }, {});
  t.ok(got.length >= 5, got.join('\n'));
  for (const p of got) {
    t.notMatch(p, secret);
    t.notMatch(p, '12345');
    t.notMatch(p, 'short');
  }
  t.ok(got.includes('ami.secret: must be a string, got a number'));
  t.ok(got.includes('http.secret: must be at least 16 characters'));
  t.ok(got.includes('http.widget_secret: must be a string, got an array'));
  t.equal(describeValue('eyJhbGciOiJIUzI1NiJ9.payload.sig'), 'a string (value hidden)', 'token-looking values in any key');
  t.equal(describeValue('Bearer abc'), 'a string (value hidden)');
  t.equal(describeValue('x'.repeat(100)), JSON.stringify(`${'x'.repeat(57)}...`));
});

t.test('secrets required by use', async (t) => {
  t.same(problems(BASE, { KOMMO_LONG_LIVED_TOKEN: 't' }), [
    'ami.secret: is required: set ami.secret (or env AMI_SECRET)',
    'http.secret: is required when http.enabled is true: set http.secret (or env KA_HTTP_SECRET), at least 16 characters',
  ]);
  t.same(problems({ ...BASE, http: { enabled: false } }, { KOMMO_LONG_LIVED_TOKEN: 't', AMI_SECRET: 'a' }), []);
});

t.test('unknown keys: suggestions', async (t) => {
  t.same(problems({ ...BASE, agi: { budgetms: 1000 } }), ['unknown key "agi.budgetms" (did you mean "agi.budget_ms"?)']);
  t.same(problems({ ...BASE, kommo: { ...BASE.kommo, rewrite_rules: [] } }), ['unknown key "kommo.rewrite_rules" (did you mean "phone.rewrite_rules"?)']);
  t.same(problems({ ...BASE, ami: { Host: 'x' } }), ['unknown key "ami.Host" (did you mean "ami.host"?)']);
  t.same(problems({ ...BASE, zzz: 1 }), ['unknown key "zzz"']);
  t.same(problems({ ...BASE, '//': 'a comment', pbx: { '// note': 'x' } }), [], '"//" keys are comments');
});

t.test('extensions', async (t) => {
  t.same(problems({ ...BASE, pbx: { extensions: { 101: 5001, 102: 0, 103: -1, 104: 1.5 } } }), [
    'pbx.extensions["102"]: must be a Kommo user id (positive integer), got 0',
    'pbx.extensions["103"]: must be a Kommo user id (positive integer), got -1',
    'pbx.extensions["104"]: must be a Kommo user id (positive integer), got 1.5',
  ]);
  t.same(problems({ ...BASE, pbx: { extensions: { 123456: 1, 7: 2 } } }), [
    'pbx.extensions["7"]: does not match pbx.extension_pattern "^[0-9]{2,5}$"',
    'pbx.extensions["123456"]: has more than phone.internal_max_digits (5) digits, so it would be taken for a client\'s number',
  ]);
  t.same(problems({ ...BASE, pbx: { extensions: [] } }), ['pbx.extensions: must be an object, got an array']);
  t.same(problems({ ...BASE, pbx: { default_user_id: 'x' } }), ['pbx.default_user_id: must be a Kommo user id (positive integer), got "x"']);
});

t.test('ordered pairs', async (t) => {
  t.same(problems({ ...BASE, ami: { reconnect_min_ms: 5000, reconnect_max_ms: 1000 }, agi: { command_timeout_ms: 2000, budget_ms: 1000 } }), [
    'ami.reconnect_min_ms: must not exceed ami.reconnect_max_ms (1000), got 5000',
    'agi.command_timeout_ms: must not exceed agi.budget_ms (1000), got 2000',
  ]);
  t.same(problems({ ...BASE, kommo: { ...BASE.kommo, retry: { base_delay_ms: 60_000, max_delay_ms: 1000 } } }), [
    'kommo.retry.base_delay_ms: must not exceed kommo.retry.max_delay_ms (1000), got 60000',
  ]);
});

t.test('wrong container types', async (t) => {
  t.same(problems({ ...BASE, phone: null }), ['phone: must be an object, got null']);
  t.same(problems({ ...BASE, pbx: { trunks: 'trunk' } }), ['pbx.trunks: must be an array, got "trunk"']);
  t.same(problems({ ...BASE, phone: { rewrite_rules: [{ match: '^1$' }, 'x'] } }), [
    'phone.rewrite_rules[0].replace: is required, e.g. "7$1"',
    'phone.rewrite_rules[1]: must be an object, got "x"',
  ]);
  const r = validateConfig('nope');
  t.same(r.problems, ['config: must be an object, got "nope"']);
});
