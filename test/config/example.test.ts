import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ConfigError } from '../../lib/platform/errors.js';
import { formatConfigError, loadConfig } from '../../lib/platform/config/index.js';
import { createPhoneRewriter } from '../../lib/platform/phone.js';

const EXAMPLE = fileURLToPath(new URL('../../config.example.json', import.meta.url));
const ENV = { KOMMO_LONG_LIVED_TOKEN: 'placeholder-token', AMI_SECRET: 'ami-pass', KA_HTTP_SECRET: 'http-secret-0123456789' };

t.test('config.example.json validates (secrets from the environment)', async (t) => {
  let config;
  try {
    config = loadConfig({ path: EXAMPLE, env: ENV });
  } catch (err) {
    t.fail(formatConfigError(err));
    return;
  }
  t.equal(config.kommo.base_url, 'http://127.0.0.1:8090');
  t.same(config.pbx.extensions, { 101: 5001, 102: 5002, 103: 5003 });
  t.same(config.pbx.trunks, ['trunk']);
  t.equal(createPhoneRewriter(config.phone.rewrite_rules)('8 999 123-45-67'), '79991234567');
});

t.test('without the token it says what to set', async (t) => {
  const err = t.throws(() => loadConfig({ path: EXAMPLE, env: { ...ENV, KOMMO_LONG_LIVED_TOKEN: '' } }));
  t.ok(err instanceof ConfigError);
  t.same((err as ConfigError).problems, [
    'kommo: a token is required: set kommo.long_lived_token (or env KOMMO_LONG_LIVED_TOKEN) or kommo.oauth',
  ]);
});
