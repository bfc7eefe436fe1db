/**
 * The panel's views as pure functions: every state they render (AMI down, Kommo
 * refusing the token, OAuth never rotated, parked and ringing conversations, pending,
 * skipped and in-flight records) and what they refuse to render (a `javascript:`
 * recording link, an unknown skip reason as markup).
 */
import t from 'tap';
import { esc, html, query, safeUrl } from '../../../lib/adapters/http/admin/html.js';
import { healthFragment, chart } from '../../../lib/adapters/http/admin/views/health.js';
import { liveFragment } from '../../../lib/adapters/http/admin/views/live.js';
import { callPage } from '../../../lib/adapters/http/admin/views/call.js';
import { ago, skipReason } from '../../../lib/adapters/http/admin/views/format.js';
import { AgiWindow, perHour, unmappedToday } from '../../../lib/adapters/http/admin/pages.js';
import { createLoginThrottle } from '../../../lib/adapters/http/admin/throttle.js';
import { createSessionStore } from '../../../lib/adapters/http/admin/session.js';
import { newRecord, makeCall } from '../../registration/helpers.js';
import { snapshot } from '../fixtures/helpers.js';

const NOW = Date.parse('2026-11-20T12:00:00');

t.test('html: values escaped, arrays joined, nothing for null/false; only http(s) and local URLs', async (t) => {
  t.equal(html`<p>${'<b>&"\'`'}</p>`.text, '<p>&lt;b&gt;&amp;&quot;&#39;&#96;</p>');
  t.equal(html`${[1, '<', html`<i>ok</i>`]}${null}${undefined}${false}`.text, '1&lt;<i>ok</i>');
  t.equal(esc(undefined), '');
  t.equal(safeUrl('javascript:alert(1)'), undefined);
  t.equal(safeUrl('data:text/html,x'), undefined);
  t.equal(safeUrl('//evil.example/x'), undefined);
  t.equal(safeUrl('not a url'), undefined);
  t.equal(safeUrl(42), undefined);
  t.equal(safeUrl('/recordings/abc'), '/recordings/abc');
  t.equal(safeUrl('https://pbx.example.com/r/1.mp3'), 'https://pbx.example.com/r/1.mp3');
  t.equal(query({ a: 'x y', b: undefined, c: '' }), '?a=x+y');
  t.equal(query({}), '');
});

t.test('health: the bad states in words', async (t) => {
  const down = healthFragment({
    snapshot: snapshot({ ami: { connected: false, since: '2026-11-20T11:00:00Z' }, kommo: { reachable: false, authorized: false, rate_used: 0.95, requests_total: 5, rate_limited_total: 2 }, registration: { pending: 1200, failed: 3, registered_total: 1, failed_total: 3 } }),
    token: { kind: 'oauth', problem: 'KOMMO_TOKEN_STORE' },
    agiLastHour: {},
    agiWindowMs: 3600_000,
    now: NOW,
  }).text;
  t.match(down, /class="bad"><strong>Error<\/strong>: AMI is not connected; Kommo is not reachable; Kommo refuses the token; 1200 calls are waiting/);
  t.match(down, /not connected<\/span> since/);
  t.match(down, /token refused/);
  t.match(down, /last rotated <strong>never<\/strong>/);
  t.match(down, /KOMMO_TOKEN_STORE/);
  t.match(down, /no answers/);
  t.match(down, /see the failed calls/);
  t.match(down, /<p>none<\/p>/, 'no last error');
  const warn = healthFragment({ snapshot: snapshot({ registration: { pending: 60, failed: 0, registered_total: 1, failed_total: 0 } }), token: { kind: 'long-lived' }, agiLastHour: { found: 1 }, agiWindowMs: 600_000, now: NOW }).text;
  t.match(warn, /class="warn"><strong>Warning/);
  t.match(warn, /FastAGI, last 10 min/);
  t.match(warn, /long-lived token/);
  const svg = chart(perHour([NOW - 30 * 60_000, NOW - 30 * 60_000, NOW - 25 * 3600_000, NOW + 3600_000], NOW)).text;
  t.match(svg, /<title>11:00 — 2 calls<\/title>/);
  t.match(svg, /aria-label="calls per hour, max 2"/, 'calls outside the 24 h are not counted');
});

t.test('FastAGI over the last hour: the difference to the newest sample an hour old', async (t) => {
  const w = new AgiWindow(3600_000);
  t.same(w.lastWindow(0, { found: 3 }), { answers: { found: 3 }, spanMs: 3600_000 }, 'no sample: everything since start');
  w.sample(0, { found: 10 });
  w.sample(30 * 60_000, { found: 20, timeout: 1 });
  w.sample(70 * 60_000, { found: 25, timeout: 1 });
  t.same(w.lastWindow(75 * 60_000, { found: 30, timeout: 1 }), { answers: { found: 20, timeout: 1 }, spanMs: 3600_000 }, 'from the newest sample at least an hour old (the one at 0; samples are a minute apart in use)');
  w.sample(95 * 60_000, { found: 31, timeout: 1 });
  t.same(w.lastWindow(96 * 60_000, { found: 32, timeout: 1 }), { answers: { found: 12 }, spanMs: 3600_000 }, 'the sample at 30 min is the baseline now');
});

t.test('live: ringing, talking, parked; a call with no conversation yet', async (t) => {
  const call = makeCall({ linkedid: '1.1', legs: [{ ext: '101', answered: true }, { ext: '102', answered: false }] });
  const convs = Object.values(call.conversations);
  convs[0]!.channel.state = 'talking';
  convs[1]!.channel.state = 'ringing';
  convs[1]!.is_parked = true;
  call.active_conversation_id = Object.keys(call.conversations)[0]!;
  const out = liveFragment([call, { ...makeCall({ linkedid: '1.2', legs: [] }) }]).text;
  t.match(out, /<strong id="live-count">2<\/strong>/);
  t.match(out, /<tr class="active"><td>101/);
  t.match(out, /state-talking/);
  t.match(out, /state-parked/);
  t.match(out, /no conversation yet/);
  t.match(out, /via trunk1/);
});

t.test('a call page: pending, skipped and unusual states; a javascript: recording link is not rendered', async (t) => {
  const rec = newRecord(makeCall({ linkedid: '2.1', record: 'javascript:alert(1)' }));
  rec.status = 'pending';
  rec.next_attempt_at = NOW;
  rec.steps = { company_id: 7, company_name: 'ACME <x>', unsorted_uid: 'u-1', intents: { contact: 'req-1' }, lead_id: 9, lead_created: true, call_id: 3 };
  const page = callPage(rec, 'https://example.kommo.com', 'tok').text;
  t.match(page, /badge pending/);
  t.match(page, /next 2026-11-20 12:00:00/);
  t.notMatch(page, /javascript:/);
  t.match(page, /<h2>Recording<\/h2><p>none<\/p>/);
  t.match(page, /companies\/detail\/7"[^>]*>7<\/a> ACME &lt;x&gt;/);
  t.match(page, /leads\/detail\/9"[^>]*>9<\/a> \(created\)/);
  t.match(page, /<td>u-1<\/td>/);
  t.match(page, /<td>contact<\/td>/, 'a create whose outcome is unknown');
  t.match(page, /<th>Call record \(note id\)<\/th><td>3<\/td>/);
  const skipped = newRecord(makeCall({ linkedid: '2.2' }));
  skipped.status = 'skipped';
  skipped.skip_reason = 'blacklist_<b>';
  t.match(callPage(skipped, 'https://example.kommo.com', 'tok').text, /<strong>blacklist \(&lt;b&gt;\)<\/strong>/);
  t.equal(skipReason('internal'), 'internal call');
  t.equal(skipReason('something_new'), 'something_new');
  t.equal(skipReason(undefined), '');
});

t.test('ago and unmapped extensions', async (t) => {
  t.equal(ago(undefined, NOW), '—');
  t.equal(ago(NOW - 30_000, NOW), '30 s ago');
  t.equal(ago(NOW - 10 * 60_000, NOW), '10 min ago');
  t.equal(ago(NOW - 5 * 3600_000, NOW), '5 h ago');
  t.equal(ago(NOW - 3 * 86_400_000, NOW), '3 days ago');
  const recs = [makeCall({ legs: [{ ext: '109', userId: null }, { ext: '109', userId: null }] }), makeCall({ legs: [{ ext: '101' }, { ext: '5551234567', userId: null }] })].map(newRecord);
  t.same(unmappedToday(recs, { '101': 5001 }, (s) => /^\d{2,5}$/.test(s)), [{ ext: '109', calls: 1 }], 'counted once per call; a client number is no extension');
});

t.test('throttle: a distributed guess makes everyone wait; old failures are forgotten', async (t) => {
  let now = 0;
  const th = createLoginThrottle({ now: () => now, globalLimit: 3, freeAttempts: 5, maxEntries: 2 });
  th.failed('a');
  th.failed('b');
  t.equal(th.waitMs('c'), 0);
  th.failed('c');
  t.equal(th.waitMs('d'), 1000, 'three failures from three addresses: a fourth address waits too');
  now = 16 * 60_000;
  t.equal(th.waitMs('d'), 0, 'outside the window: no wait');
  const own = createLoginThrottle({ now: () => now });
  for (let i = 0; i < 5; i++) own.failed('e');
  t.equal(own.waitMs('e'), 1000);
  now += 16 * 60_000;
  own.failed('e');
  t.equal(own.waitMs('e'), 0, 'a failure after a quiet window starts the count again');
});

t.test('sessions: absolute expiry, a bounded number, malformed ids', async (t) => {
  let now = 0;
  const s = createSessionStore({ now: () => now, idleMs: 10_000, maxAgeMs: 30_000, maxSessions: 2 });
  const a = s.create('x');
  for (let i = 0; i < 3; i++) {
    now += 9_000;
    t.ok(s.get(a.id), `used every 9 s: open at ${now / 1000} s`);
  }
  now += 4_000;
  t.equal(s.get(a.id), undefined, 'past the maximum age, even when used');
  const b = s.create('x');
  s.create('y');
  s.create('z');
  t.equal(s.size(), 2);
  t.equal(s.get(b.id), undefined, 'the oldest dropped beyond maxSessions');
  t.equal(s.get('short'), undefined);
  t.equal(s.get(undefined), undefined);
  s.destroy(undefined);
});
