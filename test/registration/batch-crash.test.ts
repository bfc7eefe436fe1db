// Exactly once across a crash in the middle of a batch: the registrar runs as a child
// process (batch-crash-child.ts: real journal, real Kommo client with batching) against the
// strict simulator. For each create kind — contact, lead, call, task — the simulator holds
// the answers of that route (the work is done, the answer never comes), the child is
// killed with SIGKILL while a batch waits for its answer, and started again. At the end
// every call, contact, lead and task exists exactly once.
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startSimulator, SEED_IDS, type KommoSimulator } from '../../rig/simulator/index.js';
import { tempDir } from './helpers.js';

t.setTimeout(240_000);

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'batch-crash-child.ts');
const phone = (i: number): string => `7999777${String(i).padStart(4, '0')}`;
const KNOWN = Array.from({ length: 6 }, (_, i) => phone(i));
const UNKNOWN = Array.from({ length: 6 }, (_, i) => phone(100 + i));
const CALLS = [...KNOWN, ...UNKNOWN].map((client, i) => ({ linkedid: `1700000500.${i + 1}`, client: `+${client}` }));

interface Child {
  exited: Promise<number | null>;
  kill(): void;
  out(): string;
}

function startChild(sim: KommoSimulator, dataDir: string): Child {
  const proc = spawn(process.execPath, [...process.execArgv, CHILD], {
    env: { ...process.env, KA_CHILD: JSON.stringify({ url: sim.url, token: 't', dataDir, calls: CALLS }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { exited, kill: () => proc.kill('SIGKILL'), out: () => out };
}

let debug = (): string => '';

async function waitFor(what: string, cond: () => boolean, ms: number, child?: Child): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${child ? `\n${child.out().slice(-2000)}` : ''}\n${debug()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function intents(dataDir: string, kind: string): Promise<number> {
  const dir = path.join(dataDir, 'calls');
  let n = 0;
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.json'))) {
    const rec = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as { steps?: { intents?: Record<string, string> } };
    if (rec.steps?.intents?.[kind] !== undefined) n++;
  }
  return n;
}

const digits10 = (s: string): string => s.replace(/\D/g, '').slice(-10);

t.test('SIGKILL while a batch waits for its answer (contacts, leads, calls, tasks): every entity exactly once', async (t) => {
  const sim = await startSimulator({ longLivedToken: 't', seed: { contacts: KNOWN.map((p, i) => ({ name: `Known ${i}`, phones: [`+${p}`], responsible_user_id: SEED_IDS.users.maria })) } });
  const dataDir = await tempDir('ka-batch-crash-');
  t.teardown(async () => {
    await sim.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  debug = () => sim.requests.map((r) => `${r.method} ${r.path} ${r.status} ${Array.isArray(r.body) ? r.body.length : ''}`).join('\n');
  const phases: Array<[route: string, kind: string]> = [
    ['POST /api/v4/contacts', 'contact'],
    ['POST /api/v4/leads', 'lead'],
    ['POST /api/v4/calls', 'call'],
    ['POST /api/v4/tasks', 'task'],
  ];
  let largestHeld = 0;
  for (const [route, kind] of phases) {
    const from = sim.requests.length;
    const held = (): Array<{ body: unknown }> => sim.requests.slice(from).filter((r) => `${r.method} ${r.path}` === route);
    sim.faults.hang(route);
    const child = startChild(sim, dataDir);
    await waitFor(`a held ${route}`, () => held().length > 0, 60_000, child);
    await new Promise((r) => setTimeout(r, 1500)); // more of the kind queue up and leave, held too
    child.kill();
    await child.exited;
    const sizes = held().map((r) => (Array.isArray(r.body) ? r.body.length : 0));
    largestHeld = Math.max(largestHeld, ...sizes);
    const inDoubt = await intents(dataDir, kind);
    t.ok(inDoubt >= 1, `killed with ${inDoubt} ${kind} create(s) in doubt; held requests of ${sizes.join(', ')} item(s)`);
    t.equal(inDoubt, sizes.reduce((a, b) => a + b, 0), `every item of the held ${route} requests has its intent journalled`);
    sim.faults.clear();
  }
  t.ok(largestHeld >= 2, `a batch of ${largestHeld} items lost its answer`);

  const last = startChild(sim, dataDir);
  const code = await last.exited;
  t.equal(code, 0, `the last run finished\n${last.out().slice(-2000)}`);
  const summary = JSON.parse(last.out().trim().split('\n').at(-1) ?? '{}') as { stats?: { done: number; failed: number; pending: number } };
  t.match(summary.stats, { done: CALLS.length, failed: 0, pending: 0 });

  // Calls: one note per uniq.
  const uniqs = sim.state.calls.map((c) => String(c.body.uniq));
  t.equal(sim.state.calls.length, CALLS.length, 'one call record per call');
  t.same([...new Set(uniqs)].sort(), CALLS.map((c) => c.linkedid).sort(), 'every call exactly once');
  // Contacts: the known ones untouched, one per unknown number.
  const byPhone = new Map<string, number>();
  for (const c of sim.state.contacts.values()) {
    for (const f of c.custom_fields_values ?? []) for (const v of f.values) byPhone.set(digits10(String(v.value)), (byPhone.get(digits10(String(v.value))) ?? 0) + 1);
  }
  t.equal(sim.state.contacts.size, KNOWN.length + UNKNOWN.length, 'known + one per unknown number');
  t.ok([...KNOWN, ...UNKNOWN].every((p) => byPhone.get(digits10(p)) === 1), 'no number has two contacts');
  // Leads: one per created contact.
  const leads = [...sim.state.leads.values()];
  t.equal(leads.length, UNKNOWN.length, 'one lead per created contact');
  const leadContacts = leads.flatMap((l) => l.contact_ids);
  t.equal(new Set(leadContacts).size, UNKNOWN.length, 'each created contact has exactly one lead');
  // Tasks: every call was missed → one call-back task each, on its own entity.
  const tasks = [...sim.state.tasks.values()];
  t.equal(tasks.length, CALLS.length, 'one task per missed call');
  t.equal(new Set(tasks.map((x) => `${x.entity_type}:${x.entity_id}`)).size, CALLS.length, 'no entity has two tasks');
});
