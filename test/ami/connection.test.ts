/**
 * Our own AMI connection (node:net + the push parser): encoding, response pairing by
 * ActionID, events, and a peer that sends what no Asterisk sends.
 */
import t from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { encodeAction, openAmiConnection } from '../../lib/protocol/ami/connection.js';
import { createPeerErrorLog } from '../../lib/platform/log-throttle.js';

function logs() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(c: Buffer, _e, done) { for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l)); done(); } });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

async function server(onSocket: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = net.createServer(onSocket);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

t.test('encodeAction: ActionID spelled as Asterisk writes it, objects as one line per pair', async (t) => {
  t.equal(
    encodeAction({ action: 'Originate', channel: 'PJSIP/101', variable: { A: '1', B: 'x=y' }, actionid: 'k-1', timeout: 30000, skipped: undefined }),
    'action: Originate\r\nchannel: PJSIP/101\r\nvariable: A=1\r\nvariable: B=x=y\r\nActionID: k-1\r\ntimeout: 30000\r\n\r\n',
  );
});

t.test('responses pair by ActionID, errors are the error response, events are managerevent', async (t) => {
  const got: string[] = [];
  const srv = await server((s) => {
    s.write('Asterisk Call Manager/9.0.0\r\n');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 4);
        got.push(block);
        const id = /ActionID: (.*)/.exec(block)?.[1];
        if (/Action: Login/i.test(block)) s.write(`Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n`);
        else if (/Action: Bad/i.test(block)) s.write(`Response: Error\r\nActionID: ${id}\r\nMessage: Invalid/unknown command\r\n\r\n`);
        else s.write(`Event: Newchannel\r\nChannel: PJSIP/101-1\r\nUniqueid: 1.1\r\n\r\nResponse: Success\r\nActionID: ${id}\r\nPing: Pong\r\n\r\n`);
      }
    });
  });
  t.teardown(srv.close);
  const conn = openAmiConnection({ username: 'kommo', secret: 's3' });
  const events: unknown[] = [];
  conn.on('managerevent', (m) => events.push(m));
  await new Promise<void>((r) => conn.connect(srv.port, '127.0.0.1', r));
  const loginErr = await new Promise((r) => conn.login(r));
  t.equal(loginErr, undefined, 'login accepted');
  t.match(got[0], /^action: Login\r\nusername: kommo\r\nsecret: s3\r\nevents: on\r\nActionID: conn-1$/);
  const [err, res] = await new Promise<unknown[]>((r) => conn.action({ action: 'Bad', actionid: 'x-1' }, (...a) => r(a)));
  t.match(err, { response: 'Error', message: 'Invalid/unknown command', actionid: 'x-1' });
  t.equal(res, err);
  const [ok, pong] = await new Promise<unknown[]>((r) => conn.action({ action: 'Ping', actionid: 'x-2' }, (...a) => r(a)));
  t.equal(ok, undefined);
  t.match(pong, { response: 'Success', ping: 'Pong' });
  t.match(events, [{ event: 'Newchannel', uniqueid: '1.1' }]);
  conn.disconnect();
});

t.test('a peer that never ends a message: reported once per interval without a stack, the connection dropped', async (t) => {
  const srv = await server((s) => {
    const junk = Buffer.alloc(64 * 1024, 'x');
    const pump = (): void => {
      while (s.writable && s.write(junk));
      if (s.writable) s.once('drain', pump);
    };
    pump();
    s.on('error', () => undefined);
  });
  t.teardown(srv.close);
  const { logger, lines } = logs();
  const peerErrors = createPeerErrorLog({ logger, component: 'ami', intervalMs: 60_000 });
  for (let i = 0; i < 3; i++) {
    const conn = openAmiConnection({ username: 'u', secret: 's', peerErrors });
    conn.on('error', () => undefined);
    const closed = new Promise<void>((r) => conn.on('close', r));
    conn.connect(srv.port, '127.0.0.1', () => undefined);
    await closed;
  }
  t.same(peerErrors.totals(), { AMI_MALFORMED: 3 }, 'three framing errors counted');
  const logged = lines.filter((l) => l.code === 'AMI_MALFORMED');
  t.equal(logged.length, 1, 'one line logged');
  t.notOk('err' in (logged[0] ?? {}) || JSON.stringify(logged[0]).includes('stack'), 'no stack');
  peerErrors.close();
  t.match(lines.at(-1), { code: 'AMI_MALFORMED', suppressed: 2, msg: /^AMI_MALFORMED ×2 in the last \d+ s from 127\.0\.0\.1:\d+$/ });
});
