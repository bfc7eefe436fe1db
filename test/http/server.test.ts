/**
 * The HTTP server over real HTTP on port 0: auth everywhere, bounded JSON bodies,
 * coded errors, click-to-call, status, metrics and recording links with Range.
 */
import t from 'tap';
import { request } from 'node:http';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHttpServer, type HttpServerOptions } from '../../lib/adapters/http/server.js';
import { signHs256 } from '../../lib/adapters/http/jwt.js';
import { defaultOpenFile } from '../../lib/adapters/http/recordings-route.js';
import type { ClickToCallRequest, ClickToCallResult } from '../../lib/adapters/http/click-to-call.js';
import { createRecordingLinks, deriveLinkKey, sealToken } from '../../lib/domain/recordings/links.js';
import { captureLogs, snapshot, tempDir } from './fixtures/helpers.js';
import { defaults } from '../../lib/platform/config/defaults.js';


const SECRET = 'connector-secret-0123456789';
const WIDGET = 'kommo-client-secret-abcdef';
const ACCOUNT = 31234567;

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: () => any;
}

function http(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const bearer = { authorization: `Bearer ${SECRET}` };
const jsonCT = { 'content-type': 'application/json' };
const nowS = () => Math.floor(Date.now() / 1000);
const widgetToken = (over: Record<string, unknown> = {}) =>
  signHs256({ iat: nowS() - 10, exp: nowS() + 1800, account_id: ACCOUNT, user_id: 777, subdomain: 'example', ...over }, WIDGET);

interface Teardown {
  teardown(fn: () => unknown): void;
}

async function setup(t: Teardown, over: Partial<HttpServerOptions> = {}) {
  const base = tempDir(t);
  const dir = join(base, 'monitor');
  const outside = join(base, 'outside');
  mkdirSync(dir);
  mkdirSync(outside);
  const audio = Buffer.alloc(1000);
  for (let i = 0; i < audio.length; i++) audio[i] = i % 251;
  const mp3 = join(dir, 'call-1.mp3');
  writeFileSync(mp3, audio);
  const wav = join(dir, 'call-2.wav');
  writeFileSync(wav, Buffer.from('RIFF....WAVE'));
  const secretFile = join(outside, 'passwd');
  writeFileSync(secretFile, 'root:SECRET-CONTENT');
  symlinkSync(secretFile, join(dir, 'evil.mp3'));
  const links = createRecordingLinks({ secret: SECRET, publicUrl: 'http://127.0.0.1', roots: [dir], ttlDays: 1 });
  const opened: string[] = [];
  const calls: ClickToCallRequest[] = [];
  let nextResult: ClickToCallResult = { placed: true, actionId: 'a-1', channelId: 'c-1' };
  const { logger, text } = captureLogs();
  const server = createHttpServer({
    config: { ...defaults.http, enabled: true, host: '127.0.0.1', port: 0, public_url: 'http://127.0.0.1', secret: SECRET, widget_secret: WIDGET, account_id: ACCOUNT, max_body_bytes: 1024 },
    logger,
    links,
    openFile: async (p) => {
      opened.push(p);
      return defaultOpenFile(p);
    },
    clickToCall: async (r) => {
      calls.push(r);
      return nextResult;
    },
    status: () => snapshot({ started_at: new Date(Date.now() - 5000).toISOString() }),
    ...over,
  });
  const { port } = await server.listen();
  t.teardown(() => server.destroy());
  return {
    port, server, dir, mp3, wav, secretFile, links, opened, calls, audio, logs: text,
    setResult: (r: ClickToCallResult) => (nextResult = r),
    path: async (file: string) => new URL(await links.makeLink(file)).pathname,
  };
}

t.test('authentication is required on every API endpoint', async (t) => {
  const s = await setup(t);
  const endpoints: Array<[string, string]> = [['POST', '/api/v1/click-to-call'], ['GET', '/api/v1/status'], ['GET', '/metrics']];
  const body = JSON.stringify({ user_id: 777, phone: '+79991234567' });
  const cases: Array<[string, Record<string, string>, string]> = [
    ['no credentials', {}, 'HTTP_AUTH_REQUIRED'],
    ['wrong secret', { authorization: 'Bearer wrong-secret-0123456789' }, 'HTTP_AUTH_INVALID'],
    ['secret as a prefix', { authorization: `Bearer ${SECRET.slice(0, -1)}` }, 'HTTP_AUTH_INVALID'],
    ['basic auth', { authorization: `Basic ${Buffer.from(`x:${SECRET}`).toString('base64')}` }, 'HTTP_AUTH_INVALID'],
    ['empty bearer', { authorization: 'Bearer ' }, 'HTTP_AUTH_INVALID'],
    ['forged JWT', { 'x-auth-token': signHs256({ exp: nowS() + 600, account_id: ACCOUNT, user_id: 777 }, 'not-the-secret') }, 'HTTP_AUTH_INVALID'],
    ['alg none JWT', { 'x-auth-token': `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp: nowS() + 600, account_id: ACCOUNT, user_id: 777 })).toString('base64url')}.` }, 'HTTP_AUTH_INVALID'],
    ['expired JWT', { 'x-auth-token': widgetToken({ iat: nowS() - 4000, exp: nowS() - 1800 }) }, 'HTTP_AUTH_INVALID'],
    ['wrong-account JWT', { 'x-auth-token': widgetToken({ account_id: 99 }) }, 'HTTP_AUTH_INVALID'],
  ];
  for (const [method, path] of endpoints) {
    for (const [name, headers, code] of cases) {
      const r = await http(s.port, method, path, { headers: { ...headers, ...jsonCT }, ...(method === 'POST' ? { body } : {}) });
      t.equal(r.status, 401, `${method} ${path}: ${name}`);
      t.equal(r.json().error.code, code, `${method} ${path}: ${name} code`);
      t.match(r.headers['www-authenticate'], /^Bearer/);
    }
  }
  // A genuine widget token is not enough for the secret-only endpoints.
  for (const path of ['/api/v1/status', '/metrics']) {
    const r = await http(s.port, 'GET', path, { headers: { 'x-auth-token': widgetToken() } });
    t.equal(r.status, 401, `${path} refuses the widget token`);
  }
  t.equal(s.calls.length, 0, 'click-to-call never ran');
  t.notMatch(s.logs(), SECRET, 'the secret is never logged');
  t.notMatch(s.logs(), WIDGET);
});

t.test('click-to-call', async (t) => {
  const s = await setup(t);
  const post = (body: string, headers: Record<string, string> = { ...bearer, ...jsonCT }) => http(s.port, 'POST', '/api/v1/click-to-call', { headers, body });

  let r = await post(JSON.stringify({ user_id: 777, phone: ' +7 (999) 123-45-67 ', extra: 'x' }));
  t.equal(r.status, 200);
  t.same(r.json(), { placed: true, actionId: 'a-1', channelId: 'c-1' });
  t.match(s.calls[0], { userId: 777, phone: '+7 (999) 123-45-67', requestData: { user_id: 777, extra: 'x' } });
  t.ok(s.calls[0]?.signal instanceof AbortSignal);

  // widget token: the user comes from the token
  r = await post(JSON.stringify({ phone: '89991234567' }), { 'x-auth-token': widgetToken(), ...jsonCT });
  t.equal(r.status, 200);
  t.equal(s.calls[1]?.userId, 777);
  r = await post(JSON.stringify({ phone: '89991234567', user_id: 778 }), { 'x-auth-token': widgetToken(), ...jsonCT });
  t.equal(r.status, 403);
  t.equal(r.json().error.code, 'HTTP_FORBIDDEN');
  r = await post(JSON.stringify({ phone: '89991234567' }), { 'x-auth-token': widgetToken({ user_id: undefined }), ...jsonCT });
  t.equal(r.status, 403);

  // bad input → 400 with a clear message
  const bad: Array<[string, RegExp]> = [
    ['{"user_id": 777, "phone": ', /not valid JSON/],
    ['', /empty/],
    ['[1,2]', /JSON object/],
    ['{"user_id": 777}', /phone is required/],
    ['{"user_id": 777, "phone": "call me\\r\\nmaybe"}', /phone must be/],
    ['{"user_id": 777, "phone": "abc"}', /phone must be/],
    ['{"phone": "123"}', /user_id is required/],
    ['{"user_id": -1, "phone": "123"}', /user_id must be/],
    ['{"user_id": "x", "phone": "123"}', /user_id must be/],
  ];
  for (const [body, message] of bad) {
    r = await post(body);
    t.equal(r.status, 400, body);
    t.match(r.json().error, { code: /^HTTP_BAD_(JSON|REQUEST)$/, message }, body);
  }
  r = await http(s.port, 'POST', '/api/v1/click-to-call', { headers: { ...bearer, 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0xff, 0x7d]) });
  t.equal(r.status, 400, 'invalid UTF-8');

  // 415 and 413
  r = await post('user_id=777&phone=123', { ...bearer, 'content-type': 'application/x-www-form-urlencoded' });
  t.equal(r.status, 415);
  t.equal(r.json().error.code, 'HTTP_UNSUPPORTED_MEDIA_TYPE');
  r = await post('{}', { ...bearer });
  t.equal(r.status, 415, 'no content type');
  r = await post(JSON.stringify({ user_id: 777, phone: '123', pad: 'x'.repeat(2000) }));
  t.equal(r.status, 413);
  t.equal(r.json().error.code, 'HTTP_BODY_TOO_LARGE');

  // failures of the originate service keep their code, with a fitting status
  const failures: Array<[ClickToCallResult, number]> = [
    [{ placed: false, error: { code: 'ORIGINATE_UNKNOWN_USER', message: 'no extension for Kommo user 777' } }, 422],
    [{ placed: false, error: { code: 'ORIGINATE_BAD_NUMBER', message: 'bad number' } }, 422],
    [{ placed: false, error: { code: 'AMI_NOT_CONNECTED', message: 'AMI is down' } }, 503],
    [{ placed: false, error: { code: 'ORIGINATE_TIMEOUT', message: 'no answer from Asterisk' } }, 504],
    [{ placed: false, error: { code: 'ORIGINATE_FAILED', message: 'Asterisk said no' } }, 502],
    [{ placed: false, status: 409, error: { code: 'BUSY', message: 'busy' } }, 409],
  ];
  for (const [result, status] of failures) {
    s.setResult(result);
    r = await post(JSON.stringify({ user_id: 777, phone: '123' }));
    t.equal(r.status, status, result.error?.code ?? '');
    t.same(r.json(), { placed: false, error: result.error });
  }
});

t.test('a throwing or slow click-to-call answers a coded 5xx without details', async (t) => {
  const s = await setup(t, {
    handlerTimeoutMs: 200,
    clickToCall: async (r) => {
      if (r.phone === '1') throw new Error('boom at /secret/path/file.ts');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return { placed: true };
    },
  });
  let r = await http(s.port, 'POST', '/api/v1/click-to-call', { headers: { ...bearer, ...jsonCT }, body: '{"user_id":1,"phone":"1"}' });
  t.equal(r.status, 500);
  t.same(r.json(), { error: { code: 'HTTP_INTERNAL', message: 'internal error' } });
  r = await http(s.port, 'POST', '/api/v1/click-to-call', { headers: { ...bearer, ...jsonCT }, body: '{"user_id":1,"phone":"2"}' });
  t.equal(r.status, 504);
  t.equal(r.json().error.code, 'HTTP_HANDLER_TIMEOUT');
});

t.test('routing: 404, 405, raw paths, CORS preflight', async (t) => {
  const s = await setup(t);
  for (const path of ['/', '/api/v1/nope', '/api/v1/status/', '/api/v1//status', '/api/v1/%73tatus', '/recordings/', '/recordings/short', '/x/../api/v1/status', 'http://evil/api/v1/status']) {
    const r = await http(s.port, 'GET', path, { headers: bearer });
    t.equal(r.status, 404, path);
    t.same(r.json(), { error: { code: 'HTTP_NOT_FOUND', message: 'not found' } });
  }
  let r = await http(s.port, 'DELETE', '/api/v1/status', { headers: bearer });
  t.equal(r.status, 405);
  t.equal(r.headers.allow, 'GET');
  r = await http(s.port, 'GET', '/api/v1/click-to-call', { headers: bearer });
  t.equal(r.status, 405);
  r = await http(s.port, 'OPTIONS', '/api/v1/click-to-call', { headers: { origin: 'https://example.kommo.com', 'access-control-request-method': 'POST' } });
  t.equal(r.status, 204);
  t.equal(r.headers['access-control-allow-origin'], 'https://example.kommo.com');
  t.match(r.headers['access-control-allow-headers'], /X-Auth-Token/);
  r = await http(s.port, 'OPTIONS', '/api/v1/click-to-call', { headers: { origin: 'https://evil.example.com' } });
  t.equal(r.status, 403);
  r = await http(s.port, 'POST', '/api/v1/click-to-call', { headers: { 'x-auth-token': widgetToken(), ...jsonCT, origin: 'https://example.kommo.com' }, body: '{"phone":"123"}' });
  t.equal(r.headers['access-control-allow-origin'], 'https://example.kommo.com');
  // Refusals carry CORS too, so the widget can tell "token refused" or "bad number" from "unreachable".
  r = await http(s.port, 'POST', '/api/v1/click-to-call', { headers: { 'x-auth-token': widgetToken({ exp: nowS() - 3600 }), ...jsonCT, origin: 'https://example.kommo.com' }, body: '{"phone":"123"}' });
  t.equal(r.status, 401);
  t.equal(r.json().error.code, 'HTTP_AUTH_INVALID');
  t.equal(r.headers['access-control-allow-origin'], 'https://example.kommo.com', 'a 401 is readable by the widget');
  t.equal(r.headers.vary, 'Origin');
  r = await http(s.port, 'POST', '/api/v1/click-to-call', { headers: { 'x-auth-token': widgetToken(), ...jsonCT, origin: 'https://example.kommo.com' }, body: '{"phone":"<b>"}' });
  t.equal(r.status, 400);
  t.equal(r.headers['access-control-allow-origin'], 'https://example.kommo.com', 'a 400 as well');
  r = await http(s.port, 'POST', '/api/v1/click-to-call', { headers: { 'x-auth-token': widgetToken({ exp: nowS() - 3600 }), ...jsonCT, origin: 'https://evil.example.com' }, body: '{"phone":"123"}' });
  t.equal(r.status, 401);
  t.equal(r.headers['access-control-allow-origin'], undefined, 'never for an origin not allowed');
  r = await http(s.port, 'GET', '/api/v1/status', { headers: { origin: 'https://example.kommo.com' } });
  t.equal(r.status, 401);
  t.equal(r.headers['access-control-allow-origin'], undefined, 'routes browsers do not call get no CORS headers');
});

t.test('status and metrics', async (t) => {
  const s = await setup(t);
  let r = await http(s.port, 'GET', '/api/v1/status', { headers: bearer });
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /^application\/json/);
  const body = r.json();
  t.equal(body.app, 'Ok');
  t.same(body.reasons, []);
  t.ok(body.uptime_seconds >= 4 && body.uptime_seconds <= 10);
  t.match(body, { ami: { connected: true }, kommo: { reachable: true }, registration: { pending: 0 }, agi: { answers: { found: 10 } }, hooks: { active: ['process_client_phone'] } });
  r = await http(s.port, 'GET', '/metrics', { headers: bearer });
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.match(r.body.toString(), /^kommo_asterisk_ami_connected 1$/m);
  t.match(r.body.toString(), /^kommo_asterisk_uptime_seconds \d+$/m);
});

t.test('recordings: 200, Range 206, 416, HEAD', async (t) => {
  const s = await setup(t);
  const path = await s.path(s.mp3);
  let r = await http(s.port, 'GET', path);
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], 'audio/mpeg');
  t.equal(r.headers['accept-ranges'], 'bytes');
  t.equal(r.headers['content-length'], '1000');
  t.ok(r.body.equals(s.audio));
  r = await http(s.port, 'GET', path, { headers: { range: 'bytes=10-19' } });
  t.equal(r.status, 206);
  t.equal(r.headers['content-range'], 'bytes 10-19/1000');
  t.ok(r.body.equals(s.audio.subarray(10, 20)));
  r = await http(s.port, 'GET', path, { headers: { range: 'bytes=990-' } });
  t.equal(r.status, 206);
  t.equal(r.headers['content-range'], 'bytes 990-999/1000');
  t.ok(r.body.equals(s.audio.subarray(990)));
  r = await http(s.port, 'GET', path, { headers: { range: 'bytes=-5' } });
  t.equal(r.status, 206);
  t.ok(r.body.equals(s.audio.subarray(995)));
  r = await http(s.port, 'GET', path, { headers: { range: 'bytes=1000-' } });
  t.equal(r.status, 416);
  t.equal(r.headers['content-range'], 'bytes */1000');
  t.equal(r.json().error.code, 'HTTP_RANGE_NOT_SATISFIABLE');
  r = await http(s.port, 'HEAD', path);
  t.equal(r.status, 200);
  t.equal(r.headers['content-length'], '1000');
  t.equal(r.body.length, 0);
  r = await http(s.port, 'HEAD', path, { headers: { range: 'bytes=0-1' } });
  t.equal(r.status, 206);
  t.equal(r.body.length, 0);
  // the wav is served as audio/wav; the token works with or without the extension
  const wavPath = await s.path(s.wav);
  r = await http(s.port, 'GET', wavPath.replace(/\.wav$/, ''));
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], 'audio/wav');
  r = await http(s.port, 'POST', path, { headers: jsonCT, body: '{}' });
  t.equal(r.status, 405);
  // nothing in any answer names the file
  for (const [k, v] of Object.entries(r.headers)) t.notMatch(String(v), /monitor|call-1|ka-http-/, k);
  t.notMatch(s.logs(), path.split('/')[2]?.slice(0, 40) ?? 'never', 'the token is never logged');
});

t.test('recordings: forged, expired, traversal and symlinked-out links read nothing', async (t) => {
  const s = await setup(t);
  const path = await s.path(s.mp3);
  const token = path.slice('/recordings/'.length).replace(/\.mp3$/, '');
  const raw = Buffer.from(token, 'base64url');
  raw[15] = (raw[15] ?? 0) ^ 0x40;
  const key = deriveLinkKey(SECRET);
  const future = nowS() + 3600;
  const cases: Array<[string, string, number]> = [
    ['forged', `/recordings/${raw.toString('base64url')}.mp3`, 403],
    ['made up', `/recordings/${'A'.repeat(60)}`, 403],
    ['expired', `/recordings/${sealToken(key, s.mp3, nowS() - 10)}.mp3`, 410],
    ['outside file', `/recordings/${sealToken(key, s.secretFile, future)}`, 404],
    ['.. inside the token', `/recordings/${sealToken(key, join(s.dir, '..', 'outside', 'passwd'), future)}`, 404],
    ['symlink pointing out', `/recordings/${sealToken(key, join(s.dir, 'evil.mp3'), future)}`, 404],
    ['unknown file', `/recordings/${sealToken(key, join(s.dir, 'nope.mp3'), future)}`, 404],
    ['.. in the URL', '/recordings/../outside/passwd', 404],
    ['%2e%2e in the URL', '/recordings/%2e%2e/%2e%2e/etc/passwd', 404],
    ['encoded slash', `/recordings/${token}%2f..%2f..%2fpasswd`, 404],
    ['absolute path in the URL', `/recordings/${s.secretFile}`, 404],
    ['dot-dot suffix', `/recordings/${token}..`, 404],
  ];
  for (const [name, p, status] of cases) {
    const r = await http(s.port, 'GET', p);
    t.equal(r.status, status, name);
    t.match(r.headers['content-type'], /^application\/json/, name);
    t.notMatch(r.body.toString(), /SECRET-CONTENT|passwd|monitor|outside|ka-http-/, `${name}: body names nothing`);
    for (const [k, v] of Object.entries(r.headers)) t.notMatch(String(v), /passwd|monitor|outside|ka-http-/, `${name}: header ${k}`);
  }
  t.same(s.opened, [], 'no file was opened');
  const ok = await http(s.port, 'GET', path);
  t.equal(ok.status, 200);
  t.same(s.opened, [s.mp3], 'only the genuine link opened its file');
});

t.test('close() drains requests in flight; destroy() aborts; both idempotent', async (t) => {
  let release: () => void = () => undefined;
  const s = await setup(t, {
    clickToCall: () => new Promise((resolve) => (release = () => resolve({ placed: true, actionId: 'late' }))),
  });
  const pending = http(s.port, 'POST', '/api/v1/click-to-call', { headers: { ...bearer, ...jsonCT }, body: '{"user_id":1,"phone":"1"}' });
  await new Promise((r) => setTimeout(r, 50));
  const closing = s.server.close();
  t.equal(s.server.close(), closing, 'idempotent');
  await new Promise((r) => setTimeout(r, 50));
  release();
  const r = await pending;
  t.equal(r.status, 200);
  t.equal(r.json().actionId, 'late');
  await closing;
  t.equal(s.server.address(), undefined, 'no longer listening');
  await s.server.destroy();

  let signal: AbortSignal | undefined;
  const d = await setup(t, { clickToCall: (req) => new Promise(() => (signal = req.signal)) });
  const stuck = http(d.port, 'POST', '/api/v1/click-to-call', { headers: { ...bearer, ...jsonCT }, body: '{"user_id":1,"phone":"1"}' }).then(
    () => 'answered',
    () => 'cut',
  );
  await new Promise((r) => setTimeout(r, 50));
  await d.server.destroy();
  await d.server.destroy();
  t.equal(await stuck, 'cut');
  t.equal(signal?.aborted, true, 'the handler was aborted');
});

t.test('a slow request body times out', async (t) => {
  const s = await setup(t, { requestTimeoutMs: 300 });
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/api/v1/click-to-call', headers: { ...bearer, ...jsonCT, 'content-length': '100' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write('{"user_id":'); // and never the rest
  });
  t.equal(status, 408);
});

t.test('client errors are logged once per code per interval, counted in /metrics, no secret in the line', async (t) => {
  const s = await setup(t);
  for (let i = 0; i < 40; i++) {
    const r = await http(s.port, 'GET', '/api/v1/status', { headers: { authorization: `Bearer wrong-secret-${i}-0123456789` } });
    t.equal(r.status, 401);
  }
  await http(s.port, 'GET', '/nope/../etc/passwd');
  const lines = s.logs().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const auth = lines.filter((l) => l.code === 'HTTP_AUTH_INVALID');
  t.equal(auth.length, 1, `one line for 40 wrong secrets (${auth.length})`);
  t.match(auth[0], { component: 'http', remote: /127\.0\.0\.1/, msg: /GET \/api\/v1\/status: 401/ });
  t.notMatch(s.logs(), /wrong-secret/, 'the presented secret is never logged');
  t.equal(lines.filter((l) => l.code === 'HTTP_NOT_FOUND').length, 1, 'another code has its own line');
  const metrics = await http(s.port, 'GET', '/metrics', { headers: bearer });
  t.match(metrics.body.toString(), /^kommo_asterisk_peer_errors_total\{source="http",code="HTTP_AUTH_INVALID"\} 40$/m);
});

t.test('a placed click-to-call answers the documented fields only: no dialplan internals', async (t) => {
  const s = await setup(t);
  s.setResult({
    placed: true, state: 'queued', actionId: 'a-9', channelId: 'c-9', otherChannelId: 'o-9', extension: '101', userId: 5001, number: '79991234567',
    params: { channel: 'PJSIP/101', context: 'kommo-originate', caller_id: '"Kommo" <79991234567>' }, hookApplied: true,
  });
  const r = await http(s.port, 'POST', '/api/v1/click-to-call', { headers: { ...bearer, ...jsonCT }, body: JSON.stringify({ user_id: 5001, phone: '+7 999 123-45-67' }) });
  t.equal(r.status, 200);
  t.same(r.json(), { placed: true, state: 'queued', actionId: 'a-9', channelId: 'c-9', otherChannelId: 'o-9', extension: '101', userId: 5001, number: '79991234567' });
});
