import net, { type AddressInfo } from 'node:net';
import t from 'tap';
import { AgiError } from '../../agi/errors.js';
import { acceptAgiSession, type AgiSession, type AgiSessionOptions } from '../../agi/session.js';
import { captureLogger, delay, FakeAsterisk, silentLogger } from './fixtures/fake-asterisk.js';

/** A bare TCP listener handing each connection to acceptAgiSession. */
async function harness(
  t: { teardown: (fn: () => unknown) => void },
  options: Partial<AgiSessionOptions> = {},
): Promise<{ connect: () => Promise<{ asterisk: FakeAsterisk; session: Promise<AgiSession> }> }> {
  const accepted: Promise<AgiSession>[] = [];
  const waiting: ((s: Promise<AgiSession>) => void)[] = [];
  const server = net.createServer((socket) => {
    const p = acceptAgiSession(socket, { logger: silentLogger(), commandTimeoutMs: 1000, ...options });
    p.catch(() => undefined);
    const w = waiting.shift();
    if (w) w(p);
    else accepted.push(p);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const clients: FakeAsterisk[] = [];
  t.teardown(async () => {
    for (const c of clients) c.socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    async connect() {
      const session = new Promise<Promise<AgiSession>>((resolve) => {
        const ready = accepted.shift();
        if (ready) resolve(ready);
        else waiting.push(resolve);
      });
      const asterisk = await FakeAsterisk.connect(port);
      clients.push(asterisk);
      return { asterisk, session: session.then((p) => p) };
    },
  };
}

t.test('a full session: env, GET VARIABLE, SET VARIABLE with quotes and backslashes, replies', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv({ calleridname: 'Иван Петров', args: ['a:b'] });
  const session = await pending;
  t.equal(session.request.script, 'autodistribution');
  t.equal(session.request.callerIdName, 'Иван Петров');
  t.same(session.request.args, ['a:b']);

  const got = session.getVariable('KOMMO_MANAGER');
  await asterisk.expect('GET VARIABLE "KOMMO_MANAGER"', '200 result=1 (Мария (отдел продаж))');
  t.equal(await got, 'Мария (отдел продаж)');

  const missing = session.getVariable('NOPE');
  await asterisk.expect('GET VARIABLE "NOPE"', '200 result=0');
  t.equal(await missing, null, 'result=0 → not set');

  const empty = session.getVariable('EMPTY');
  await asterisk.expect('GET VARIABLE "EMPTY"', '200 result=1 ()');
  t.equal(await empty, '', 'set but empty');

  const set = session.setVariable('CALLERID(name)', 'Иван "Ёж" \\ Петров');
  await asterisk.expect('SET VARIABLE "CALLERID(name)" "Иван \\"Ёж\\" \\\\ Петров"', '200 result=1');
  await set;

  const verbose = session.verbose('routing to 101', 2);
  await asterisk.expect('VERBOSE "routing to 101" "2"', '200 result=1');
  await verbose;

  const exec = session.exec('Set', ['A=1', 'B=2']);
  await asterisk.expect('EXEC "Set" "A=1,B=2"', '200 result=0');
  t.equal(await exec, 0);

  const raw = session.command('STREAM FILE', ['beep', '']);
  await asterisk.expect('STREAM FILE "beep" ""', '200 result=0 endpos=8000');
  t.match(await raw, { code: 200, result: 0, endpos: 8000 });

  await session.close();
  t.equal(await asterisk.nextLine(), null, 'the server ended the connection');
  await asterisk.waitClosed();
  t.equal(session.error, null, 'clean close');
});

t.test('replies split across packets, byte by byte', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  const env = Buffer.from(
    'agi_network: yes\nagi_network_script: autodistribution\nagi_calleridname: Ёжик\n\n',
    'utf8',
  );
  for (const byte of env) {
    asterisk.write(Buffer.from([byte]));
    await delay(0);
  }
  const session = await pending;
  t.equal(session.request.callerIdName, 'Ёжик');
  const got = session.getVariable('X');
  t.equal(await asterisk.nextLine(), 'GET VARIABLE "X"');
  for (const byte of Buffer.from('200 result=1 (Жёлудь)\n', 'utf8')) {
    asterisk.write(Buffer.from([byte]));
    await delay(0);
  }
  t.equal(await got, 'Жёлудь');
});

t.test('HANGUP mid-command is a notice; the command still gets its own reply', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;
  const hangups: number[] = [];
  session.on('hangup', () => hangups.push(Date.now()));

  const got = session.getVariable('X');
  t.equal(await asterisk.nextLine(), 'GET VARIABLE "X"');
  asterisk.write('HANGUP\n');
  await delay(30);
  t.equal(session.hungUp, true, 'hungUp set');
  t.equal(hangups.length, 1, "'hangup' emitted");
  t.equal(session.busy, true, 'the command is still in flight');
  asterisk.write('200 result=1 (late)\n');
  t.equal(await got, 'late', 'the reply after HANGUP belongs to the command');

  // after the hangup Asterisk refuses most commands with 511
  const set = session.setVariable('A', 'b');
  await asterisk.expect('SET VARIABLE "A" "b"', '511 Command Not Permitted on a dead channel or intercepted channel');
  await t.rejects(set, { code: 'AGI_DEAD_CHANNEL', replyCode: 511, command: 'SET VARIABLE' });
  asterisk.write('HANGUP\n');
  await delay(10);
  t.equal(hangups.length, 1, 'a repeated HANGUP is not emitted twice');
});

t.test('HANGUP glued to the environment block in one packet', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.write('agi_network: yes\nagi_network_script: x\n\nHANGUP\n');
  const session = await pending;
  await delay(10);
  t.equal(session.hungUp, true);
});

t.test('510, 511 and the multi-line 520 reject with codes; the session stays usable', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;

  const unknown = session.command('FROB');
  await asterisk.expect('FROB', '510 Invalid or unknown command');
  await t.rejects(unknown, { code: 'AGI_COMMAND_UNKNOWN', replyCode: 510, command: 'FROB' });

  const dead = session.command('ANSWER');
  await asterisk.expect('ANSWER', '511 Command Not Permitted on a dead channel or intercepted channel');
  await t.rejects(dead, { code: 'AGI_DEAD_CHANNEL', replyCode: 511 });

  const usage = session.command('GET VARIABLE');
  t.equal(await asterisk.nextLine(), 'GET VARIABLE');
  // the block arrives in two packets, split inside the usage text
  asterisk.write('520-Invalid command syntax.  Proper usage follows:\n Usage: GET VAR');
  await delay(20);
  t.equal(session.busy, true, 'a partial 520 block settles nothing');
  asterisk.write('IABLE <variablename>\n\n Returns 0 if not set.\n520 End of proper usage.\n');
  const err = (await usage.catch((e: unknown) => e)) as AgiError;
  t.type(err, AgiError);
  t.equal(err.code, 'AGI_USAGE');
  t.same(err.usage, [' Usage: GET VARIABLE <variablename>', '', ' Returns 0 if not set.']);

  const single = session.command('EXEC');
  await asterisk.expect('EXEC', '520 Invalid command syntax.  Proper usage not available.');
  await t.rejects(single, { code: 'AGI_USAGE', usage: [] });

  const ok = session.getVariable('STILL');
  await asterisk.expect('GET VARIABLE "STILL"', '200 result=1 (alive)');
  t.equal(await ok, 'alive', 'the session still pairs replies correctly');
});

t.test('a reset mid-command rejects it with AGI_CLOSED and the reset as cause', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;
  const closed = new Promise<AgiError | null>((resolve) => session.once('close', resolve));
  const got = session.getVariable('X');
  t.equal(await asterisk.nextLine(), 'GET VARIABLE "X"');
  asterisk.reset();
  const err = (await got.catch((e: unknown) => e)) as AgiError;
  t.equal(err.code, 'AGI_CLOSED');
  t.match((err.cause as NodeJS.ErrnoException | undefined)?.code, /ECONNRESET|EPIPE/);
  t.equal((await closed)?.code, 'AGI_CLOSED', "'close' carries the error");
  await t.rejects(session.getVariable('Y'), { code: 'AGI_CLOSED' }, 'later commands fail at once');
});

t.test('the peer closing mid-command rejects with AGI_CLOSED', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;
  const got = session.command('ANSWER');
  t.equal(await asterisk.nextLine(), 'ANSWER');
  asterisk.end();
  await t.rejects(got, { code: 'AGI_CLOSED' });
});

t.test('a command past its deadline rejects with AGI_TIMEOUT and closes the session', async (t) => {
  const { logger, lines } = captureLogger();
  const h = await harness(t, { commandTimeoutMs: 60, logger });
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;
  const started = Date.now();
  const got = session.getVariable('SLOW');
  t.equal(await asterisk.nextLine(), 'GET VARIABLE "SLOW"');
  const err = (await got.catch((e: unknown) => e)) as AgiError;
  const elapsed = Date.now() - started;
  t.equal(err.code, 'AGI_TIMEOUT');
  t.equal(err.timeoutMs, 60);
  t.ok(elapsed >= 55 && elapsed < 1000, `rejected near the deadline (${elapsed} ms)`);
  t.equal(await asterisk.nextLine(), null, 'the connection is closed: a late reply cannot be mis-paired');
  t.ok(
    lines.some((l) => l.msg === 'agi session failed' && (l.err as { code?: string } | undefined)?.code === 'AGI_TIMEOUT'),
    'the timeout is logged with its code',
  );
  t.equal(lines.find((l) => l.msg === 'agi session failed')?.uniqueid, '1700000000.1', 'bound to the call');
});

t.test('a per-command timeout overrides the default', async (t) => {
  const h = await harness(t, { commandTimeoutMs: 5000 });
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;
  const started = Date.now();
  await t.rejects(session.command('ANSWER', [], { timeoutMs: 40 }), { code: 'AGI_TIMEOUT', timeoutMs: 40 });
  t.ok(Date.now() - started < 1000);
});

t.test('an AbortSignal aborts the command and closes the session', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;
  const ac = new AbortController();
  const got = session.command('ANSWER', [], { signal: ac.signal });
  t.equal(await asterisk.nextLine(), 'ANSWER');
  ac.abort(new Error('kommo gave up'));
  await t.rejects(got, { code: 'AGI_ABORTED' });
  t.equal(session.isClosed, true);

  const h2 = await harness(t);
  const second = await h2.connect();
  second.asterisk.sendEnv();
  const s2 = await second.session;
  await t.rejects(s2.command('ANSWER', [], { signal: AbortSignal.abort() }), { code: 'AGI_ABORTED' }, 'already aborted');
  t.equal(s2.isClosed, false, 'nothing was sent, the session is fine');
});

t.test('one command in flight: a second one is refused with AGI_BUSY', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;
  const first = session.getVariable('A');
  await t.rejects(session.getVariable('B'), { code: 'AGI_BUSY', inFlight: 'GET VARIABLE' });
  await asterisk.expect('GET VARIABLE "A"', '200 result=1 (a)');
  t.equal(await first, 'a');
  const third = session.getVariable('C');
  await asterisk.expect('GET VARIABLE "C"', '200 result=1 (c)');
  t.equal(await third, 'c', 'the refused command was never sent');
});

t.test('an argument with a newline is refused and nothing is sent', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;
  await t.rejects(session.setVariable('CALLERID(name)', 'evil\nEXEC Hangup'), {
    code: 'AGI_INVALID_ARGUMENT',
    argument: 'value',
  });
  const next = session.getVariable('X');
  t.equal(await asterisk.nextLine(), 'GET VARIABLE "X"', 'the next line on the wire is the next command');
  asterisk.write('200 result=0\n');
  t.equal(await next, null);
});

t.test('an unsolicited reply or a malformed reply closes the session', async (t) => {
  const h = await harness(t);
  const a = await h.connect();
  a.asterisk.sendEnv();
  const s1 = await a.session;
  a.asterisk.write('200 result=1\n');
  await a.asterisk.waitClosed();
  t.equal(s1.error?.code, 'AGI_UNEXPECTED_REPLY');

  const b = await h.connect();
  b.asterisk.sendEnv();
  const s2 = await b.session;
  const got = s2.command('ANSWER');
  await b.asterisk.expect('ANSWER', 'HTTP/1.1 400 Bad Request');
  await t.rejects(got, { code: 'AGI_MALFORMED_REPLY' });
  await b.asterisk.waitClosed();
});

t.test('header phase: timeout, garbage, oversize, close before the header', async (t) => {
  const h = await harness(t, { headerTimeoutMs: 80, maxHeaderBytes: 1024 });

  const half = await h.connect();
  half.asterisk.write('agi_network: yes\nagi_network_scr');
  await t.rejects(half.session, { code: 'AGI_HEADER_TIMEOUT', timeoutMs: 80 });
  await half.asterisk.waitClosed();

  const garbage = await h.connect();
  garbage.asterisk.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await t.rejects(garbage.session, { code: 'AGI_MALFORMED_ENV' });
  await garbage.asterisk.waitClosed();

  const big = await h.connect();
  big.asterisk.write(Buffer.alloc(4096, 0x7a));
  await t.rejects(big.session, { code: 'AGI_HEADER_TOO_LARGE' });
  await big.asterisk.waitClosed();

  const gone = await h.connect();
  gone.asterisk.write('agi_network: yes\n');
  await delay(10);
  gone.asterisk.reset();
  await t.rejects(gone.session, { code: 'AGI_CLOSED' });
});

t.test('close() waits for the command in flight, then ends the connection', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;
  const got = session.getVariable('X');
  t.equal(await asterisk.nextLine(), 'GET VARIABLE "X"');
  let closed = false;
  const closing = session.close().then(() => (closed = true));
  t.equal(session.close(), session.close(), 'idempotent: the same promise');
  await t.rejects(session.getVariable('Y'), { code: 'AGI_CLOSED' }, 'no new commands while closing');
  await delay(30);
  t.equal(closed, false, 'still waiting for the reply');
  t.equal(asterisk.isClosed, false, 'the connection is still open');
  asterisk.write('200 result=1 (done)\n');
  t.equal(await got, 'done');
  t.equal(await asterisk.nextLine(), null, 'then the server ends the connection');
  await closing;
  t.equal(closed, true);
  session.destroy();
  t.equal(session.error, null, 'destroy after close is a no-op');
});

t.test('destroy() rejects the command in flight at once', async (t) => {
  const h = await harness(t);
  const { asterisk, session: pending } = await h.connect();
  asterisk.sendEnv();
  const session = await pending;
  const got = session.getVariable('X');
  t.equal(await asterisk.nextLine(), 'GET VARIABLE "X"');
  session.destroy();
  session.destroy();
  await t.rejects(got, { code: 'AGI_CLOSED' });
  await asterisk.waitClosed();
  await session.close();
  t.pass('close() after destroy() resolves');
});
