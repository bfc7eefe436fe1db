/**
 * The compiled CLI, as an administrator runs it (`npm test` builds first).
 * Exit codes and one-line messages, never a stack trace or a secret.
 */
import t from 'tap';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../../rig/simulator/index.js';
import { freeTcpPort } from '../../rig/sandbox/ports.js';
import { runProcess, type ProcessResult } from '../helpers/run.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'dist', 'bin', 'kommo-asterisk.js');

function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<ProcessResult> {
  return runProcess(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeoutMs });
}

const work = mkdtempSync(path.join(os.tmpdir(), 'ka-cli-'));
const file = (name: string, body: unknown): string => {
  const p = path.join(work, name);
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
};

t.test('the CLI is built', async (t) => {
  t.ok(existsSync(BIN), `${BIN} exists (npm test runs npm run build first)`);
});

t.test('--help lists every command', async (t) => {
  const r = await cli(['--help']);
  t.equal(r.code, 0);
  for (const c of ['start', 'agi', 'bridge', 'originate', 'check', 'reprocess', 'retry-failed', 'admin-password', 'config', 'simulator', 'sandbox', 'widget']) {
    t.match(r.stdout, new RegExp(`kommo-asterisk ${c}\\b`), c);
  }
});

t.test('a bad configuration: every problem on its own line, exit 2, no stack', async (t) => {
  const bad = file('bad.json', { kommo: { base_url: 'foo', long_lived_token: 'x' }, agi: { port: 'x' }, bogus: 1 });
  const r = await cli(['config', '-c', bad]);
  t.equal(r.code, 2);
  t.match(r.stderr, /kommo\.base_url: must be an http\(s\) URL/);
  t.match(r.stderr, /agi\.port: must be an integer/);
  t.match(r.stderr, /unknown key "bogus"/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const broken = await cli(['config', '-c', file('broken.json', '{ "kommo": ')]);
  t.equal(broken.code, 2);
  t.match(broken.stderr, /broken\.json/, 'names the file');
  const missing = await cli(['config', '-c', path.join(work, 'nope.json')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /nope\.json/);
});

const TOKEN = 'cli-test-long-lived-token-value';
const SECRET = 'cli-test-ami-secret-value';
const HTTP = 'cli-test-http-secret-0123456789';

t.test('config prints the configuration with secrets hidden', async (t) => {
  const good = file('good.json', { kommo: { base_url: 'https://acme.kommo.com' }, pbx: { extensions: { '101': 5001 } } });
  const r = await cli(['config', '-c', good], { KOMMO_LONG_LIVED_TOKEN: TOKEN, AMI_SECRET: SECRET, KA_HTTP_SECRET: HTTP });
  t.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout) as { kommo: { base_url: string }; pbx: { extensions: Record<string, number> } };
  t.equal(printed.kommo.base_url, 'https://acme.kommo.com');
  t.same(printed.pbx.extensions, { '101': 5001 });
  for (const s of [TOKEN, SECRET, HTTP]) t.notMatch(r.stdout, s, 'secret not printed');
});

t.test('check: one line per check, FAIL lines for AMI down and a bad token, exit 1', async (t) => {
  const sim = await startSimulator({ longLivedToken: 'the-right-token' });
  t.teardown(() => sim.close());
  const amiPort = await freeTcpPort();
  const cfg = file('check.json', {
    kommo: { base_url: sim.url },
    ami: { port: amiPort, action_timeout_ms: 1000 },
    pbx: { extensions: { '101': 5001 } },
    http: { enabled: false },
    customizations: { dir: work },
  });
  const r = await cli(['check', '-c', cfg], { KOMMO_LONG_LIVED_TOKEN: 'a-wrong-token', AMI_SECRET: SECRET });
  t.equal(r.code, 1, r.stdout + r.stderr);
  t.match(r.stdout, /^ok\s+Configuration/m);
  t.match(r.stdout, /^FAIL\s+AMI/m, 'AMI unreachable is a FAIL line');
  t.match(r.stdout, /^FAIL\s+Kommo token/m, 'the wrong token is a FAIL line');
  t.notMatch(r.stdout + r.stderr, /a-wrong-token|cli-test-ami-secret/, 'secrets never printed');
  t.notMatch(r.stdout, /\n\s+at /, 'no stack trace');
});

t.test('originate with AMI down: Failure and the reason, exit 1', async (t) => {
  const amiPort = await freeTcpPort();
  const cfg = file('orig.json', {
    kommo: { base_url: 'http://127.0.0.1:9' },
    ami: { port: amiPort, action_timeout_ms: 1000 },
    pbx: { extensions: { '101': 5001 } },
    http: { enabled: false },
    customizations: { dir: work },
  });
  const r = await cli(['originate', '-c', cfg, '--from', '101', '--to', '+7 999 123-45-67'], { KOMMO_LONG_LIVED_TOKEN: TOKEN, AMI_SECRET: SECRET });
  t.equal(r.code, 1);
  t.match(r.stdout, /^Failure: AMI_/m, 'says Failure with the AMI code');
  const bad = await cli(['originate', '-c', cfg, '--from', '101', '--to', '79991234567\r\nAction: Logoff'], { KOMMO_LONG_LIVED_TOKEN: TOKEN, AMI_SECRET: SECRET });
  t.equal(bad.code, 1);
  t.match(bad.stdout, /^Failure: /m, 'an injected number never reaches AMI');
});

t.test('several AMI servers: check names each server; reprocess wants --server; AMI_SECRET alone is refused', async (t) => {
  const [east, west] = [await freeTcpPort(), await freeTcpPort()];
  const cfg = file('multi.json', {
    kommo: { base_url: 'http://127.0.0.1:9' },
    ami: [
      { name: 'east', port: east, action_timeout_ms: 1000 },
      { name: 'west', port: west, action_timeout_ms: 1000 },
    ],
    pbx: { extensions: { '101': 5001 } },
    http: { enabled: false },
    customizations: { dir: work },
    data_dir: work,
  });
  const env = { KOMMO_LONG_LIVED_TOKEN: TOKEN, AMI_SECRET_EAST: SECRET, AMI_SECRET_WEST: 'cli-test-west-secret' };
  const r = await cli(['check', '-c', cfg], env);
  t.equal(r.code, 1, r.stdout + r.stderr);
  t.match(r.stdout, /^FAIL\s+AMI login \[east\]: cannot connect to 127\.0\.0\.1:\d+/m);
  t.match(r.stdout, /^FAIL\s+AMI login \[west\]: cannot connect to 127\.0\.0\.1:\d+/m);
  t.notMatch(r.stdout + r.stderr, new RegExp(`${SECRET}|cli-test-west-secret`), 'secrets never printed');

  const rp = await cli(['reprocess', '-c', cfg, '--from', '2026-11-24T00:00', '--to', '2026-11-25T00:00'], env);
  t.equal(rp.code, 1);
  t.match(rp.stderr, /--server is required with several AMI servers \(east, west\)/);
  const unknown = await cli(['reprocess', '-c', cfg, '--server', 'north', '--from', '2026-11-24T00:00', '--to', '2026-11-25T00:00'], env);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /--server: no AMI server named "north" \(servers: east, west\)/);

  const ambiguous = await cli(['config', '-c', cfg], { KOMMO_LONG_LIVED_TOKEN: TOKEN, AMI_SECRET: SECRET });
  t.equal(ambiguous.code, 2);
  t.match(ambiguous.stderr, /env AMI_SECRET is set but ami lists several servers/);
  t.notMatch(ambiguous.stderr, SECRET);
});
