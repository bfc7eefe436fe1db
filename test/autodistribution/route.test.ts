// Component test of the autodistribution route, real TCP and real HTTP: the strict Kommo
// simulator ← the real Kommo client ← the hook runner (empty customizations dir) ← the
// autodistribution service ← the FastAGI server on port 0, driven by the FastAGI client of
// the benchmark, which plays Asterisk's side of the session.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { createAgiServer } from '../../agi/server.js';
import { REPLY_RESERVE_MS, autodistributionRoute } from '../../lib/domain/autodistribution/agi-route.js';
import { runAgiSession, type AgiSessionResult } from '../../bench/agi-client.js';
import { buildAutodistribution, buildCore } from '../../bin/compose.js';
import { buildConfig } from '../../lib/platform/config/index.js';
import { SEED_IDS, startSimulator, type KommoSimulator } from '../../rig/simulator/index.js';

const U = SEED_IDS.users;
const BUDGET_MS = 300;
/** The part of the budget the route keeps for its replies. */
const RESERVE_MS = Math.min(REPLY_RESERVE_MS, BUDGET_MS / 4);
/** 30 code points: the 20-character cut shows. */
const LONG_NAME = 'Константин Константинопольский';
const KNOWN = '79991234567';
const UNKNOWN = '79990000000';

interface Rig {
  sim: KommoSimulator;
  call(callerId: string): Promise<AgiSessionResult>;
  /** Requests to Kommo's API the simulator saw (its inspection routes excluded). */
  apiRequests(): number;
}

async function rig(t: Test): Promise<Rig> {
  const sim = await startSimulator({ longLivedToken: 'route-test-token' });
  sim.seed({
    contacts: [{ name: LONG_NAME, phones: ['+7 (999) 123-45-67'], responsible_user_id: U.maria }],
  });
  const hooksDir = await mkdtemp(path.join(tmpdir(), 'ka-route-hooks-'));
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ka-route-data-'));
  const config = buildConfig(
    {
      data_dir: dataDir,
      log: { level: 'silent' },
      kommo: { base_url: sim.url, long_lived_token: sim.longLivedToken, request_timeout_ms: 2000 },
      pbx: { extensions: { '101': U.ivan, '102': U.maria } },
      ami: { secret: 'not-used-here' },
      http: { enabled: false },
      agi: { budget_ms: BUDGET_MS, command_timeout_ms: 200 },
      customizations: { dir: hooksDir },
    },
    { env: {} },
  );
  const core = buildCore(config, pino({ level: 'silent' }));
  const autodistribution = buildAutodistribution(core);
  await autodistribution.refreshUsers();
  const server = createAgiServer({
    routes: { autodistribution: autodistributionRoute(autodistribution, BUDGET_MS) },
    logger: core.logger,
    commandTimeoutMs: config.agi.command_timeout_ms,
    handlerTimeoutMs: config.agi.budget_ms + 4 * config.agi.command_timeout_ms,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(async () => {
    await server.destroy();
    autodistribution.close();
    await core.kommo.destroy();
    await core.hooks.close();
    await sim.close();
    await rm(hooksDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });
  return {
    sim,
    call: (callerId) => runAgiSession({ host: '127.0.0.1', port, callerId, timeoutMs: 5000 }),
    apiRequests: () => sim.requests.filter((r) => r.path.startsWith('/api/')).length,
  };
}

t.test('a known caller is routed to the responsible manager, name cut at 20 code points', async (t) => {
  const r = await rig(t);
  const res = await r.call(KNOWN);
  t.equal(res.variables.KOMMO_STATUS, 'found');
  t.equal(res.variables.KOMMO_EXTENSION, '102', "Maria's extension");
  const name = res.variables.KOMMO_CALLERID_NAME ?? '';
  t.equal(Array.from(name).length, 20, 'exactly 20 code points');
  t.equal(name, Array.from(LONG_NAME).slice(0, 20).join(''), 'the first 20 code points of the contact name');
  t.equal(name, 'Константин Константи');
  const sets = res.commands.filter((c) => c.startsWith('SET VARIABLE'));
  t.match(sets.at(-1) ?? '', /^SET VARIABLE "?KOMMO_STATUS"?/, 'KOMMO_STATUS is set last');
  t.ok(res.answerMs >= 0 && res.answerMs < BUDGET_MS, `answered in ${res.answerMs.toFixed(1)} ms`);
});

t.test('an unknown caller is not found', async (t) => {
  const r = await rig(t);
  const before = r.apiRequests();
  const res = await r.call(UNKNOWN);
  t.same(res.variables, { KOMMO_EXTENSION: '', KOMMO_CALLERID_NAME: '', KOMMO_STATUS: 'not_found' });
  const paths = r.sim.requests.slice(-2).map((q) => q.path);
  t.equal(r.apiRequests() - before, 2, 'searched contacts and companies');
  t.same(paths, ['/api/v4/contacts', '/api/v4/companies']);
  // "Not found" is cached too (negative TTL): the next call costs nothing.
  const again = await r.call(UNKNOWN);
  t.equal(again.variables.KOMMO_STATUS, 'not_found');
  t.equal(r.apiRequests() - before, 2, 'no request for the repeated unknown caller');
});

t.test('a hanging Kommo: "timeout" within the budget + 50 ms', async (t) => {
  const r = await rig(t);
  r.sim.faults.hang();
  const res = await r.call(KNOWN);
  t.same(res.variables, { KOMMO_EXTENSION: '', KOMMO_CALLERID_NAME: '', KOMMO_STATUS: 'timeout' });
  t.ok(res.answerMs >= BUDGET_MS - RESERVE_MS - 5, `not before the budget less the reply reserve (${res.answerMs.toFixed(1)} ms)`);
  t.ok(res.answerMs <= BUDGET_MS, `answered in ${res.answerMs.toFixed(1)} ms ≤ the budget, ${BUDGET_MS} ms`);
  t.ok(res.elapsedMs <= BUDGET_MS + 100, `session closed in ${res.elapsedMs.toFixed(1)} ms`);
  t.ok(r.sim.requests.some((q) => q.path === '/api/v4/contacts'), 'the look-up did reach Kommo');
  // A timeout is never cached as "not found": once Kommo answers, the caller is found.
  r.sim.faults.clear();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await r.call(KNOWN);
  t.equal(after.variables.KOMMO_STATUS, 'found', 'found once Kommo is back');
});

t.test('a repeated caller costs zero Kommo requests', async (t) => {
  const r = await rig(t);
  const first = await r.call(KNOWN);
  t.equal(first.variables.KOMMO_STATUS, 'found');
  const before = r.sim.requests.length;
  const apiBefore = r.apiRequests();
  const second = await r.call(KNOWN);
  t.same(second.variables, first.variables, 'the same answer');
  t.equal(r.sim.requests.length, before, 'the simulator logged no request at all');
  t.equal(r.apiRequests(), apiBefore);
  // …and also for a burst of simultaneous calls from one new number (single flight).
  r.sim.seed({ contacts: [{ name: 'Ольга', phones: ['+79997654321'], responsible_user_id: U.ivan }] });
  const burstBefore = r.apiRequests();
  const burst = await Promise.all(Array.from({ length: 10 }, () => r.call('89997654321')));
  t.ok(burst.every((b) => b.variables.KOMMO_STATUS === 'found' && b.variables.KOMMO_EXTENSION === '101'), 'all found at 101');
  t.equal(r.apiRequests() - burstBefore, 2, 'ten simultaneous calls, one look-up (contacts and companies searched in parallel)');
});
