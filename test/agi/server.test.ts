import net from 'node:net';
import t from 'tap';
import { AgiError } from '../../agi/errors.js';
import { createAgiServer, type AgiHandler, type AgiServer, type AgiServerOptions } from '../../agi/server.js';
import type { AgiSession } from '../../agi/session.js';
import { captureLogger, delay, FakeAsterisk, type LogLine } from './fixtures/fake-asterisk.js';

interface Started {
  server: AgiServer;
  port: number;
  lines: LogLine[];
  connect: () => Promise<FakeAsterisk>;
}

async function start(
  t: { teardown: (fn: () => unknown) => void },
  options: Partial<AgiServerOptions> & Pick<AgiServerOptions, 'routes'>,
): Promise<Started> {
  const { logger, lines } = captureLogger();
  const server = createAgiServer({ logger, headerTimeoutMs: 1000, commandTimeoutMs: 1000, ...options });
  const address = await server.listen(0, '127.0.0.1');
  const clients: FakeAsterisk[] = [];
  t.teardown(async () => {
    for (const c of clients) c.socket.destroy();
    await server.destroy();
  });
  return {
    server,
    port: address.port,
    lines,
    async connect() {
      const c = await FakeAsterisk.connect(address.port);
      clients.push(c);
      return c;
    },
  };
}

/** A promise the test resolves by hand. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(5);
  }
}

const hasLog = (lines: LogLine[], msg: string, level?: number): boolean =>
  lines.some((l) => l.msg === msg && (level === undefined || l.level === level));

t.test('listen() returns the bound address; options are validated all at once', async (t) => {
  const { server, port } = await start(t, { routes: { x: () => undefined } });
  t.ok(port > 0, 'port 0 → a real port');
  t.equal(server.address()?.port, port);
  await t.rejects(server.listen(0), { code: 'AGI_SERVER_CLOSED' }, 'listen twice is refused');

  const err = (() => {
    try {
      createAgiServer({
        logger: captureLogger().logger,
        routes: { '/': () => undefined, bad: 'nope' as unknown as AgiHandler },
        maxConnections: 0,
        headerTimeoutMs: -1,
      });
    } catch (e) {
      return e as AgiError & { problems: string[] };
    }
    return null;
  })();
  t.equal(err?.code, 'AGI_INVALID_OPTIONS');
  t.equal(err?.problems.length, 4, 'every problem reported together');
});

t.test('routes by script path; the handler drives the call; the server then ends it', async (t) => {
  const seen: string[] = [];
  const autodistribution: AgiHandler = async (session, { signal, logger }) => {
    t.equal(signal.aborted, false);
    logger.info({ step: 'lookup' }, 'looking up caller');
    const name = await session.getVariable('CALLERID(name)');
    seen.push(`auto:${name}:${session.request.params.line ?? ''}`);
    await session.setVariable('KOMMO_RESPONSIBLE', '101');
  };
  const { lines, connect } = await start(t, {
    routes: { autodistribution, '/other/path/': (s) => void seen.push(`other:${s.request.args.join('|')}`) },
  });

  const a = await connect();
  a.sendEnv({ script: 'autodistribution?line=main', calleridname: 'Иван' });
  await a.expect('GET VARIABLE "CALLERID(name)"', '200 result=1 (Иван)');
  await a.expect('SET VARIABLE "KOMMO_RESPONSIBLE" "101"', '200 result=1');
  t.equal(await a.nextLine(), null, 'connection ended after the handler');

  const b = await connect();
  b.sendEnv({ script: 'other/path', args: ['x:1', 'y'] });
  t.equal(await b.nextLine(), null);

  t.same(seen, ['auto:Иван:main', 'other:x:1|y']);
  const callLog = lines.find((l) => l.msg === 'looking up caller');
  t.equal(callLog?.uniqueid, '1700000000.1', 'the handler logger is bound to the call');
  t.equal(callLog?.script, 'autodistribution');
});

t.test('an unknown script is logged and closed without a command', async (t) => {
  const { lines, connect, server } = await start(t, { routes: { autodistribution: () => undefined } });
  const c = await connect();
  c.sendEnv({ script: 'nosuch?x=1' });
  t.equal(await c.nextLine(), null, 'closed, nothing sent');
  const warn = lines.find((l) => l.msg === 'agi request for an unknown script');
  t.equal(warn?.script, 'nosuch');
  t.equal(warn?.level, 40);
  await until(() => server.connections === 0);
});

t.test('connections over the bound are closed at once; capacity frees up again', async (t) => {
  const release = gate();
  const { connect, server, lines } = await start(t, {
    maxConnections: 2,
    headerTimeoutMs: 5000,
    routes: { hold: () => release.promise },
  });
  const a = await connect();
  const b = await connect();
  a.sendEnv({ script: 'hold' });
  b.sendEnv({ script: 'hold' });
  await until(() => server.connections === 2);

  const started = Date.now();
  const c = await connect();
  c.sendEnv({ script: 'hold' });
  await c.waitClosed();
  t.ok(Date.now() - started < 1000, 'refused at once, not after a timeout');
  t.equal(server.connections, 2);
  t.ok(lines.some((l) => l.code === 'AGI_REFUSED' && l.level === 40 && /agi\.max_connections \(2\) reached/.test(l.msg)), 'logged as AGI_REFUSED');
  t.equal(server.peerErrors().AGI_REFUSED, 1, 'and counted');

  release.open();
  await a.waitClosed();
  await b.waitClosed();
  await until(() => server.connections === 0);

  const d = await connect();
  d.sendEnv({ script: 'hold' });
  t.equal(await d.nextLine(), null);
  t.equal(d.isClosed, true);
  t.notOk(
    lines.filter((l) => l.msg === 'agi connection refused').length > 1,
    'the fourth connection was accepted',
  );
});

t.test('garbage and half-sent headers are dropped at the header timeout; a real call is unaffected', async (t) => {
  const { connect, server, lines } = await start(t, {
    headerTimeoutMs: 150,
    routes: {
      autodistribution: async (session) => {
        await delay(200); // outlives the header timeout of the bad connections
        await session.setVariable('OK', '1');
      },
    },
  });
  const started = Date.now();
  const half = await connect();
  half.write('agi_network: yes\nagi_network_script: autodistri');
  const silent = await connect();
  const noise = await connect();
  noise.write(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x42]));

  const good = await connect();
  good.sendEnv();

  await Promise.all([half.waitClosed(), silent.waitClosed(), noise.waitClosed()]);
  const dropped = Date.now() - started;
  t.ok(dropped >= 140 && dropped < 1000, `bad connections dropped at the header timeout (${dropped} ms)`);
  t.equal(good.isClosed, false, 'the real call is still up');
  await good.expect('SET VARIABLE "OK" "1"', '200 result=1');
  t.equal(await good.nextLine(), null);
  t.equal(server.peerErrors().AGI_HEADER_TIMEOUT, 3, 'three header timeouts counted');
  t.equal(lines.filter((l) => l.code === 'AGI_HEADER_TIMEOUT').length, 1, 'one line logged, without a stack');
  t.notOk(lines.some((l) => l.code === 'AGI_HEADER_TIMEOUT' && 'err' in l));
  await until(() => server.connections === 0);

  const http = await connect();
  http.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await http.waitClosed();
  t.ok(
    lines.some((l) => (l.err as { code?: string } | undefined)?.code === 'AGI_MALFORMED_ENV'),
    'a complete but malformed header is dropped at once',
  );
});

t.test('a reset mid-command fails only that call', async (t) => {
  const errors: AgiError[] = [];
  const { connect, server, lines } = await start(t, {
    routes: {
      autodistribution: async (session) => {
        try {
          await session.getVariable('X');
        } catch (err) {
          errors.push(err as AgiError);
          throw err;
        }
      },
    },
  });
  const a = await connect();
  const b = await connect();
  a.sendEnv({ uniqueid: '1.1' });
  b.sendEnv({ uniqueid: '1.2' });
  t.equal(await a.nextLine(), 'GET VARIABLE "X"');
  t.equal(await b.nextLine(), 'GET VARIABLE "X"');
  a.reset();
  await until(() => errors.length === 1);
  t.equal(errors[0]?.code, 'AGI_CLOSED');
  b.write('200 result=1 (fine)\n');
  t.equal(await b.nextLine(), null, 'the other call completed normally');
  t.equal(errors.length, 1);
  const failed = lines.find((l) => l.msg === 'agi handler failed');
  t.equal(failed?.uniqueid, '1.1', 'logged against the reset call');
  await until(() => server.connections === 0);

  // the server still serves
  const c = await connect();
  c.sendEnv();
  await c.expect('GET VARIABLE "X"', '200 result=0');
  t.equal(await c.nextLine(), null);
});

t.test('a hung-up caller ends the handler with an info line, not an error', async (t) => {
  const { connect, lines } = await start(t, {
    routes: {
      autodistribution: async (session) => {
        await session.getVariable('A');
        await session.setVariable('B', 'c');
      },
    },
  });
  const c = await connect();
  c.sendEnv();
  await c.expect('GET VARIABLE "A"', 'HANGUP\n200 result=1 (a)');
  await c.expect('SET VARIABLE "B" "c"', '511 Command Not Permitted on a dead channel or intercepted channel');
  t.equal(await c.nextLine(), null);
  t.ok(hasLog(lines, 'agi handler stopped: caller hung up', 30));
  t.notOk(hasLog(lines, 'agi handler failed'));
});

t.test('a handler that throws is logged; the call is released', async (t) => {
  const { connect, lines } = await start(t, {
    routes: {
      autodistribution: () => {
        throw new Error('boom');
      },
    },
  });
  const c = await connect();
  c.sendEnv();
  t.equal(await c.nextLine(), null);
  const failed = lines.find((l) => l.msg === 'agi handler failed');
  t.equal(failed?.level, 50);
  t.match(failed?.err, { message: 'boom' });
});

t.test('a handler past its deadline is aborted and the call released', async (t) => {
  let reason: unknown;
  const { connect, lines } = await start(t, {
    handlerTimeoutMs: 100,
    routes: {
      autodistribution: async (_session, { signal }) => {
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            reason = signal.reason;
            resolve();
          }),
        );
      },
    },
  });
  const started = Date.now();
  const c = await connect();
  c.sendEnv();
  t.equal(await c.nextLine(), null);
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 90 && elapsed < 1500, `released at the deadline (${elapsed} ms)`);
  t.match(reason, { code: 'AGI_HANDLER_TIMEOUT' });
  t.ok(hasLog(lines, 'agi handler timed out', 50));
});

t.test('close() stops accepting and waits for the in-flight handler (SIGTERM drain)', async (t) => {
  let finished = false;
  const { connect, server, port } = await start(t, {
    routes: {
      autodistribution: async (session) => {
        await session.getVariable('SLOW');
        await session.setVariable('DONE', '1');
        finished = true;
      },
    },
  });
  const c = await connect();
  c.sendEnv();
  t.equal(await c.nextLine(), 'GET VARIABLE "SLOW"');

  let closed = false;
  const closing = server.close({ timeoutMs: 5000 }).then(() => (closed = true));
  t.equal(server.close(), server.close(), 'idempotent');

  const refused = await new Promise<string>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  t.equal(refused, 'ECONNREFUSED', 'no new connections while draining');

  await delay(50);
  t.equal(closed, false, 'close() waits for the handler');
  c.write('200 result=1 (x)\n');
  await c.expect('SET VARIABLE "DONE" "1"', '200 result=1');
  await closing;
  t.equal(finished, true, 'the handler ran to its end');
  t.equal(server.connections, 0);
  t.equal(c.isClosed || (await c.nextLine()) === null, true);
});

t.test('close() destroys what is left at its deadline', async (t) => {
  let reason: unknown;
  const { connect, server, lines } = await start(t, {
    routes: {
      autodistribution: async (session, { signal }) => {
        signal.addEventListener('abort', () => (reason = signal.reason));
        await session.getVariable('NEVER'); // the fake never answers
      },
    },
    commandTimeoutMs: 60_000,
  });
  const c = await connect();
  c.sendEnv();
  t.equal(await c.nextLine(), 'GET VARIABLE "NEVER"');
  const started = Date.now();
  await server.close({ timeoutMs: 100 });
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 90 && elapsed < 1500, `closed at the drain deadline (${elapsed} ms)`);
  await c.waitClosed();
  t.match(reason, { code: 'AGI_SERVER_CLOSED' });
  t.ok(hasLog(lines, 'agi drain deadline passed; destroying sessions', 40));
});

t.test('destroy() aborts everything now; idempotent, and close() after it resolves', async (t) => {
  const aborted: unknown[] = [];
  const { connect, server } = await start(t, {
    headerTimeoutMs: 5000,
    routes: {
      autodistribution: async (session, { signal }) => {
        signal.addEventListener('abort', () => aborted.push(signal.reason));
        await session.getVariable('NEVER').catch(() => undefined);
      },
    },
  });
  const a = await connect();
  a.sendEnv();
  t.equal(await a.nextLine(), 'GET VARIABLE "NEVER"');
  const headerOnly = await connect();
  headerOnly.write('agi_network: yes\n');
  await until(() => server.connections === 2);

  const first = server.destroy();
  t.equal(server.destroy(), first, 'same promise');
  await first;
  await Promise.all([a.waitClosed(), headerOnly.waitClosed()]);
  t.equal(server.connections, 0);
  t.equal(aborted.length, 1);
  t.match(aborted[0], { code: 'AGI_SERVER_CLOSED' });
  await server.close();
  t.pass('close() after destroy() resolves');
});

t.test('close() on a server that never listened resolves', async (t) => {
  const server = createAgiServer({ logger: captureLogger().logger, routes: { x: () => undefined } });
  await server.close();
  await server.destroy();
  t.equal(server.address(), null);
});

t.test('many concurrent calls are each answered correctly', async (t) => {
  const handler: AgiHandler = async (session: AgiSession) => {
    const n = await session.getVariable('N');
    await session.setVariable('ECHO', `Ответ ${n ?? ''}`);
  };
  const { connect, server } = await start(t, { routes: { autodistribution: handler }, maxConnections: 100 });
  const calls = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const c = await connect();
      c.sendEnv({ uniqueid: `1.${i}` });
      await c.expect('GET VARIABLE "N"', `200 result=1 (${i})`);
      const line = await c.nextLine();
      c.write('200 result=1\n');
      await c.waitClosed();
      return line;
    }),
  );
  t.same(
    calls,
    Array.from({ length: 50 }, (_, i) => `SET VARIABLE "ECHO" "Ответ ${i}"`),
  );
  await until(() => server.connections === 0);
});
