/**
 * `http.admin_password`: the scrypt hash `kommo-asterisk admin-password` prints (the
 * built CLI, password on stdin), the configuration accepts it and refuses a plain
 * password, and the panel's checker accepts exactly that password.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hashAdminPassword, isAdminHash, passwordChecker } from '../../../lib/adapters/http/admin/index.js';
import { validateConfig } from '../../../lib/platform/config/validate.js';
import { defaults as DEFAULTS } from '../../../lib/platform/config/defaults.js';

const BIN = 'dist/bin/kommo-asterisk.js';

function run(stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, 'admin-password'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

t.test('the CLI hashes a password from stdin; the hash checks it and nothing else', async (t) => {
  t.ok(existsSync(BIN), 'the CLI is built (npm test builds first)');
  const r = await run('a very long admin password\n');
  t.equal(r.code, 0, r.stderr);
  const hash = r.stdout.trim();
  t.ok(isAdminHash(hash), hash);
  t.notMatch(r.stdout, /very long/, 'the password is not echoed');
  const check = passwordChecker({ secret: 'connector-secret-0123456789', admin_password: hash });
  t.equal(await check('a very long admin password'), true);
  t.equal(await check('a very long admin password '), false);
  t.equal(await check('connector-secret-0123456789'), false, 'the shared secret no longer works');
  t.equal(await check(''), false);
  const short = await run('short\n');
  t.equal(short.code, 2, 'a short password is refused');
  t.match(short.stderr, /at least 12 characters/);
  t.equal(short.stdout, '');
});

t.test('the checker without admin_password: the shared secret, never an empty one', async (t) => {
  t.equal(await passwordChecker({ secret: 'connector-secret-0123456789' })('connector-secret-0123456789'), true);
  t.equal(await passwordChecker({ secret: 'connector-secret-0123456789' })('connector-secret-012345678'), false);
  t.equal(await passwordChecker({ secret: '' })(''), false);
  t.equal(await passwordChecker({ secret: 'x'.repeat(16), admin_password: 'scrypt$1$1$1$bad$bad' })('x'.repeat(16)), false, 'a malformed hash opens nothing');
});

t.test('the configuration takes a hash and refuses a plain password', async (t) => {
  const hash = await hashAdminPassword('another long password', { N: 1024, r: 8, p: 1 });
  const base = { ...structuredClone(DEFAULTS), kommo: { ...structuredClone(DEFAULTS.kommo), base_url: 'https://example.kommo.com', long_lived_token: 'x' } } as Record<string, unknown>;
  const withHttp = (http: Record<string, unknown>) => ({ ...base, http: { ...(base['http'] as object), secret: 'connector-secret-0123456789', ...http } });
  t.same(validateConfig(withHttp({ admin_password: hash }), new Map(), { amiRequired: false }).problems, []);
  const plain = validateConfig(withHttp({ admin_password: 'hunter2hunter2' }), new Map(), { amiRequired: false }).problems;
  t.match(plain.join('\n'), /http\.admin_password: must be an scrypt hash/);
  t.notMatch(plain.join('\n'), /hunter2/, 'the refused value is not echoed');
  const off = validateConfig(withHttp({ admin_enabled: 'no' }), new Map(), { amiRequired: false }).problems;
  t.match(off.join('\n'), /http\.admin_enabled/);
});
