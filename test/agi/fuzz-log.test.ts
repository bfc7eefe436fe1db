/**
 * Thousands of malformed FastAGI sessions (random bytes, oversize lines, a header that
 * never ends, junk replies) against the real server: valid sessions in between still
 * succeed, and the log stays small — one line per error code per interval, the rest
 * counted. The 100,000-session figure is bench/agi-fuzz.ts.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createAgiServer, type AgiServer } from '../../agi/server.js';
import { FakeAsterisk } from './fixtures/fake-asterisk.js';
import { malformedAgiSession } from '../../rig/sandbox/agi-fuzz.js';

const MALFORMED = 3000;
const VALID = 30;

async function valid(port: number): Promise<boolean> {
  const a = await FakeAsterisk.connect(port);
  a.sendEnv({ script: 'autodistribution' });
  await a.expect('SET VARIABLE "KOMMO_STATUS" "ok"', '200 result=1');
  await a.waitClosed();
  return true;
}

t.test(`${MALFORMED} malformed sessions: the log stays under 16 KB, valid sessions succeed`, async (t) => {
  let bytes = 0;
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      bytes += chunk.length;
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const server: AgiServer = createAgiServer({
    logger: pino({ level: 'info' }, sink),
    routes: { autodistribution: async (session) => void (await session.setVariable('KOMMO_STATUS', 'ok')) },
    headerTimeoutMs: 500,
    maxConnections: 64,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  let ok = 0;
  let sent = 0;
  const workers = Array.from({ length: 16 }, async (_, w) => {
    while (sent < MALFORMED) {
      const i = sent++;
      await malformedAgiSession(port, i);
      if (i % (MALFORMED / VALID) === w % 2 && (await valid(port))) ok++;
    }
  });
  await Promise.all(workers);
  await server.close();
  t.ok(ok >= VALID / 2, `valid sessions interleaved with the flood all answered (${ok})`);
  const totals = server.peerErrors();
  const counted = Object.values(totals).reduce((a, b) => a + b, 0);
  // Kinds 1–3 are protocol errors; 0 and 4 mostly end before a whole environment line (a closed connection, debug).
  t.ok(counted >= MALFORMED * 0.6, `the peer errors are counted (${counted}: ${JSON.stringify(totals)})`);
  t.ok(bytes < 16 * 1024, `log size ${bytes} bytes for ${MALFORMED} malformed sessions`);
  t.notOk(lines.some((l) => JSON.stringify(l).includes('"stack"')), 'no stack in any line');
  const summaries = lines.filter((l) => typeof l.suppressed === 'number');
  t.ok(summaries.length > 0 && summaries.every((l) => /^AGI_[A-Z_]+ ×[\d,]+ in the last \d+ s from 127\.0\.0\.1$/.test(String(l.msg))), 'the suppressed ones are summed up at close');
  t.equal(
    summaries.reduce((a, l) => a + Number(l.suppressed), 0) + lines.filter((l) => l.component === 'agi' && typeof l.code === 'string' && l.suppressed === undefined).length,
    counted,
    'every peer error is either logged or in a summary',
  );
});

t.test('agi.allow_from: a peer outside the list is refused, counted, logged once', async (t) => {
  const { logger, lines } = (() => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write(c: Buffer, _e, done) { for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l)); done(); } });
    return { logger: pino({ level: 'info' }, sink), lines };
  })();
  const server = createAgiServer({ logger, allowFrom: ['10.0.0.0/8', '::1'], routes: { autodistribution: async () => undefined } });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.destroy());
  for (let i = 0; i < 5; i++) {
    const a = await FakeAsterisk.connect(port);
    await a.waitClosed();
  }
  t.same(server.peerErrors(), { AGI_REFUSED: 5 });
  t.equal(lines.filter((l) => l.code === 'AGI_REFUSED').length, 1);
  t.match(lines.find((l) => l.code === 'AGI_REFUSED'), { remote: '127.0.0.1', msg: /not in agi\.allow_from/ });
  t.throws(() => createAgiServer({ logger, allowFrom: ['10.0.0.0/33'], routes: {} }), { code: 'AGI_INVALID_OPTIONS', message: /10\.0\.0\.0\/33/ });
});
