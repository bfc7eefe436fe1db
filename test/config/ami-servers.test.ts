// `ami` as one object (one server, named "pbx") or a non-empty list of named servers.
import t from 'tap';
import { ConfigError } from '../../lib/platform/errors.js';
import { amiSecretEnvName, amiServers, buildConfig, qualifiesCallIds } from '../../lib/platform/config/index.js';

const KOMMO = { base_url: 'https://example.kommo.com', long_lived_token: 'token-value' };
const HTTP = { secret: 'http-secret-0123456789' };

function problems(ami: unknown, env: Record<string, string> = {}, amiRequired = true): string[] {
  try {
    buildConfig({ kommo: KOMMO, http: HTTP, ami }, { env, amiRequired });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

t.test('one object: a list of one server named "pbx", plain journal ids', async (t) => {
  const config = buildConfig({ kommo: KOMMO, http: HTTP, ami: { host: '10.0.0.5', secret: 's' } }, { env: {} });
  const servers = amiServers(config);
  t.equal(servers.length, 1);
  t.match(servers[0], { name: 'pbx', host: '10.0.0.5', port: 5038, username: 'kommo', secret: 's', extensions: [] });
  t.equal(qualifiesCallIds(config), false, 'one server keeps plain linkedids');
  t.notOk(Array.isArray(config.ami), 'the object form stays an object (backward compatible)');
});

t.test('a list: each item gets the defaults, names kept, ids qualified', async (t) => {
  const config = buildConfig(
    { kommo: KOMMO, http: HTTP, ami: [{ name: 'branch-a', host: '10.0.0.5', secret: 'a', extensions: ['101'] }, { name: 'branch_b', port: 5039, secret: 'b' }] },
    { env: {} },
  );
  const servers = amiServers(config);
  t.same(servers.map((s) => [s.name, s.host, s.port, s.action_timeout_ms, s.extensions]), [
    ['branch-a', '10.0.0.5', 5038, 5000, ['101']],
    ['branch_b', '127.0.0.1', 5039, 5000, []],
  ]);
  t.equal(qualifiesCallIds(config), true);
  t.ok(Object.isFrozen(servers[1]), 'frozen');
});

t.test('a list of one server keeps plain journal ids', async (t) => {
  const config = buildConfig({ kommo: KOMMO, http: HTTP, ami: [{ name: 'main', secret: 's' }] }, { env: {} });
  t.equal(amiServers(config)[0]!.name, 'main');
  t.equal(qualifiesCallIds(config), false);
});

t.test('list problems: empty, not objects, no name, bad names, duplicates, an extension on two servers', async (t) => {
  t.same(problems([]), ['ami: must be an object or a non-empty list of objects, got an empty list']);
  t.same(problems(['x', { name: 'b', secret: 's' }]), ['ami[0]: must be an object, got "x"']);
  t.same(problems([{ secret: 'a' }, { name: 'b', secret: 'b' }]), ['ami[0].name: is required, e.g. "branch-a"']);
  t.same(problems([{ name: 'Branch A', secret: 'a' }, { name: 'b.1', secret: 'b' }, { name: '9x', secret: 'c' }]), [
    'ami[0].name: must be a name of lowercase letters, digits, "-" and "_", starting with a letter (at most 32), got "Branch A"',
    'ami[1].name: must be a name of lowercase letters, digits, "-" and "_", starting with a letter (at most 32), got "b.1"',
    'ami[2].name: must be a name of lowercase letters, digits, "-" and "_", starting with a letter (at most 32), got "9x"',
  ]);
  t.same(problems([{ name: 'a', secret: 'a' }, { name: 'a', secret: 'b' }]), ['ami[1].name: "a" is already the name of ami[0]; server names must be unique']);
  t.same(problems([{ name: 'branch-a', secret: 'a' }, { name: 'branch_a', secret: 'b' }]), [
    'ami[1].name: "branch_a" is already the name of ami[0]; server names must be unique',
  ], 'names that share one AMI_SECRET_<NAME> variable are duplicates');
  t.same(problems([{ name: 'a', secret: 'a', extensions: ['101', '102'] }, { name: 'b', secret: 'b', extensions: ['102'] }]), [
    'ami[1].extensions: extension "102" is already listed on ami[0]; click-to-call needs one server per extension',
  ]);
  t.same(problems([{ name: 'a', secret: 'a', hots: 'x' }, { name: 'b', secret: 'b', reconnect_min_ms: 5000, reconnect_max_ms: 1000 }]), [
    'unknown key "ami[0].hots" (did you mean "ami[0].host"?)',
    'ami[1].reconnect_min_ms: must not exceed ami[1].reconnect_max_ms (1000), got 5000',
  ]);
  t.same(problems({ name: 'Bad!', secret: 's' }), ['ami.name: must be a name of lowercase letters, digits, "-" and "_", starting with a letter (at most 32), got "Bad!"']);
});

t.test('secrets: AMI_SECRET for one server; AMI_SECRET_<NAME> per server of several; never echoed', async (t) => {
  t.equal(amiSecretEnvName('branch-a'), 'AMI_SECRET_BRANCH_A');
  const one = buildConfig({ kommo: KOMMO, http: HTTP, ami: [{ name: 'main' }] }, { env: { AMI_SECRET: 'from-env' } });
  t.equal(amiServers(one)[0]!.secret, 'from-env', 'AMI_SECRET fills a one-item list');
  const two = buildConfig(
    { kommo: KOMMO, http: HTTP, ami: [{ name: 'branch-a' }, { name: 'b', secret: 'in-file' }] },
    { env: { AMI_SECRET_BRANCH_A: 'env-a', AMI_SECRET_B: 'env-b' } },
  );
  t.same(amiServers(two).map((s) => s.secret), ['env-a', 'env-b'], 'the environment wins over the file');
  t.same(problems([{ name: 'a', secret: 'x' }, { name: 'b', secret: 'y' }], { AMI_SECRET: 'hunter2' }), [
    "ami: env AMI_SECRET is set but ami lists several servers: set each server's password in ami[].secret or env AMI_SECRET_<NAME> (e.g. AMI_SECRET_BRANCH_A), and unset AMI_SECRET",
  ]);
  t.same(problems([{ name: 'a' }, { name: 'b-2', secret: 'y' }]), ['ami[0].secret: is required: set ami[0].secret (or env AMI_SECRET_A)']);
  t.same(problems([{ name: 'a' }, { name: 'b' }], {}, false), [], 'a process without AMI (agi) needs no secrets');
  const echoed = problems([{ name: 'a', secret: 12345 }, { name: 'b', secret: 'y' }], { AMI_SECRET_B: 'hunter2' });
  t.same(echoed, ['ami[0].secret: must be a string, got a number']);
  t.notMatch(echoed.join('\n'), /hunter2|12345/);
});
