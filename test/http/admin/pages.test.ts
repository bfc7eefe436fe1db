/**
 * The admin panel's pages over real HTTP with a real journal: health, live calls,
 * journal search, one call's page, retry (one, all) with confirmation, re-process
 * with a dry-run preview, the settings check — and every value escaped (a CallerID
 * name is attacker-controlled).
 */
import t, { type Test } from 'tap';
import { makeCall } from '../../registration/helpers.js';
import { Browser } from './client.js';
import { harness, SECRET, type Harness } from './harness.js';

const XSS = '<script>alert(1)</script>';

async function seed(h: Harness): Promise<void> {
  const done = makeCall({ linkedid: '1700000000.10', client: '79991112233', legs: [{ ext: '101', answered: true }], record: 'https://pbx.example.com/recordings/tok.mp3' });
  done.channel.from.name = XSS;
  await h.store.put(done);
  await h.store.update('1700000000.10', (r) => {
    r.status = 'done';
    r.steps = { client_phone: '+79991112233', contact_id: 4242, contact_name: 'Ivan', contact_created: true, lead_id: 777, lead_created: false, call_id: 99, call_entity_type: 'contacts', call_entity_id: 4242, task_id: 0, record_link: 'https://pbx.example.com/recordings/tok.mp3' };
  });
  await h.store.put(makeCall({ linkedid: '1700000000.11', client: '79994445566', legs: [{ ext: '102', answered: false }] }));
  await h.store.update('1700000000.11', (r) => {
    r.status = 'failed';
    r.attempts = 3;
    r.last_error = { code: 'KOMMO_VALIDATION', message: 'Kommo said <no>', status: 400 };
  });
  await h.store.put(makeCall({ linkedid: '1700000000.12', client: '79990000001', legs: [{ ext: '107', answered: true, userId: null }] }), { status: 'skipped', skip_reason: 'blacklist_numbers' });
  await h.store.put(makeCall({ linkedid: '1700000000.13', client: '79997778899', legs: [{ ext: '103', answered: true }] }), { status: 'skipped', skip_reason: 'hook_need_registration' });
}

async function signedIn(t: Test): Promise<{ h: Harness; b: Browser }> {
  const h = await harness(t);
  await seed(h);
  const b = h.browser();
  await b.signIn(SECRET);
  return { h, b };
}

t.test('health: AMI, Kommo and the OAuth rotation, FastAGI answers, queue, last errors (escaped), chart', async (t) => {
  const { h, b } = await signedIn(t);
  h.agiAnswers.found = 15;
  h.agiAnswers.timeout = 3;
  const r = await b.get('/admin');
  t.equal(r.status, 200);
  t.match(r.text, /id="h-ami"><h2>AMI<\/h2><span class="ok">connected/);
  t.match(r.text, /refresh token last rotated <strong>2026-11-20 11:00:00 \(60 min ago\)/);
  t.match(r.text, /FastAGI, last 60 min.*<td>found<\/td><td>5<\/td><\/tr><tr><td>timeout<\/td><td>2<\/td>/s, 'FastAGI answers since the panel started (under an hour): the difference');
  t.notMatch(r.text, /<td>not_found<\/td>/, 'no new answer of a status: not listed');
  t.match(r.text, /Kommo &lt;b&gt;down&lt;\/b&gt;/, 'an error message is text');
  t.match(r.text, /<svg class="chart"/);
  t.match(r.text, /<title>10:00 — 4 calls<\/title>/, 'the chart counts the journal\'s calls of that hour (from its index)');
  t.match(r.text, /<title>11:00 — 0 calls<\/title>/);
  t.match(r.text, /data-poll="\/admin\?frag=1"/, 'live');
  const frag = await b.get('/admin?frag=1');
  t.equal(frag.status, 200);
  t.notMatch(frag.text, /<html/, 'the fragment is a fragment');
  t.match(frag.text, /id="q-pending">0</);
});

t.test('live calls: conversations of the calls in progress, a CallerID name shown as text', async (t) => {
  const { h, b } = await signedIn(t);
  t.match((await b.get('/admin/live?frag=1')).text, /No call in progress/);
  const call = makeCall({ linkedid: '1700000099.1', client: '79990001122', legs: [{ ext: '101', answered: true }, { ext: '102', answered: false }] });
  call.channel.from.name = XSS;
  h.live.push(call);
  const r = await b.get('/admin/live');
  t.equal(r.status, 200);
  t.match(r.text, /data-poll="\/admin\/live\?frag=1"/);
  t.match(r.text, /<strong id="live-count">1<\/strong>/);
  t.match(r.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.notMatch(r.text, /<script>alert/, 'never as markup');
  t.match(r.text, /<td>101<\/td><td> \(5001\)<\/td>/);
  t.match(r.text, /<td>102<\/td>/);
});

t.test('journal: search by number, extension, dates and status; skip reasons in words', async (t) => {
  const { b } = await signedIn(t);
  const today = await b.get('/admin/calls');
  t.match(today.text, /id="journal-count">4 call/, 'today by default (the clock says 2026-11-20, the day of the calls)');
  const all = await b.get('/admin/calls?from=2026-11-20&to=2026-11-20');
  t.match(all.text, /id="journal-count">4 call/);
  t.match(all.text, /blacklist \(numbers\)/);
  t.match(all.text, /hook 1 \(need_registration\) said no/);
  t.notMatch(all.text, /<script>alert/);
  const byNumber = await b.get('/admin/calls?from=2026-11-20&number=4445566');
  t.match(byNumber.text, /id="journal-count">1 call/);
  t.match(byNumber.text, /href="\/admin\/calls\/1700000000.11"/);
  const byExt = await b.get('/admin/calls?from=2026-11-20&ext=101');
  t.match(byExt.text, /id="journal-count">1 call/);
  t.match(byExt.text, /1700000000.10/);
  const failed = await b.get('/admin/calls?from=2026-11-20&status=failed');
  t.match(failed.text, /id="journal-count">1 call/);
  t.match(failed.text, /KOMMO_VALIDATION/);
  const registered = await b.get('/admin/calls?from=2026-11-20&status=done');
  t.match(registered.text, /id="journal-count">1 call.*badge done">registered/s);
  const otherDay = await b.get('/admin/calls?from=2026-11-21&to=2026-11-22');
  t.match(otherDay.text, /id="journal-count">0 call/);
  const bad = await b.get('/admin/calls?from=yesterday&status=%3Cx%3E');
  t.equal(bad.status, 200, 'bad input: a clear message, not an error page');
  t.match(bad.text, /from: not a date \(yesterday\)/);
  t.match(bad.text, /status: unknown \(&lt;x&gt;\)/);
});

t.test('a call\'s page: timeline, Kommo ids with links, recording player, escaped name; unknown id → 404', async (t) => {
  const { b } = await signedIn(t);
  const r = await b.get('/admin/calls/1700000000.10');
  t.equal(r.status, 200);
  t.match(r.text, /<a href="https:\/\/example.kommo.com\/contacts\/detail\/4242"[^>]*>4242<\/a> Ivan \(created\)/);
  t.match(r.text, /<a href="https:\/\/example.kommo.com\/leads\/detail\/777"[^>]*>777<\/a> \(existing\)/);
  t.match(r.text, /<audio controls preload="none" src="https:\/\/pbx.example.com\/recordings\/tok.mp3">/);
  t.match(r.text, /101 answers/);
  t.match(r.text, /<span id="caller-name">&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/span>/);
  t.notMatch(r.text, /<script>alert/);
  t.notMatch(r.text, /retry-one/, 'no retry for a registered call');
  const failed = await b.get('/admin/calls/1700000000.11');
  t.match(failed.text, /KOMMO_VALIDATION<\/span> \(HTTP 400\)<br><small>Kommo said &lt;no&gt;/);
  t.match(failed.text, /id="retry-one"/);
  t.equal((await b.get('/admin/calls/1700000000.99')).status, 404);
  t.equal((await b.get('/admin/calls/..%2Fetc')).status, 404, 'no path from input');
});

t.test('retry one: confirmation first, then queued, logged and listed', async (t) => {
  const { h, b } = await signedIn(t);
  const page = await b.get('/admin/calls/1700000000.11');
  const csrf = Browser.csrf(page.text);
  const confirm = await b.post('/admin/retry', { csrf, id: '1700000000.11' });
  t.equal(confirm.status, 200);
  t.match(confirm.text, /Queue the call 1700000000.11/);
  t.same(h.retried, [], 'nothing done before the confirmation');
  const done = await b.post('/admin/retry', { csrf, id: '1700000000.11', confirm: 'yes' });
  t.equal(done.status, 303);
  t.equal(done.headers['location'], '/admin/calls/1700000000.11?flash=retried');
  t.same(h.retried, ['1700000000.11']);
  t.equal((await h.store.get('1700000000.11'))?.status, 'pending');
  const after = await b.get('/admin/calls/1700000000.11?flash=retried');
  t.match(after.text, /queued for registration again/);
  t.match(after.text, /badge pending/);
  const fix = await b.get('/admin/fix');
  t.match(fix.text, /<td>retry<\/td><td>1 call\(s\): 1700000000.11<\/td>/);
  t.match(h.logs.text(), /"admin_action":"retry"/);
  t.equal((await b.post('/admin/retry', { csrf, id: 'nope' })).status, 404, 'an unknown id: 404');
});

t.test('retry all failed calls', async (t) => {
  const { h, b } = await signedIn(t);
  const fix = await b.get('/admin/fix');
  t.match(fix.text, /Retry all 1 failed call/);
  const csrf = Browser.csrf(fix.text);
  const confirm = await b.post('/admin/retry', { csrf });
  t.match(confirm.text, /Queue all 1 failed call/);
  const done = await b.post('/admin/retry', { csrf, confirm: 'yes' });
  t.equal(done.headers['location'], '/admin/fix?flash=retried-all');
  t.same(h.retried, [undefined]);
  t.match((await b.get('/admin/fix')).text, /id="no-failed"/);
});

t.test('re-process: a dry-run preview, then the run; bad dates refused', async (t) => {
  const { h, b } = await signedIn(t);
  const csrf = Browser.csrf((await b.get('/admin/fix')).text);
  const preview = await b.post('/admin/reprocess', { csrf, step: 'preview', from: '2026-11-20T00:00', to: '2026-11-20T10:00' });
  t.equal(preview.status, 200);
  t.match(preview.text, /Would be registered<\/th><td id="reprocess-count">2/);
  t.match(preview.text, /id="reprocess-run"/);
  t.same(h.reprocessed.map((r) => r.dryRun), [true], 'the preview is a dry run');
  t.equal(h.reprocessed[0]?.from, new Date('2026-11-20T00:00').getTime());
  const run = await b.post('/admin/reprocess', { csrf, step: 'run', from: '2026-11-20T00:00', to: '2026-11-20T10:00' });
  t.match(run.text, /Submitted<\/th><td id="reprocess-count">2/);
  t.same(h.reprocessed.map((r) => r.dryRun), [true, false]);
  t.match((await b.get('/admin/fix')).text, /<td>reprocess<\/td>/);
  const bad = await b.post('/admin/reprocess', { csrf, step: 'run', from: '2026-11-20T10:00', to: '2026-11-20T09:00' });
  t.equal(bad.status, 400);
  const bad2 = await b.post('/admin/reprocess', { csrf, step: 'run', from: 'x', to: '2026-11-20T09:00' });
  t.equal(bad2.status, 400);
  t.equal(h.reprocessed.length, 2, 'bad dates run nothing');
});

t.test('settings check: deactivated and missing users, unmapped extensions that rang, hooks, config without secrets', async (t) => {
  const { h, b } = await signedIn(t);
  await h.store.put(makeCall({ linkedid: '1700000050.1', client: '79991234567', legs: [{ ext: '109', answered: false, userId: null }] }));
  const r = await b.get('/admin/settings');
  t.equal(r.status, 200);
  t.match(r.text, /<td>102<\/td><td>5002<\/td><td>Boris<\/td><td><span class="bad">deactivated/);
  t.match(r.text, /<td>103<\/td><td>5003<\/td><td><\/td><td><span class="bad">no such Kommo user/);
  t.match(r.text, /<td>101<\/td><td>5001<\/td><td>Anna<\/td><td><span class="ok">active/);
  t.match(r.text, /id="unmapped"><tr><th>Extension<\/th><th>Calls<\/th><\/tr>(<tr><td>10[79]<\/td><td>1<\/td><\/tr>){2}/);
  t.match(r.text, /<td>need_registration<\/td><td><span class="ok">on<\/span><\/td><td><span class="bad">HOOK_TIMEOUT/);
  t.notMatch(r.text, new RegExp(SECRET));
  t.notMatch(r.text, /ami-password-xyz|eyJ-long-lived-token/);
  t.match(r.text, /\[redacted\]/);
});

t.test('settings check with Kommo unreachable: says so, shows the rest', async (t) => {
  const h = await harness(t, { users: async () => { throw new Error('Kommo is not reachable'); } });
  const b = h.browser();
  await b.signIn(SECRET);
  const r = await b.get('/admin/settings');
  t.equal(r.status, 200);
  t.match(r.text, /Kommo's users could not be read: Kommo is not reachable/);
  t.match(r.text, /<span class="warn">unknown/);
});
