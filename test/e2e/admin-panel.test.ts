// The admin panel end to end in a real browser (Debian's chromium driven by
// puppeteer-core), against the real Asterisk, real SIPp calls, the strict Kommo
// simulator and the product's own HTTP server (bin/compose.ts startHttp):
// sign in, watch a call appear under live calls and then in the journal as
// registered; make Kommo refuse one call, see it under failed, retry it from the
// panel, see it registered once; re-process the last hour from Asterisk's CDR (a
// dry-run preview, then a run that journals the one call hook 1 had kept out). The
// back button and a phone-sized screen work.
// With KA_SCREENSHOTS=<dir> the main pages are saved as PNGs (README's images).
// The page.evaluate callbacks run in the browser: they use the DOM types (document, window, HTMLElement).
/// <reference lib="dom" />
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { startHttp } from '../../bin/compose.js';
import type { HttpServer } from '../../lib/adapters/http/index.js';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { freeTcpPort } from '../../rig/sandbox/ports.js';
import { callsFor, placeCall, startRig, waitFor, waitRegistered, type Rig } from '../bridge/e2e-rig.js';

const CHROMIUM = process.env.KA_CHROMIUM ?? '/usr/bin/chromium';
const SECRET = 'panel-e2e-secret-0123456789';
const SHOTS = process.env.KA_SCREENSHOTS;

const problem = asteriskRootProblem() ?? (existsSync(CHROMIUM) ? null : `no browser at ${CHROMIUM} (apt-get install chromium)`);
if (problem) {
  t.fail(`admin panel e2e cannot run: ${problem}`);
} else {
  let rig: Rig;
  let http: HttpServer | undefined;
  let browser: Browser;
  let page: Page;
  let base = '';
  let profile = '';

  t.before(async () => {
    const port = await freeTcpPort();
    profile = await mkdtemp(path.join(tmpdir(), 'ka-chromium-'));
    // reprocess.source: a link, made once Asterisk's directory is known, to the CDR file it writes.
    const cdrLink = path.join(profile, 'kommo-cdr.csv');
    rig = await startRig({ config: { http: { enabled: true, host: '127.0.0.1', port, public_url: `http://127.0.0.1:${port}`, secret: SECRET }, reprocess: { source: cdrLink } } });
    mkdirSync(path.join(rig.ast.hostDir, 'log', 'cdr-custom'), { recursive: true });
    copyFileSync(path.join('dialplan', 'cdr_custom.conf.sample'), path.join(rig.ast.hostDir, 'etc', 'cdr_custom.conf'));
    await rig.ast.cli('module load cdr_custom.so');
    symlinkSync(path.join(rig.ast.hostDir, 'log', 'cdr-custom', 'kommo-cdr.csv'), cdrLink);
    http = await startHttp(rig.core!, { bridge: rig.bridge!, startedAt: new Date() });
    base = `http://127.0.0.1:${port}`;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: path.join(profile, 'chromium'),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    if (SHOTS) await mkdir(SHOTS, { recursive: true });
  });
  t.teardown(async () => {
    await browser?.close().catch(() => undefined);
    await http?.close();
    await rig?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  const shot = async (name: string): Promise<void> => {
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `admin-${name}.png`), fullPage: true });
  };
  const text = (selector: string): Promise<string> => page.$eval(selector, (el) => (el as HTMLElement).innerText);
  /** Reload `url` until `probe` says yes (the journal is not live; the admin reloads it too). */
  const reloadUntil = async (what: string, url: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
    await waitFor(what, async () => {
      await page.goto(url);
      return probe();
    }, timeoutMs, 500);
  };

  t.test('no session: the panel shows the sign-in form, a wrong password is refused', async (t) => {
    const r = await page.goto(`${base}/admin/calls`);
    t.equal(new URL(page.url()).pathname, '/admin/login', 'redirected to the sign-in form');
    t.equal(r?.status(), 200);
    await page.type('input[name=password]', 'not the password');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    t.match(await text('main'), /Wrong password/);
    await shot('login');
  });

  t.test('sign in, watch a real call under live calls, then in the journal as registered', async (t) => {
    await page.type('input[name=password]', SECRET);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    t.equal(new URL(page.url()).pathname, '/admin/calls', 'back to the page asked for');
    const cookies = await browser.cookies();
    const session = cookies.find((c) => c.name === 'ka_admin');
    t.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    t.equal(session?.sameSite, 'Strict');
    t.equal(await page.evaluate(() => document.cookie.includes('ka_admin')), false, 'and invisible to scripts');

    await page.goto(`${base}/admin`);
    await page.waitForSelector('#h-ami .ok');
    t.match(await text('#h-ami'), /connected/, 'health: AMI connected');
    t.match(await text('#h-kommo'), /reachable/, 'health: Kommo reachable');
    await shot('health');

    const phone = '79995553001';
    const name = '<script>window.__pwned=1</script>';
    await page.goto(`${base}/admin/live`);
    const call = placeCall(rig, { from: 'trunk', service: '201', caller: phone, callerName: name, durationMs: 8000, uas: [{ at: '101', scenario: 'uas-answer', durationMs: 1500 }] });
    await page.waitForSelector('section.live-call', { timeout: 15_000 }).catch(async (err: unknown) => {
      t.comment(`live page: ${(await page.content()).slice(0, 3000)}`);
      throw err;
    });
    await page.waitForFunction(() => /talking/.test(document.querySelector('section.live-call')?.textContent ?? ''), { timeout: 15_000 }).catch(async (err: unknown) => {
      t.comment(`live page: ${await text('#live')}`);
      const p = await call;
      t.comment(`sipp: ${p.caller.code} ${p.caller.stderr.slice(-800)}`);
      throw err;
    });
    const live = await text('#live');
    t.match(live, /79995553001/, 'the call is live, with the client number');
    t.match(live, /101/, 'and the extension that talks');
    t.match(live, /<script>window.__pwned=1<\/script>/, 'the CallerID name is shown as text');
    t.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'and never runs');
    await shot('live');
    const placed = await call;
    t.equal(placed.caller.code, 0, 'SIPp placed the call');
    await page.waitForSelector('#live-empty', { timeout: 15_000 });
    t.pass('the call left the live view when it ended');
    await waitRegistered(rig, phone);

    await page.goto(`${base}/admin/calls?number=${phone}`);
    t.match(await text('#journal-count'), /^1 call/);
    t.match(await text('#journal'), /registered/);
    await Promise.all([page.waitForNavigation(), page.click('#journal a')]);
    t.match(await text('#kommo-result'), /Contact\s+\d+/, 'the call page shows the contact');
    t.ok(await page.$('#kommo-result a[href*="/contacts/detail/"]'), 'with a link to it in Kommo');
    t.match(await text('#caller-name'), /<script>/, 'the name is text on the call page too');
    await shot('call');
    await page.goBack();
    t.equal(new URL(page.url()).search, `?number=${phone}`, 'the back button returns to the search');
    t.match(await text('#journal-count'), /^1 call/);
  });

  t.test('Kommo refuses one call: it is failed; retried from the panel, it is registered once', async (t) => {
    const phone = '79995553002';
    // The contact search, not whatever comes first (the popup's POST /api/v2/events does now).
    rig.sim.faults.fail(1, 400, 'GET /api/v4/contacts');
    const placed = await placeCall(rig, { from: 'trunk', service: '201', caller: phone, durationMs: 1000, uas: [{ at: '101', scenario: 'uas-answer', durationMs: 500 }] });
    t.equal(placed.caller.code, 0);
    await waitFor('the call failed', () => rig.bridge!.registrar.stats().failed === 1, 30_000);
    t.equal(callsFor(rig.sim, phone).length, 0, 'nothing registered');

    await reloadUntil('the failed call in the journal', `${base}/admin/calls?status=failed`, async () => /^1 call/.test(await text('#journal-count')));
    t.match(await text('#journal'), /79995553002/);
    await page.goto(`${base}/admin`);
    t.match(await text('#q-failed'), /^1$/, 'health counts it');
    await page.goto(`${base}/admin/calls?status=failed`);
    await shot('journal-failed');
    await Promise.all([page.waitForNavigation(), page.click('#journal a')]);
    t.match(await text('#last-error'), /400/, 'the call page shows the last error');
    await Promise.all([page.waitForNavigation(), page.click('#retry-one')]);
    t.match(await text('main'), /Queue the call/, 'a confirmation first');
    await shot('retry-confirm');
    await Promise.all([page.waitForNavigation(), page.click('#confirm')]);
    t.match(await text('main'), /queued for registration again/);
    await waitRegistered(rig, phone);
    const callPage = page.url().split('?')[0] as string;
    await reloadUntil('the call registered', callPage, async () => /registered/.test(await text('main')));
    t.equal(callsFor(rig.sim, phone).length, 1, 'registered once in Kommo');
    await page.goto(`${base}/admin/fix`);
    t.match(await text('#actions'), /retry\s+1 call\(s\)/, 'the action is listed');
    t.ok(await page.$('#no-failed'), 'no failed call left');
  });

  t.test('re-process the last hour from the CDR: the dry-run preview finds the two calls, both already in the journal', async (t) => {
    await page.goto(`${base}/admin`);
    t.match(await text('#h-queue'), /pending 0, failed 0/, 'health after the retry: nothing pending or failed');
    await shot('health');
    await page.goto(`${base}/admin/fix`);
    const local = (ms: number): string => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.$eval('input[name=from]', (el, v) => ((el as HTMLInputElement).value = v), local(Date.now() - 3600_000));
    await page.$eval('input[name=to]', (el, v) => ((el as HTMLInputElement).value = v), local(Date.now() + 120_000));
    await Promise.all([page.waitForNavigation(), page.click('#reprocess-preview')]);
    await shot('reprocess-preview');
    const summary = await text('#reprocess-summary');
    t.match(summary, /Calls in the period\s+2/, 'Asterisk\'s CDR has the two calls');
    t.match(summary, /Already in the journal\s+2 registered/, 'both registered already');
    t.match(summary, /Would be registered\s+0/, 'nothing would be sent again');
    t.equal(await page.$('#reprocess-run'), null, 'so there is nothing to confirm');
    await page.goto(`${base}/admin/fix`);
    t.match(await text('#actions'), /reprocess-preview/, 'the preview is logged as an action');
    await shot('fix');
  });

  t.test('a call hook 1 kept out of the journal: re-processed from the panel, it is journalled as skipped by hook 1', async (t) => {
    const phone = '79995553003';
    const hook = path.join(rig.config.customizations.dir, 'need_registration.mjs');
    writeFileSync(hook, `export default ({ call_full }) => ({ state: 'success', data: { result: !JSON.stringify(call_full).includes('${phone}') } });\n`);
    t.teardown(() => rmSync(hook, { force: true }));
    await waitFor('hook 1 active', () => rig.core!.hooks.scan().then((active) => active.includes('need_registration')), 10_000);
    const submittedBefore = rig.bridge!.bridge.stats().submitted_total;
    const placed = await placeCall(rig, { from: 'trunk', service: '201', caller: phone, durationMs: 1000, uas: [{ at: '101', scenario: 'uas-answer', durationMs: 300 }] });
    t.equal(placed.caller.code, 0);
    await waitFor('the bridge done with the call', () => rig.bridge!.bridge.stats().pending_calls === 0 && rig.bridge!.bridge.stats().rejected_total > 0, 15_000);
    t.equal(rig.bridge!.bridge.stats().submitted_total, submittedBefore, 'hook 1 said no: the call is not in the journal');
    await page.goto(`${base}/admin/calls?number=${phone}`);
    t.match(await text('#journal-count'), /^0 call/);

    await page.goto(`${base}/admin/fix`);
    const local = (ms: number): string => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.$eval('input[name=from]', (el, v) => ((el as HTMLInputElement).value = v), local(Date.now() - 3600_000));
    await page.$eval('input[name=to]', (el, v) => ((el as HTMLInputElement).value = v), local(Date.now() + 120_000));
    await waitFor('the CDR line of the call', async () => {
      await Promise.all([page.waitForNavigation(), page.click('#reprocess-preview')]);
      if (/Would be registered\s+1/.test(await text('#reprocess-summary'))) return true;
      await page.goBack();
      return false;
    }, 15_000, 500);
    t.match(await text('#reprocess-summary'), /Calls in the period\s+3/, 'the CDR has three calls now');
    await Promise.all([page.waitForNavigation(), page.click('#reprocess-run')]);
    t.match(await text('#reprocess-summary'), /Submitted\s+1/, 'the run submits the one call the journal lacked');
    await reloadUntil('the call journalled', `${base}/admin/calls?number=${phone}`, async () => /skipped/.test(await text('#journal')));
    t.match(await text('#journal'), /hook 1 \(need_registration\) said no/, 'skipped, and why');
    t.equal(callsFor(rig.sim, phone).length, 0, 'nothing sent to Kommo');
  });

  t.test('a phone-sized screen: no sideways scrolling of the page, the nav wraps', async (t) => {
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    for (const p of ['/admin', '/admin/calls', '/admin/fix', '/admin/settings']) {
      await page.goto(`${base}${p}`);
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      t.ok(over <= 1, `${p}: the page fits the width (${over} px over)`);
    }
    await page.goto(`${base}/admin/calls?from=2000-01-01&to=2100-01-01`);
    await shot('journal-phone');
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(`${base}/admin/settings`);
    t.match(await text('#ext-map'), /101/);
    t.notMatch(await page.content(), new RegExp(SECRET), 'no secret on the settings page');
    await shot('settings');
  });
}
