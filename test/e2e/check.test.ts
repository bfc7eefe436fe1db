// End-to-end `check`: the real AMI adapter against a real Asterisk 22, the
// real Kommo client against the simulator, the real hook runner. Fails with a
// clear message on a wrong AMI secret, a bad Kommo token, a missing PHONE
// field and an unknown extension; passes on a correct setup.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { pino } from 'pino';
import { createAmiClient } from '../../lib/protocol/ami/index.js';
import { exitCodeFor, formatChecks, runChecks, assertPhoneField } from '../../lib/domain/check/index.js';
import { buildConfig, type FrozenConfig } from '../../lib/platform/config/index.js';
import { createHookRunner } from '../../lib/adapters/hooks/loader.js';
import { createKommoClient } from '../../lib/adapters/kommo/index.js';
import { startSimulator, SEED_IDS } from '../../rig/simulator/index.js';
import { asteriskRootProblem, startAsterisk } from '../../rig/sandbox/asterisk.js';

const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  const logger = pino({ level: process.env.KA_TEST_LOG ? 'debug' : 'silent' });

  t.test('check against a real Asterisk and the Kommo simulator', async (t) => {
    const ast = await startAsterisk();
    t.teardown(() => ast.stop());
    const sim = await startSimulator({ rateLimitPerSecond: 0 });
    t.teardown(() => sim.close());
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ka-check-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const hooksDir = path.join(dataDir, 'customizations');
    await (await import('node:fs/promises')).mkdir(hooksDir);

    const u = SEED_IDS.users;
    function makeConfig(patch: { secret?: string; token?: string; extensions?: Record<string, number> } = {}): FrozenConfig {
      return buildConfig(
        {
          data_dir: dataDir,
          kommo: { base_url: sim.url, long_lived_token: patch.token ?? sim.longLivedToken, retry: { max_attempts: 1, base_delay_ms: 50, max_delay_ms: 100 } },
          pbx: { extensions: patch.extensions ?? { '101': u.ivan, '102': u.maria, '103': u.olga } },
          ami: { host: ast.amiHost, port: ast.amiPort, username: ast.amiUser, secret: patch.secret ?? ast.amiSecret, action_timeout_ms: 3000 },
          customizations: { dir: hooksDir },
          http: { enabled: false },
        },
        { env: {} },
      );
    }
    async function check(config: FrozenConfig) {
      const kommo = createKommoClient(config.kommo, { logger, dataDir });
      const hooks = createHookRunner({ dir: config.customizations.dir, timeoutMs: 2000, logger });
      try {
        const results = await runChecks({
          config,
          kommo,
          amiFactory: (c) => createAmiClient(c, { logger }),
          hooks,
          logger,
          kommoTimeoutMs: 5000,
        });
        return { results, text: formatChecks(results), code: exitCodeFor(results) };
      } finally {
        await kommo.destroy();
        await hooks.close();
      }
    }

    await t.test('a correct setup passes', async (t) => {
      const { text, code } = await check(makeConfig());
      t.equal(code, 0, text);
      t.match(text, new RegExp(`^ok    AMI login \\(127\\.0\\.0\\.1:${ast.amiPort} as ${ast.amiUser}\\)$`, 'm'));
      t.match(text, /^ok    Extensions in Asterisk \(3 mapped: 101, 102, 103\)$/m);
      t.match(text, /^ok    Kommo token \(account sandbox \(id 1000001\)\)$/m);
      t.match(text, /^ok    Kommo PHONE contact field \(PHONE field 1001, enum WORK 2001\)$/m);
      t.match(text, /^ok    Kommo users \(3 mapped users active\)$/m);
      t.match(text, /^ok    Customizations \(none active\)$/m);
    });

    await t.test('wrong AMI secret', async (t) => {
      const { text, code } = await check(makeConfig({ secret: 'wrong-secret' }));
      t.equal(code, 1);
      t.match(text, /^FAIL  AMI login: Asterisk refused user "kommo-test" at 127\.0\.0\.1:\d+ — check ami\.username and ami\.secret/m);
      t.match(text, /^skip  Extensions in Asterisk/m);
      t.notMatch(text, /wrong-secret/);
    });

    await t.test('bad Kommo token', async (t) => {
      const { text, code } = await check(makeConfig({ token: 'not-a-valid-token' }));
      t.equal(code, 1);
      t.match(text, /^FAIL  Kommo token: 401 Unauthorized — check kommo\.long_lived_token$/m);
      t.notMatch(text, /not-a-valid-token/);
    });

    await t.test('unknown extension, deactivated user', async (t) => {
      const { text, code } = await check(makeConfig({ extensions: { '101': u.ivan, '105': u.maria, '102': u.inactive } }));
      t.equal(code, 1);
      t.match(text, /^FAIL  Extensions in Asterisk: 105 is not PJSIP endpoint in Asterisk/m);
      t.match(text, /^FAIL  Kommo users: user 5004 Peter Gone \(extension 102\) is deactivated in Kommo/m);
    });

    await t.test('a broken customization', async (t) => {
      await writeFile(path.join(hooksDir, 'process_client_phone.mjs'), 'export default (;\n');
      t.teardown(() => rm(path.join(hooksDir, 'process_client_phone.mjs'), { force: true }));
      const { text, code } = await check(makeConfig());
      t.equal(code, 1);
      t.match(text, /^FAIL  Customizations: process_client_phone \(.*process_client_phone\.mjs\): HOOK_LOAD_FAILED/m);
    });

    await t.test('missing PHONE field (and start refuses)', async (t) => {
      const saved = sim.state.customFields.contacts;
      sim.state.customFields.contacts = saved.filter((f) => f.code !== 'PHONE');
      t.teardown(() => {
        sim.state.customFields.contacts = saved;
      });
      const config = makeConfig();
      const { text, code } = await check(config);
      t.equal(code, 1);
      t.match(text, /^FAIL  Kommo PHONE contact field: .*code PHONE.* — create a phone field with code PHONE in Kommo → Settings → Contacts/m);
      const kommo = createKommoClient(config.kommo, { logger, dataDir });
      t.teardown(() => kommo.destroy());
      await t.rejects(assertPhoneField(kommo), { code: 'KOMMO_PHONE_FIELD_MISSING', message: /Settings → Contacts/ });
    });
  });
}
