// Faults on the Kommo side, end to end (real Asterisk, SIPp, simulator, the real
// bridge in this process, OAuth tokens):
//  - Kommo down for 30 s while 50 calls are made → after recovery all 50 are registered
//    once (one call record each, one contact);
//  - bursts of 429 and an expired access token while calls are registered → no loss,
//    no duplicate.
import t from 'tap';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { callsFor, contactsWith, placeCall, sleep, startRig, tasksMentioning, waitFor, waitRegistered, type Rig } from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  let rig: Rig;
  t.before(async () => {
    // OAuth (not the long-lived token) so that an expired access token can be tested.
    rig = await startRig({
      config: {
        kommo: { long_lived_token: undefined, oauth: { client_id: 'sim-client-id', client_secret: 'sim-client-secret', redirect_uri: 'https://connector.example.test/oauth/callback', refresh_token: '__REFRESH__' } },
      },
      deferConfig: (file, sim) => {
        const k = file['kommo'] as Record<string, unknown>;
        delete k['long_lived_token'];
        (k['oauth'] as Record<string, unknown>)['refresh_token'] = sim.currentRefreshToken();
      },
    });
  });
  t.teardown(() => rig?.close());

  const uniqs = (phone: string): Set<unknown> => new Set(callsFor(rig.sim, phone).map((c) => c.body['uniq']));

  t.test('Kommo down for 30 s during 50 calls: after recovery all 50 registered once', async (t) => {
    const phone = '79995552001';
    const before = { total: rig.sim.counters.total, dropped: rig.sim.counters.dropped };
    const t0 = Date.now();
    rig.sim.faults.down(30_000);
    const placed = await placeCall(rig, {
      from: 'trunk', service: '201', caller: phone, durationMs: 1000, calls: 50, rate: 2, limit: 10, timeoutMs: 90_000,
      uas: [{ at: '101', scenario: 'uas-answer', durationMs: 200 }],
    });
    t.equal(placed.caller.code, 0, `SIPp placed the 50 calls: ${placed.caller.stderr.slice(-300)}`);
    const callsDoneAt = Date.now();
    t.equal(callsFor(rig.sim, phone).length, 0, 'nothing registered while Kommo is down');
    const stored = rig.bridge!.bridge.stats().submitted_total;
    t.equal(stored, 50, 'all 50 ended calls are in the journal');
    const upAt = t0 + 30_000;
    await sleep(Math.max(0, upAt - Date.now()));
    await waitFor('50 call records', () => callsFor(rig.sim, phone).length >= 50, 120_000, 200);
    const drainedAt = Date.now();
    await waitRegistered(rig, phone, 50, 30_000);
    await sleep(2000);
    const calls = callsFor(rig.sim, phone);
    t.equal(calls.length, 50, 'exactly 50 call records');
    t.equal(uniqs(phone).size, 50, 'one per call (distinct uniq)');
    t.equal(contactsWith(rig.sim, phone).length, 1, 'one contact, created once');
    t.equal(tasksMentioning(rig.sim, phone).length, 0);
    const s = rig.bridge!.registrar.stats();
    t.equal(s.pending, 0);
    t.equal(s.failed, 0);
    t.comment(
      `outage: calls=50, calls placed in ${((callsDoneAt - t0) / 1000).toFixed(1)} s, Kommo requests=${rig.sim.counters.total - before.total} ` +
        `(dropped while down=${rig.sim.counters.dropped - before.dropped}), 429s=${rig.sim.counters.rateLimited}, ` +
        `time to drain after recovery=${((drainedAt - upAt) / 1000).toFixed(1)} s`,
    );
  });

  t.test('429 bursts and an expired access token while 20 calls are registered: no loss, no duplicate', async (t) => {
    const phone = '79995552002';
    const before = { total: rig.sim.counters.total, rateLimited: rig.sim.counters.rateLimited, refreshes: rig.sim.counters.refreshes, s429: rig.sim.counters.byStatus[429] ?? 0 };
    // For ~20 s: a burst of four 429s every 4 s, and the access token expired twice.
    let stop = false;
    const chaos = (async () => {
      for (let i = 0; i < 5 && !stop; i++) {
        if (i === 1 || i === 3) rig.sim.faults.expireAccessTokens();
        rig.sim.faults.fail(4, 429);
        await sleep(4000);
      }
    })();
    const t0 = Date.now();
    const placed = await placeCall(rig, {
      from: 'trunk', service: '201', caller: phone, durationMs: 500, calls: 20, rate: 2, limit: 10,
      uas: [{ at: '101', scenario: 'uas-answer', durationMs: 200 }],
    });
    t.equal(placed.caller.code, 0);
    try {
      await waitFor('20 call records', () => callsFor(rig.sim, phone).length >= 20, 90_000, 200);
    } catch (err) {
      stop = true;
      t.comment(JSON.stringify(rig.bridge!.registrar.stats()));
      t.comment(rig.sim.requests.slice(-25).map((r) => `${r.method} ${r.path} ${r.status}`).join('\n'));
      throw err;
    }
    stop = true;
    await chaos;
    rig.sim.faults.clear();
    await waitRegistered(rig, phone, 20, 30_000);
    await sleep(2000);
    t.equal(callsFor(rig.sim, phone).length, 20, 'exactly 20 call records');
    t.equal(uniqs(phone).size, 20, 'no duplicate');
    t.equal(contactsWith(rig.sim, phone).length, 1, 'one contact');
    const injected429 = (rig.sim.counters.byStatus[429] ?? 0) - before.s429;
    const refreshes = rig.sim.counters.refreshes - before.refreshes;
    t.ok(injected429 > 0, '429s were answered');
    t.ok(refreshes > 0, 'the token was refreshed');
    t.equal(rig.bridge!.registrar.stats().failed, 0);
    t.comment(
      `429/token: calls=20, Kommo requests=${rig.sim.counters.total - before.total}, 429 answers=${injected429}, token refreshes=${refreshes}, ` +
        `time to register all=${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  });
}
