/**
 * FastAGI log flood benchmark — prints figures, it is not a test.
 *
 *   npm run build && node dist/bench/agi-fuzz.js [--quick]
 *
 * 100,000 malformed FastAGI sessions (random bytes, 200 KB lines, malformed
 * environment lines, a reply with no command, a header without its blank line) from
 * 32 connections at a time, with a valid autodistribution-shaped session after every
 * 200th, against the FastAGI server logging at `info`. Prints the log's size and
 * lines, the peer errors counted, and how many valid sessions answered.
 */
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createAgiServer } from '../agi/server.js';
import { runAgiSession } from './agi-client.js';
import { malformedAgiSession } from '../rig/sandbox/agi-fuzz.js';

const QUICK = process.argv.includes('--quick');
const MALFORMED = QUICK ? 10_000 : 100_000;
const VALID_EVERY = 200;
const PARALLEL = 32;
async function main(): Promise<void> {
  let bytes = 0;
  let lines = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) lines++;
      done();
    },
  });
  const server = createAgiServer({
    logger: pino({ level: 'info' }, sink),
    routes: {
      autodistribution: async (session) => {
        await session.setVariable('KOMMO_EXTENSION', '');
        await session.setVariable('KOMMO_CALLERID_NAME', '');
        await session.setVariable('KOMMO_STATUS', 'not_found');
      },
    },
    headerTimeoutMs: 2000,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  let next = 0;
  let valid = 0;
  let validOk = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < MALFORMED) {
        const i = next++;
        await malformedAgiSession(port, i);
        if (i % VALID_EVERY === 0) {
          valid++;
          const r = await runAgiSession({ host: '127.0.0.1', port, callerId: '79161234567', timeoutMs: 5000 }).catch(() => undefined);
          if (r?.variables.KOMMO_STATUS === 'not_found') validOk++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await server.close();
  const totals = server.peerErrors();
  console.log(`FastAGI log flood — node ${process.version}${QUICK ? ', --quick' : ''}`);
  console.log(`malformed sessions      ${MALFORMED.toLocaleString('en-US')} in ${seconds.toFixed(1)} s (${Math.round(MALFORMED / seconds).toLocaleString('en-US')}/s, ${PARALLEL} at a time)`);
  console.log(`valid sessions          ${validOk} of ${valid} answered`);
  console.log(`peer errors counted     ${JSON.stringify(totals)}`);
  console.log(`log                     ${bytes.toLocaleString('en-US')} bytes, ${lines} lines (target < 1 MB for 100,000 sessions)`);
  console.log(bytes < 1024 * 1024 && validOk === valid ? 'target met' : 'target missed');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
