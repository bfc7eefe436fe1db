/**
 * The admin panel's gate, over real HTTP: nothing answers without a session, the
 * sign-in form needs its CSRF token, wrong passwords are throttled, the session
 * cookie is HttpOnly + SameSite=Strict + expiring, every form needs the session's
 * CSRF token, and `http.admin_password` (scrypt) replaces the shared secret.
 */
import t from 'tap';
import { hashAdminPassword } from '../../../lib/adapters/http/admin/index.js';
import { Browser } from './client.js';
import { harness, SECRET } from './harness.js';

const PAGES = ['/admin', '/admin/', '/admin/live', '/admin/calls', '/admin/calls/1700000000.1', '/admin/fix', '/admin/settings', '/admin/nope'];
const POSTS = ['/admin/retry', '/admin/reprocess', '/admin/logout'];

t.test('without a session: pages redirect to sign-in with no content, fragments and forms answer 401', async (t) => {
  const h = await harness(t);
  const b = h.browser();
  for (const path of PAGES) {
    const r = await b.get(path);
    t.equal(r.status, 303, `${path} redirects`);
    t.match(String(r.headers['location']), /^\/admin\/login\?next=/, `${path} → sign-in`);
    t.equal(r.text, '', `${path} shows nothing`);
  }
  for (const path of ['/admin?frag=1', '/admin/live?frag=1']) {
    const r = await b.get(path);
    t.equal(r.status, 401, `${path} is refused`);
    t.notMatch(r.text, /AMI|live-call/, 'no data in the refusal');
  }
  for (const path of POSTS) {
    const r = await b.post(path, { csrf: 'x', confirm: 'yes', step: 'run', from: '2026-11-20T00:00', to: '2026-11-20T10:00' });
    t.equal(r.status, 401, `POST ${path} is refused`);
  }
  t.same(h.retried, [], 'nothing retried');
  t.same(h.reprocessed, [], 'nothing re-processed');
  const bearer = await b.get('/admin/calls', { authorization: `Bearer ${SECRET}` });
  t.equal(bearer.status, 303, 'the API secret as a bearer token opens no page: only a session does');
  const css = await b.get('/admin/static/admin.css');
  t.equal(css.status, 200, 'the stylesheet needs no session (it holds no data)');
  t.match(String(css.headers['content-type']), /text\/css/);
  const next = await b.get('/admin/calls?status=failed');
  t.equal(next.headers['location'], '/admin/login?next=%2Fadmin%2Fcalls%3Fstatus%3Dfailed', 'the page asked for is kept for after sign-in');
});

t.test('sign-in: CSRF of the form, wrong password, success sets a strict session cookie', async (t) => {
  const h = await harness(t);
  const b = h.browser();
  const noForm = await b.post('/admin/login', { password: SECRET });
  t.equal(noForm.status, 403, 'a sign-in without the form\'s token is refused');
  t.notOk(b.jar.has('ka_admin'), 'and opens no session');
  const form = await b.get('/admin/login');
  t.equal(form.status, 200);
  t.match(form.text, /type="password"/);
  t.match(String(form.headers['content-security-policy']), /default-src 'none'/, 'a strict CSP');
  t.equal(form.headers['x-frame-options'], 'DENY');
  const forged = await b.post('/admin/login', { csrf: 'forged-token', password: SECRET });
  t.equal(forged.status, 403, 'a token that is not the cookie\'s is refused');
  const wrong = await b.post('/admin/login', { csrf: Browser.csrf(forged.text), password: 'guess' });
  t.equal(wrong.status, 401);
  t.match(wrong.text, /Wrong password/);
  t.notOk(b.jar.has('ka_admin'));
  const ok = await b.post('/admin/login', { csrf: Browser.csrf(wrong.text), password: SECRET, next: '/admin/fix' });
  t.equal(ok.status, 303);
  t.equal(ok.headers['location'], '/admin/fix', 'back to the page asked for');
  const setCookie = (ok.headers['set-cookie'] as string[]).find((c) => c.startsWith('ka_admin='));
  t.ok(setCookie, 'a session cookie');
  t.match(setCookie, /; HttpOnly/);
  t.match(setCookie, /; SameSite=Strict/);
  t.match(setCookie, /; Path=\/admin/);
  t.match(setCookie, /; Max-Age=28800/, 'expires (8 h)');
  t.notMatch(setCookie, /Secure/, 'not Secure over a plain http public_url');
  const page = await b.get('/admin/fix');
  t.equal(page.status, 200, 'the session opens the pages');
  t.notMatch(h.logs.text(), new RegExp(SECRET), 'the password is never logged');
  t.notMatch(h.logs.text(), new RegExp(b.jar.get('ka_admin') as string), 'nor the session id');
});

t.test('a next target outside the panel is ignored', async (t) => {
  const h = await harness(t);
  const b = h.browser();
  const form = await b.get('/admin/login');
  const r = await b.post('/admin/login', { csrf: Browser.csrf(form.text), password: SECRET, next: '//evil.example/admin' });
  t.equal(r.headers['location'], '/admin');
  const b2 = h.browser();
  const f2 = await b2.get('/admin/login');
  const r2 = await b2.post('/admin/login', { csrf: Browser.csrf(f2.text), password: SECRET, next: 'https://evil.example/' });
  t.equal(r2.headers['location'], '/admin');
});

t.test('wrong passwords are throttled: after 5, even the right one waits, and the wait grows', async (t) => {
  const h = await harness(t);
  const b = h.browser();
  let page = (await b.get('/admin/login')).text;
  for (let i = 0; i < 5; i++) {
    const r = await b.post('/admin/login', { csrf: Browser.csrf(page), password: `guess-${i}` });
    t.equal(r.status, 401, `wrong password ${i + 1}`);
    page = r.text;
  }
  let r = await b.post('/admin/login', { csrf: Browser.csrf(page), password: SECRET });
  t.equal(r.status, 429, 'the 6th attempt is throttled');
  t.match(r.text, /try again in 1 s/);
  t.notOk(b.jar.has('ka_admin'), 'the right password opens nothing while throttled');
  h.clock.now += 1000;
  r = await b.post('/admin/login', { csrf: Browser.csrf(r.text), password: 'guess-6' });
  t.equal(r.status, 401, 'after the wait, an attempt is checked again');
  r = await b.post('/admin/login', { csrf: Browser.csrf(r.text), password: SECRET });
  t.equal(r.status, 429, 'and the next wait is longer');
  t.match(r.text, /try again in 2 s/);
  h.clock.now += 2000;
  r = await b.post('/admin/login', { csrf: Browser.csrf(r.text), password: SECRET });
  t.equal(r.status, 303, 'the right password after the wait');
  t.match(h.logs.text(), /admin sign-in throttled/);
});

t.test('sessions expire when idle and end at sign-out', async (t) => {
  const h = await harness(t);
  const b = h.browser();
  await b.signIn(SECRET);
  t.equal((await b.get('/admin/live')).status, 200);
  h.clock.now += 29 * 60_000;
  t.equal((await b.get('/admin/live')).status, 200, 'used within 30 min: still open');
  h.clock.now += 31 * 60_000;
  t.equal((await b.get('/admin/live')).status, 303, 'idle for 31 min: signed out');
  await b.signIn(SECRET);
  const page = await b.get('/admin/live');
  const sid = b.jar.get('ka_admin') as string;
  const noCsrf = await b.post('/admin/logout', {});
  t.equal(noCsrf.status, 403, 'sign-out needs the CSRF token too');
  const out = await b.post('/admin/logout', { csrf: Browser.csrf(page.text) });
  t.equal(out.status, 303);
  const stolen = new Browser(b.port);
  stolen.jar.set('ka_admin', sid);
  t.equal((await stolen.get('/admin/live')).status, 303, 'the old cookie opens nothing');
});

t.test('every form needs the session\'s CSRF token and the same origin', async (t) => {
  const h = await harness(t);
  const b = h.browser();
  await b.signIn(SECRET);
  const page = await b.get('/admin/fix');
  const csrf = Browser.csrf(page.text);
  for (const [path, form] of [
    ['/admin/retry', { confirm: 'yes' }],
    ['/admin/reprocess', { step: 'run', from: '2026-11-20T00:00', to: '2026-11-20T10:00' }],
  ] as const) {
    t.equal((await b.post(path, { ...form })).status, 403, `${path} without a token`);
    t.equal((await b.post(path, { ...form, csrf: 'wrong' })).status, 403, `${path} with a wrong token`);
    const other = h.browser();
    await other.signIn(SECRET);
    t.equal((await other.post(path, { ...form, csrf })).status, 403, `${path} with another session's token`);
    t.equal((await b.post(path, { ...form, csrf }, { origin: 'https://evil.example' })).status, 403, `${path} from another origin`);
    t.equal((await b.send('POST', path, { headers: { 'content-type': 'application/json' } })).status, 415, `${path} not a form`);
  }
  t.same(h.retried, [], 'nothing retried');
  t.same(h.reprocessed, [], 'nothing re-processed');
  const refused = await b.post('/admin/retry', { csrf: 'wrong', confirm: 'yes' });
  t.match(String(refused.headers['content-type']), /^text\/html/, 'a refusal is a page of the panel');
  t.match(refused.text, /id="error">missing or wrong CSRF token: reload the page <small>\(HTTP_FORBIDDEN\)/);
  t.match(String(refused.headers['content-security-policy']), /default-src 'none'/);
  const ok = await b.post('/admin/retry', { csrf, confirm: 'yes' }, { origin: `http://127.0.0.1:${b.port}` });
  t.equal(ok.status, 303, 'the right token from the same origin acts');
  t.same(h.retried, [undefined]);
});

t.test('http.admin_password (scrypt) replaces the shared secret', async (t) => {
  const hash = await hashAdminPassword('correct horse battery', { N: 1024, r: 8, p: 1 });
  t.match(hash, /^scrypt\$1024\$8\$1\$/);
  t.notMatch(hash, /correct horse/);
  const h = await harness(t, { admin_password: hash });
  const b = h.browser();
  t.equal((await b.signIn(SECRET)).status, 401, 'the shared secret no longer signs in');
  t.equal((await b.signIn('correct horse battery')).status, 303, 'the admin password does');
});
