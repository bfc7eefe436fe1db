import t from 'tap';
import { call, withSim } from './helpers.js';

const tokenBody = (sim: { oauth: { clientId: string; clientSecret: string; redirectUri: string } }, extra: Record<string, string>) => ({
  client_id: sim.oauth.clientId, client_secret: sim.oauth.clientSecret, redirect_uri: sim.oauth.redirectUri, ...extra,
});

t.test('missing, malformed and unknown Bearer tokens answer 401 problem+json', async (t) => {
  const sim = await withSim(t);
  for (const [token, auth] of [[null, 'none'], ['nope', 'bad']] as const) {
    const a = await call(sim, 'GET', '/api/v4/account', undefined, token);
    t.equal(a.status, 401);
    t.match(a.type, /^application\/problem\+json/);
    t.match(a.json, { title: 'Unauthorized', type: 'https://httpstatus.es/401', status: 401, detail: String });
    t.equal(sim.requests.at(-1)?.auth, auth);
  }
  const raw = await call(sim, 'GET', '/api/v4/contacts', undefined, null, { authorization: sim.longLivedToken });
  t.equal(raw.status, 401, 'token without "Bearer " is refused');
  const ok = await call(sim, 'GET', '/api/v4/account');
  t.equal(ok.status, 200);
  t.match(ok.type, /^application\/hal\+json/);
  t.equal(sim.requests.at(-1)?.auth, 'ok');
});

t.test('refresh tokens rotate and are single-use; the old access token dies', async (t) => {
  const sim = await withSim(t);
  const first = sim.currentRefreshToken();
  t.type(first, 'string');
  const r1 = await call(sim, 'POST', '/oauth2/access_token', tokenBody(sim, { grant_type: 'refresh_token', refresh_token: first! }), null);
  t.equal(r1.status, 200);
  t.match(r1.json, { token_type: 'Bearer', expires_in: 86400, access_token: String, refresh_token: String });
  t.not(r1.json.refresh_token, first);
  t.equal(sim.currentRefreshToken(), r1.json.refresh_token);
  t.equal((await call(sim, 'GET', '/api/v4/account', undefined, r1.json.access_token)).status, 200);

  const reuse = await call(sim, 'POST', '/oauth2/access_token', tokenBody(sim, { grant_type: 'refresh_token', refresh_token: first! }), null);
  t.equal(reuse.status, 400);
  t.match(reuse.json, { title: 'Bad Request', status: 400, hint: 'Token has been revoked' });

  const r2 = await call(sim, 'POST', '/oauth2/access_token', tokenBody(sim, { grant_type: 'refresh_token', refresh_token: r1.json.refresh_token }), null);
  t.equal(r2.status, 200);
  t.equal((await call(sim, 'GET', '/api/v4/account', undefined, r1.json.access_token)).status, 401, 'access token of the old pair revoked');
  t.equal((await call(sim, 'GET', '/api/v4/account', undefined, r2.json.access_token)).status, 200);
  t.equal(sim.counters.refreshes, 2);
  t.equal(sim.counters.byRoute['POST /oauth2/access_token'], 3);

  const bogus = await call(sim, 'POST', '/oauth2/access_token', tokenBody(sim, { grant_type: 'refresh_token', refresh_token: 'x.y.z' }), null);
  t.equal(bogus.status, 400);
  t.equal(bogus.json.hint, 'Cannot decrypt the refresh token');
});

t.test('wrong client secret answers 401; a form body works too', async (t) => {
  const sim = await withSim(t);
  const bad = await call(sim, 'POST', '/oauth2/access_token',
    tokenBody(sim, { client_secret: 'wrong', grant_type: 'refresh_token', refresh_token: sim.currentRefreshToken()! }), null);
  t.equal(bad.status, 401);
  t.equal(sim.counters.refreshes, 0);
  const form = new URLSearchParams(tokenBody(sim, { grant_type: 'refresh_token', refresh_token: sim.currentRefreshToken()! })).toString();
  const ok = await call(sim, 'POST', '/oauth2/access_token', form, null, { 'content-type': 'application/x-www-form-urlencoded' });
  t.equal(ok.status, 200);
  t.type(ok.json.access_token, 'string');
});

t.test('authorization_code grant works once', async (t) => {
  const sim = await withSim(t, { oauth: { clientId: 'c', clientSecret: 's', redirectUri: 'https://x.test/cb', refreshToken: 'r0', authorizationCode: 'CODE1' } });
  const body = { client_id: 'c', client_secret: 's', redirect_uri: 'https://x.test/cb', grant_type: 'authorization_code', code: 'CODE1' };
  const a = await call(sim, 'POST', '/oauth2/access_token', body, null);
  t.equal(a.status, 200);
  const again = await call(sim, 'POST', '/oauth2/access_token', body, null);
  t.equal(again.status, 400);
  t.equal(again.json.hint, 'Authorization code has been revoked');
  const wrongUri = await call(sim, 'POST', '/oauth2/access_token', { ...body, redirect_uri: 'https://evil.test' }, null);
  t.equal(wrongUri.status, 400);
});

t.test('expireAccessTokens makes issued access tokens answer 401, long-lived stays valid', async (t) => {
  const sim = await withSim(t);
  const token = sim.issueAccessToken();
  t.equal((await call(sim, 'GET', '/api/v4/users', undefined, token)).status, 200);
  sim.faults.expireAccessTokens();
  const a = await call(sim, 'GET', '/api/v4/users', undefined, token);
  t.equal(a.status, 401);
  t.match(a.json.detail, /expired/);
  t.equal((await call(sim, 'GET', '/api/v4/users')).status, 200);
});

t.test('access tokens expire after their ttl (injected clock)', async (t) => {
  let now = 1_700_000_000_000;
  const sim = await withSim(t, { now: () => now, oauth: { clientId: 'c', clientSecret: 's', redirectUri: 'u', refreshToken: 'r', accessTokenTtlSeconds: 60 } });
  const token = sim.issueAccessToken();
  t.equal((await call(sim, 'GET', '/api/v4/account', undefined, token)).status, 200);
  now += 61_000;
  t.equal((await call(sim, 'GET', '/api/v4/account', undefined, token)).status, 401);
});

t.test('the request log never holds token values or secrets', async (t) => {
  const sim = await withSim(t);
  const refresh = sim.currentRefreshToken()!;
  await call(sim, 'POST', '/oauth2/access_token', tokenBody(sim, { grant_type: 'refresh_token', refresh_token: refresh }), null);
  await call(sim, 'GET', '/api/v4/account');
  const log = JSON.stringify(sim.requests);
  t.notOk(log.includes(refresh), 'no refresh token');
  t.notOk(log.includes(sim.oauth.clientSecret), 'no client secret');
  t.notOk(log.includes(sim.longLivedToken), 'no bearer token');
  t.equal(sim.requests.length, 2);
});
