/**
 * A 30-second outage in which Kommo refuses connections (nothing listens): the requests
 * provably never reach Kommo, so even a create is retried — across the whole outage, on
 * the `max_elapsed_ms` budget — and lands exactly once.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import t from 'tap';
import { startSimulator } from '../../rig/simulator/index.js';
import { clientFor } from './helpers.js';

/** A TCP relay in front of the simulator that can stop listening (→ ECONNREFUSED). */
async function relay(target: URL): Promise<{ url: string; down(): Promise<void>; up(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const up = async (): Promise<void> => {
    const srv = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
    const addr = srv.address();
    if (addr && typeof addr === 'object') port = addr.port;
    server = srv;
  };
  const down = async (): Promise<void> => {
    const srv = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  };
  await up();
  return { url: `http://127.0.0.1:${port}`, down, up };
}

t.test('create and lookup during a 30 s refused-connection outage', async (t) => {
  const sim = await startSimulator({ rateLimitPerSecond: 7 });
  t.teardown(() => sim.close());
  const proxy = await relay(new URL(sim.url));
  t.teardown(() => proxy.down());
  const { client, log } = await clientFor(t, sim, {
    base_url: proxy.url,
    connect_timeout_ms: 1000,
    retry: { max_attempts: 5, base_delay_ms: 250, max_delay_ms: 2000, max_elapsed_ms: 60_000 },
  });
  await client.getAccount(); // a warm keep-alive connection, cut by the outage
  await proxy.down();
  const outageStart = Date.now();
  const restore = setTimeout(() => { void proxy.up(); }, 30_000);
  t.teardown(() => clearTimeout(restore));

  const [created, found] = await Promise.all([
    client.createContact({
      name: 'Outage caller',
      custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '+79990003030', enum_code: 'WORK' }] }],
    }, { requestId: 'outage-1' }),
    client.findContactsByPhone('+79995550000'),
  ]);
  const took = Date.now() - outageStart;
  t.ok(took >= 30_000, `succeeded only after the outage (${took} ms)`);
  t.ok(created.id > 0);
  t.same(found, []);
  const same = [...sim.state.contacts.values()].filter((c) => c.name === 'Outage caller');
  t.equal(same.length, 1, 'the contact exists exactly once');
  const posts = sim.requests.filter((r) => r.method === 'POST' && r.path === '/api/v4/contacts');
  t.equal(posts.length, 1, 'Kommo saw the create once');
  const retries = log.lines.filter((l) => l['msg'] === 'kommo request failed; retrying' && l['sent'] === false);
  t.ok(retries.length > 3, `retried ${retries.length} never-sent attempts`);
  t.ok(retries.every((l) => typeof l['attempt'] === 'number' && typeof l['delayMs'] === 'number' && !('authorization' in l)));
});

t.test('never-sent retries stop at the budget with KOMMO_UNREACHABLE, maybeApplied false', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const proxy = await relay(new URL(sim.url));
  await proxy.down();
  const { client } = await clientFor(t, sim, { base_url: proxy.url, retry: { base_delay_ms: 50, max_delay_ms: 200, max_elapsed_ms: 1500 } });
  const err = await client.createContact({ name: 'never' }).catch((e: unknown) => e);
  t.match(err, { code: 'KOMMO_UNREACHABLE', maybeApplied: false, name: 'KommoUnreachableError' });
  const err2 = await client.getAccount({ retryBudgetMs: 0 }).catch((e: unknown) => e);
  t.match(err2, { code: 'KOMMO_UNREACHABLE' }, 'a per-call budget of 0 fails at once');
  t.equal(sim.counters.total, 0);
});
