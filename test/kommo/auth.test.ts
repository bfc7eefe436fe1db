/** OAuth and long-lived tokens against the simulator: single-flight refresh, persistence. */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { createFileTokenStore, createKommoClient, createLimiterRegistry, isTransient, KommoAuthError, type TokenStore } from '../../lib/adapters/kommo/index.js';
import type { KommoSimulator } from '../../rig/simulator/index.js';
import { harness, kommoConfig, memoryLogger } from './helpers.js';

const oauthFrom = (sim: KommoSimulator, refresh?: string) => ({
  long_lived_token: undefined,
  oauth: {
    client_id: sim.oauth.clientId,
    client_secret: sim.oauth.clientSecret,
    redirect_uri: sim.oauth.redirectUri,
    refresh_token: refresh ?? sim.oauth.refreshToken,
  },
});

const refreshes = (sim: KommoSimulator): number => sim.counters.byRoute['POST /oauth2/access_token'] ?? 0;

t.test('20 concurrent 401s → exactly one refresh, all succeed, pair persisted before use', async (t) => {
  let simRef: KommoSimulator | undefined;
  const saves: Array<{ usedBeforeSaved: number; refreshToken: string }> = [];
  let inner: TokenStore | undefined;
  const store: TokenStore = {
    get path() { return inner?.path ?? ''; },
    load: () => (inner as TokenStore).load(),
    async save(tokens) {
      const sim = simRef as KommoSimulator;
      const from = sim.requests.length; // the refresh itself is logged already
      await new Promise((r) => setTimeout(r, 100)); // a wide window for a premature use to show
      await (inner as TokenStore).save(tokens);
      const usedBeforeSaved = sim.requests.slice(from).filter((r) => r.path.startsWith('/api/v4/') && r.auth === 'ok').length;
      saves.push({ usedBeforeSaved, refreshToken: tokens.refresh_token });
    },
  };
  const h = await harness(t, {
    sim: { rateLimitPerSecond: 0 },
    configFrom: (sim) => oauthFrom(sim),
    config: { rate_limit_per_second: 100 },
    deps: { tokenStore: store },
  });
  simRef = h.sim;
  inner = createFileTokenStore(join(h.dataDir, 'kommo-tokens.json'));
  const { client, sim } = h;

  await client.getAccount();
  t.equal(refreshes(sim), 1, 'the seed refresh token was exchanged once');

  sim.faults.expireAccessTokens();
  const before401 = sim.counters.byStatus[401] ?? 0;
  const results = await Promise.all(Array.from({ length: 20 }, () => client.getAccount()));
  t.equal(results.length, 20);
  t.ok(results.every((a) => a.id > 0), 'all 20 succeeded');
  t.equal((sim.counters.byStatus[401] ?? 0) - before401, 20, 'all 20 were answered 401 first');
  t.equal(refreshes(sim), 2, 'exactly one more POST /oauth2/access_token');
  t.equal(sim.counters.refreshes, 2);

  t.equal(saves.length, 2);
  t.ok(saves.every((s) => s.usedBeforeSaved === 0), 'no request used a new pair before it was saved');
  const onDisk = JSON.parse(await readFile(inner.path, 'utf8')) as { refresh_token: string; expires_at: number };
  t.equal(onDisk.refresh_token, sim.currentRefreshToken(), 'the latest pair is on disk');
  t.ok(onDisk.expires_at > Date.now());
  t.equal((await stat(inner.path)).mode & 0o777, 0o600, 'token file is 0600');
  t.same((await readdir(h.dataDir)).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');

  const raw = h.log.raw();
  for (const secret of [sim.oauth.clientSecret, sim.oauth.refreshToken, onDisk.refresh_token, sim.currentRefreshToken() ?? 'x']) {
    t.notOk(raw.includes(secret), 'no secret in the logs');
  }
  t.ok(h.log.lines.some((l) => l['msg'] === 'kommo token pair rotated and saved'));
});

t.test('the seed refresh token is used only when the token file does not exist', async (t) => {
  const h = await harness(t, { sim: { rateLimitPerSecond: 0 }, configFrom: (sim) => oauthFrom(sim, 'bogus-seed') });
  const { sim, dataDir } = h;
  // A pair issued earlier (e.g. by the authorize step) is already on disk.
  await writeFile(join(dataDir, 'kommo-tokens.json'), JSON.stringify({
    access_token: sim.issueAccessToken(), refresh_token: sim.oauth.refreshToken,
    expires_at: Date.now() + 3600_000, token_type: 'Bearer', updated_at: Date.now(),
  }), { mode: 0o600 });
  await h.client.getAccount();
  t.equal(refreshes(sim), 0, 'the stored access token was used as is');
  sim.faults.expireAccessTokens();
  await h.client.getAccount();
  t.equal(refreshes(sim), 1, 'the stored refresh token (not the bogus seed) was used');
});

t.test('an expiring access token is refreshed before use', async (t) => {
  const h = await harness(t, { sim: { rateLimitPerSecond: 0 }, configFrom: (sim) => oauthFrom(sim) });
  const { sim, dataDir } = h;
  await writeFile(join(dataDir, 'kommo-tokens.json'), JSON.stringify({
    access_token: sim.issueAccessToken(), refresh_token: sim.oauth.refreshToken, expires_at: Date.now() + 10_000,
  }));
  await h.client.getAccount();
  t.equal(refreshes(sim), 1);
  t.equal(sim.counters.byStatus[401] ?? 0, 0, 'no 401 was needed');
});

t.test('refresh refused → KOMMO_REFRESH_FAILED, not transient, clear message', async (t) => {
  const h = await harness(t, { sim: { rateLimitPerSecond: 0 }, configFrom: (sim) => oauthFrom(sim, 'revoked-or-wrong') });
  const err = await h.client.getAccount().catch((e: unknown) => e);
  t.ok(err instanceof KommoAuthError, String(err));
  t.match(err, { code: 'KOMMO_REFRESH_FAILED', transient: false, message: /authorize the integration again/ });
  t.equal(isTransient(err), false);
  t.notOk(h.log.raw().includes('revoked-or-wrong'), 'the refresh token is not logged');
});

t.test('refresh that cannot reach Kommo → KOMMO_REFRESH_FAILED, transient', async (t) => {
  const h = await harness(t, {
    sim: { rateLimitPerSecond: 0 }, configFrom: (sim) => oauthFrom(sim), config: { retry: { max_attempts: 1 } },
  });
  h.sim.faults.fail(1, 503);
  const err = await h.client.getAccount().catch((e: unknown) => e);
  t.match(err, { code: 'KOMMO_REFRESH_FAILED', transient: true });
  t.equal(isTransient(err), true);
  t.equal((await h.client.getAccount()).id > 0, true, 'works once Kommo is back, with the same refresh token');
});

t.test('no token file and no seed → KOMMO_NO_CREDENTIALS', async (t) => {
  const h = await harness(t, {
    configFrom: (sim) => ({ long_lived_token: undefined, oauth: { client_id: sim.oauth.clientId, client_secret: 'x', redirect_uri: sim.oauth.redirectUri } }),
  });
  await t.rejects(h.client.getAccount(), { code: 'KOMMO_NO_CREDENTIALS' });
});

t.test('a corrupt token file → KOMMO_TOKEN_STORE', async (t) => {
  const h = await harness(t, { configFrom: (sim) => oauthFrom(sim) });
  await writeFile(join(h.dataDir, 'kommo-tokens.json'), '{not json');
  await t.rejects(h.client.getAccount(), { code: 'KOMMO_TOKEN_STORE' });
});

t.test('two clients sharing the token file: the second adopts the rotated pair', async (t) => {
  const h = await harness(t, { sim: { rateLimitPerSecond: 0 }, configFrom: (sim) => oauthFrom(sim) });
  const { sim, dataDir } = h;
  const other = createKommoClient(kommoConfig(sim.url, oauthFrom(sim)), {
    logger: memoryLogger().logger, dataDir, limiters: createLimiterRegistry(),
  });
  t.teardown(() => other.destroy());
  await h.client.getAccount(); // refresh #1 (seed), saved
  await other.getAccount(); // loads the saved pair
  t.equal(refreshes(sim), 1);
  sim.faults.expireAccessTokens();
  await h.client.getAccount(); // refresh #2
  await other.getAccount(); // 401 → finds the newer pair on disk instead of burning a used token
  t.equal(refreshes(sim), 2);
  t.equal(sim.counters.byStatus[400] ?? 0, 0, 'no "refresh token revoked"');
});

t.test('long-lived token rejected → KOMMO_AUTH_FAILED, not transient', async (t) => {
  const h = await harness(t, { config: { long_lived_token: 'not-the-token' } });
  const err = await h.client.getAccount().catch((e: unknown) => e);
  t.match(err, { code: 'KOMMO_AUTH_FAILED' });
  t.equal(isTransient(err), false);
  t.notOk(h.log.raw().includes('not-the-token'));
});

t.test('no credentials at all → thrown by the factory', async (t) => {
  t.throws(() => createKommoClient(kommoConfig('http://127.0.0.1:9'), { logger: memoryLogger().logger, dataDir: '/nonexistent' }),
    { code: 'KOMMO_NO_CREDENTIALS' });
});
