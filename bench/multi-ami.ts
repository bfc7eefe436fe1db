/**
 * Several Asterisk servers, one Kommo account (a script that prints figures, not a test).
 *
 *   npm run build && node dist/bench/multi-ami.js [--n 100]
 *
 * The recorded inbound answered call (test/fixtures/ami/inbound-answered.jsonl) is replayed
 * `--n` times per server through the real bridges (one per server, each with its tracker),
 * one real registrar and journal (fsync), one real Kommo client — one 7 req/s limiter —
 * against the Kommo simulator limited like Kommo. Every call has its own known client.
 *   (a) one server, 2n calls: the baseline;
 *   (b) two servers, n calls each, fed at the same time, and call i has the SAME
 *       linkedid on both servers (the worst case the server-qualified journal ids exist for);
 *   (c) as (b) with plain linkedids as journal ids, to show what the qualification prevents.
 * Printed: calls registered of expected, Kommo requests per call, calls/s, 429s, the
 * journal's records per server.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { normalizeEvent, type AmiEvent } from '../lib/protocol/ami/events.js';
import { createBridge, type BridgeAmi, type BridgeRegistrar } from '../lib/domain/bridge/index.js';
import { buildConfig, qualifiesCallIds } from '../lib/platform/config/index.js';
import { createHookRunner } from '../lib/adapters/hooks/loader.js';
import { createKommoClient } from '../lib/adapters/kommo/index.js';
import { createRegistrar, openCallStore } from '../lib/domain/registration/index.js';
import { SEED_IDS, startSimulator } from '../rig/simulator/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function fixture(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'test', 'fixtures', 'ami', 'inbound-answered.jsonl');
    if (existsSync(candidate)) return readFileSync(candidate, 'utf8');
    dir = dirname(dir);
  }
  throw new Error('test/fixtures/ami/inbound-answered.jsonl not found');
}

const U = SEED_IDS.users;
const PBX = { extensions: { '101': U.ivan, '102': U.maria }, trunks: ['trunk'], extension_pattern: '^[0-9]{2,5}$', default_user_id: U.ivan };
const phoneOf = (i: number): string => `7998${String(1_000_000 + i).padStart(7, '0')}`;

/** Call `i` of the fixture: its own uniqueids (the same on every server), channels and client number. */
function callEvents(text: string, i: number, phone: string): AmiEvent[] {
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  const t = text
    .replaceAll('1795504433.0', `1795504433.${2 * i + 100}`)
    .replaceAll('1795504433.1', `1795504433.${2 * i + 101}`)
    .replaceAll('-00000000', `-${hex(2 * i + 100)}`)
    .replaceAll('-00000001', `-${hex(2 * i + 101)}`)
    .replaceAll('79991234567', phone);
  const out: AmiEvent[] = [];
  for (const line of t.split('\n')) {
    if (!line.trim()) continue;
    const e = normalizeEvent(JSON.parse(line) as Record<string, unknown>);
    if (e) out.push(e);
  }
  return out;
}

class FeedAmi extends EventEmitter implements BridgeAmi {
  connected = false;
  async connect(): Promise<void> {
    this.connected = true;
    this.emit('connected');
  }
  isConnected(): boolean {
    return this.connected;
  }
}

async function scenario(label: string, servers: string[], perServer: number, firstPhone: number, plainIds = false): Promise<void> {
  const text = fixture();
  const contacts = Array.from({ length: servers.length * perServer }, (_, k) => ({ name: `Bench ${k}`, responsible_user_id: U.maria, phones: [`+${phoneOf(firstPhone + k)}`] }));
  const sim = await startSimulator({ rateLimitPerSecond: 7, seed: { contacts } });
  const dataDir = await mkdtemp(join(tmpdir(), 'ka-bench-multi-'));
  const logger = pino({ level: 'silent' });
  const config = buildConfig(
    {
      data_dir: dataDir,
      kommo: { base_url: sim.url, long_lived_token: sim.longLivedToken, rate_limit_per_second: 7 },
      pbx: PBX,
      ami: servers.length === 1 ? { name: servers[0], secret: 'unused' } : servers.map((name) => ({ name, secret: 'unused' })),
      registration: { create_contact: true, create_lead: false },
      http: { enabled: false },
      recordings: { enabled: false },
      customizations: { dir: join(dataDir, 'no-customizations') },
    },
    { env: {} },
  );
  const kommo = createKommoClient(config.kommo, { logger, dataDir, matchDigits: config.phone.match_digits });
  const hooks = createHookRunner({ dir: config.customizations.dir, timeoutMs: 2000, logger });
  const store = await openCallStore({ dataDir, logger, qualifyIds: !plainIds && qualifiesCallIds(config) });
  const registrar = createRegistrar({ config, kommo, hooks, store, logger });
  const shared: BridgeRegistrar = {
    submit: (c) => registrar.submit(c),
    shouldRegister: (s, c) => registrar.shouldRegister(s, c),
    verdict: (s, c) => registrar.verdict(s, c),
    close: async () => undefined,
  };
  await registrar.start();
  const amis = servers.map(() => new FeedAmi());
  const bridges = servers.map((name, k) => createBridge({ config, ami: amis[k]!, registrar: shared, logger, pbx: name }));
  await Promise.all(bridges.map((b) => b.start()));

  const t0 = performance.now();
  // Interleaved, call by call: call i reaches every server at the same time.
  for (let i = 0; i < perServer; i++) {
    servers.forEach((_, k) => {
      for (const e of callEvents(text, i, phoneOf(firstPhone + k * perServer + i))) amis[k]!.emit('event', e);
    });
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(bridges.map((b) => b.close()));
  await registrar.idle();
  const seconds = (performance.now() - t0) / 1000;
  const expected = servers.length * perServer;
  const registered = sim.state.calls.length;
  const uniqs = new Set(sim.state.calls.map((c) => String(c.body['uniq'])));
  // Whose calls reached Kommo: by the uniq's server prefix (plain ids carry none).
  const perPbx = servers.length === 1 || plainIds
    ? 'uniq without server'
    : servers.map((name) => `${name} ${sim.state.calls.filter((c) => String(c.body['uniq']).startsWith(`${name}.`)).length}`).join(', ');
  const s = registrar.stats();
  console.log(
    `${label.padEnd(40)} registered ${registered}/${expected} (${uniqs.size} distinct uniq; ${perPbx})  ` +
      `req/call ${(sim.counters.total / expected).toFixed(2)}  calls/s ${(expected / seconds).toFixed(2)}  429s ${sim.counters.rateLimited}  ` +
      `journal done ${s.done}, failed ${s.failed}, pending ${s.pending}`,
  );
  await registrar.close();
  await hooks.close();
  await kommo.close();
  await sim.close();
  await rm(dataDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const n = arg('n', 100);
  console.log(`multi-ami benchmark: the recorded inbound answered call, known clients, one Kommo client at 7 req/s (simulator limited alike)`);
  await scenario(`(a) one server, ${2 * n} calls`, ['pbx'], 2 * n, 0);
  await scenario(`(b) two servers, ${n} calls each, same ids`, ['east', 'west'], n, 10_000);
  // What the server-qualified ids prevent: the same run with plain linkedids as journal ids.
  await scenario(`(c) as (b), journal ids NOT qualified`, ['east', 'west'], n, 20_000, true);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
