import t from 'tap';
import { createHmac } from 'node:crypto';
import { JwtError, signHs256, verifyWidgetToken } from '../../lib/adapters/http/jwt.js';

const SECRET = 'kommo-client-secret-0123456789';
const NOW = 1_750_000_000;
const claims = (over: Record<string, unknown> = {}) => ({
  iss: 'https://example.kommo.com', aud: 'https://connector.example.com', jti: 'x',
  iat: NOW - 60, nbf: NOW - 60, exp: NOW + 1800, account_id: 31234567, user_id: 777, subdomain: 'example', ...over,
});
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof JwtError ? err.code : `not a JwtError: ${String(err)}`;
  }
}

t.test('a genuine token is accepted and its claims returned', async (t) => {
  const c = verifyWidgetToken(signHs256(claims(), SECRET), { secret: SECRET, accountId: 31234567, now: NOW });
  t.equal(c.user_id, 777);
  t.equal(c.account_id, 31234567);
  t.equal(c.subdomain, 'example');
});

t.test('ids given as digit strings are read as numbers', async (t) => {
  const c = verifyWidgetToken(signHs256(claims({ user_id: '42', account_id: '31234567' }), SECRET), { secret: SECRET, accountId: 31234567, now: NOW });
  t.equal(c.user_id, 42);
  t.equal(c.account_id, 31234567);
});

t.test('forged signature: another key, a changed payload, a truncated or empty signature', async (t) => {
  t.equal(code(() => verifyWidgetToken(signHs256(claims(), 'another-secret'), { secret: SECRET, now: NOW })), 'JWT_BAD_SIGNATURE');
  const [h, , s] = signHs256(claims(), SECRET).split('.');
  t.equal(code(() => verifyWidgetToken(`${h}.${b64(claims({ user_id: 1 }))}.${s}`, { secret: SECRET, now: NOW })), 'JWT_BAD_SIGNATURE');
  t.equal(code(() => verifyWidgetToken(`${h}.${b64(claims())}.${(s ?? '').slice(0, 20)}`, { secret: SECRET, now: NOW })), 'JWT_BAD_SIGNATURE');
  t.equal(code(() => verifyWidgetToken(`${h}.${b64(claims())}.`, { secret: SECRET, now: NOW })), 'JWT_MALFORMED');
});

t.test('alg none and every other algorithm are refused, even when "signed"', async (t) => {
  const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`;
  t.equal(code(() => verifyWidgetToken(none, { secret: SECRET, now: NOW })), 'JWT_MALFORMED'); // empty signature part
  const noneSigned = signHs256(claims(), SECRET, { alg: 'none' });
  t.equal(code(() => verifyWidgetToken(noneSigned, { secret: SECRET, now: NOW })), 'JWT_ALG_NOT_ALLOWED');
  for (const alg of ['HS512', 'RS256', 'hs256', 'HS256 ', 'ES256']) {
    t.equal(code(() => verifyWidgetToken(signHs256(claims(), SECRET, { alg }), { secret: SECRET, now: NOW })), 'JWT_ALG_NOT_ALLOWED', alg);
  }
  // HS512-sized HMAC presented as HS256
  const h = b64({ alg: 'HS256' });
  const p = b64(claims());
  const s512 = createHmac('sha512', SECRET).update(`${h}.${p}`).digest('base64url');
  t.equal(code(() => verifyWidgetToken(`${h}.${p}.${s512}`, { secret: SECRET, now: NOW })), 'JWT_BAD_SIGNATURE');
});

t.test('time claims: expired, not yet valid, issued in the future, with skew', async (t) => {
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ exp: NOW - 31 }), SECRET), { secret: SECRET, now: NOW })), 'JWT_EXPIRED');
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ exp: NOW - 10 }), SECRET), { secret: SECRET, now: NOW })), undefined, 'within the skew');
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ exp: NOW - 10 }), SECRET), { secret: SECRET, now: NOW, skewSeconds: 0 })), 'JWT_EXPIRED');
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ exp: undefined }), SECRET), { secret: SECRET, now: NOW })), 'JWT_CLAIM_INVALID');
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ exp: '2099' }), SECRET), { secret: SECRET, now: NOW })), 'JWT_CLAIM_INVALID');
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ nbf: NOW + 120 }), SECRET), { secret: SECRET, now: NOW })), 'JWT_NOT_YET_VALID');
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ iat: NOW + 120 }), SECRET), { secret: SECRET, now: NOW })), 'JWT_ISSUED_IN_FUTURE');
});

t.test('account: wrong or missing account_id is refused when one is configured', async (t) => {
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ account_id: 1 }), SECRET), { secret: SECRET, accountId: 31234567, now: NOW })), 'JWT_WRONG_ACCOUNT');
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ account_id: undefined }), SECRET), { secret: SECRET, accountId: 31234567, now: NOW })), 'JWT_WRONG_ACCOUNT');
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ account_id: 1 }), SECRET), { secret: SECRET, now: NOW })), undefined, 'not configured: any account');
  t.equal(code(() => verifyWidgetToken(signHs256(claims({ user_id: -3 }), SECRET), { secret: SECRET, now: NOW })), 'JWT_CLAIM_INVALID');
});

t.test('malformed tokens', async (t) => {
  for (const bad of ['', 'a.b', 'a.b.c.d', 'a+b.c.d', `${b64([1])}.${b64({})}.x`, 'x'.repeat(9000)]) {
    t.equal(code(() => verifyWidgetToken(bad, { secret: SECRET, now: NOW })), 'JWT_MALFORMED', bad.slice(0, 30));
  }
  // The signature is checked before the payload is read: unsigned garbage is a bad signature …
  const h = b64({ alg: 'HS256' });
  t.equal(code(() => verifyWidgetToken(`${h}.bm90IGpzb24.c2ln`, { secret: SECRET, now: NOW })), 'JWT_BAD_SIGNATURE');
  // … and a signed payload that is not JSON is malformed.
  const sig = createHmac('sha256', SECRET).update(`${h}.bm90IGpzb24`).digest('base64url');
  t.equal(code(() => verifyWidgetToken(`${h}.bm90IGpzb24.${sig}`, { secret: SECRET, now: NOW })), 'JWT_MALFORMED');
  t.equal(code(() => verifyWidgetToken(signHs256(claims(), SECRET, { alg: 'HS256', typ: 'JWS' }), { secret: SECRET, now: NOW })), 'JWT_MALFORMED');
  t.equal(code(() => verifyWidgetToken(signHs256(claims(), SECRET, { alg: 'HS256', crit: ['exp'] }), { secret: SECRET, now: NOW })), 'JWT_MALFORMED');
});

t.test('no secret configured: nothing verifies', async (t) => {
  t.equal(code(() => verifyWidgetToken(signHs256(claims(), ''), { secret: '', now: NOW })), 'JWT_BAD_SIGNATURE');
});

t.test('error messages never contain the token', async (t) => {
  const token = signHs256(claims({ exp: NOW - 1000 }), SECRET);
  try {
    verifyWidgetToken(token, { secret: SECRET, now: NOW });
    t.fail('should throw');
  } catch (err) {
    t.notMatch((err as Error).message, token.split('.')[1] ?? 'never');
  }
});
