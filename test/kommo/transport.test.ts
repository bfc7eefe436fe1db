import { createServer } from 'node:net';
import t from 'tap';
import { classifyFailure, createTransport, SendTracker } from '../../lib/adapters/kommo/transport.js';
import { buildUrl } from '../../lib/adapters/kommo/http.js';

const err = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(code), { code, ...extra });
const tracker = (hooked: boolean, sent: boolean) => Object.assign(new SendTracker(), { hooked, sent });

t.test('classifyFailure: connect-phase codes are never-sent', async (t) => {
  t.same(classifyFailure(err('ECONNREFUSED'), tracker(true, false)), { kind: 'network', sent: false, code: 'ECONNREFUSED' });
  t.same(classifyFailure(err('ENOTFOUND'), tracker(false, false)), { kind: 'network', sent: false, code: 'ENOTFOUND' });
  const agg = Object.assign(new AggregateError([err('ECONNREFUSED'), err('ECONNREFUSED')]), { code: 'ECONNREFUSED' });
  t.same(classifyFailure(agg, tracker(false, false)).sent, false, 'happy-eyeballs AggregateError');
  t.same(classifyFailure(err('UND_ERR_CONNECT_TIMEOUT'), tracker(true, false)), { kind: 'timeout', sent: false, phase: 'connect' });
});

t.test('classifyFailure: resets are sent unless the hook proved otherwise', async (t) => {
  t.same(classifyFailure(err('UND_ERR_SOCKET'), tracker(true, true)), { kind: 'network', sent: true, code: 'UND_ERR_SOCKET' });
  t.same(classifyFailure(err('ECONNRESET'), tracker(false, false)).sent, true, 'no hook: assume sent');
  t.same(classifyFailure(err('ECONNRESET'), tracker(true, false)).sent, false, 'hook ran, nothing written');
  t.same(classifyFailure(err('UND_ERR_SOCKET', { cause: err('ECONNRESET') }), tracker(true, true)).sent, true);
  t.same(classifyFailure(err('UND_ERR_HEADERS_TIMEOUT'), tracker(true, false)), { kind: 'timeout', sent: true, phase: 'headers' });
  t.same(classifyFailure(err('UND_ERR_BODY_TIMEOUT'), tracker(true, true)), { kind: 'timeout', sent: true, phase: 'body' });
  t.same(classifyFailure(new Error('no code'), tracker(true, true)), { kind: 'network', sent: true, code: 'UNKNOWN' });
});

t.test('the onRequestSent hook sees a written request that was then cut', async (t) => {
  const server = createServer((s) => s.once('data', () => s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const transport = createTransport({ connectTimeoutMs: 500, requestTimeoutMs: 1000 });
  t.teardown(() => transport.destroy());
  let settledSent: boolean | undefined;
  const res = await transport.exchange({
    url: `http://127.0.0.1:${port}/x`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{}]',
    onSettled: (sent) => { settledSent = sent; },
  });
  t.equal(res.kind, 'failure');
  if (res.kind === 'failure') t.equal(res.outcome.sent, true);
  t.equal(settledSent, true);
});

t.test('connection refused is never-sent', async (t) => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  const transport = createTransport({ connectTimeoutMs: 500, requestTimeoutMs: 1000 });
  t.teardown(() => transport.destroy());
  const res = await transport.exchange({ url: `http://127.0.0.1:${port}/x`, method: 'POST', headers: {}, body: '[]' });
  t.match(res, { kind: 'failure', outcome: { kind: 'network', sent: false } });
});

t.test('buildUrl', async (t) => {
  t.equal(buildUrl('https://a.kommo.com', '/api/v4/contacts', { query: '999', with: 'leads', x: undefined }),
    'https://a.kommo.com/api/v4/contacts?query=999&with=leads');
  t.equal(buildUrl('http://127.0.0.1:1/', '/api/v4/tasks', { 'filter[entity_id][0]': 1 }),
    'http://127.0.0.1:1/api/v4/tasks?filter%5Bentity_id%5D%5B0%5D=1');
});
