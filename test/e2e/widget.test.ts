/**
 * The Kommo widget end to end, with real parts only: Debian's Chromium (puppeteer-core)
 * opens the stand-in host page (test/widget/host: the few Kommo SDK calls script.js
 * uses), the user types the connector URL into the widget's settings and clicks a phone
 * number; the real widget/script.js sends the click-to-call with an X-Auth-Token minted
 * as Kommo mints it; the real connector (`kommo-asterisk start`, a child process)
 * verifies it and originates through a real Asterisk 22, where SIPp phone 101 rings and
 * then the client is dialled on the trunk; the call ends up registered in the Kommo
 * simulator. A second user without an extension gets the connector's refusal, shown as
 * a clear message. With KA_WRITE_DOCS=1 the test writes the README's screenshots
 * (docs/images/widget-settings.png, docs/images/widget-click.png).
 */
import t from 'tap';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { freeTcpPort } from '../../rig/sandbox/ports.js';
import { packageRoot } from '../../rig/sandbox/repo.js';
import { sipp } from '../../rig/sandbox/sipp.js';
import { callsFor, cliProblem, sleep, spawnBridge, startRig, U, waitFor } from '../bridge/e2e-rig.js';
import { launchChromium, startWidgetHost } from '../widget/host.js';

const problem = asteriskRootProblem() ?? cliProblem();
const WIDGET_SECRET = 'kommo-integration-secret-key-e2e-0123456789';
const HTTP_SECRET = 'widget-e2e-http-secret-0123456789';
const ACCOUNT = 31234567;
const CLIENT = '79995554433'; // the card's "+7 999 555-44-33"
const UNMAPPED_USER = 5999;
const DOCS = process.env.KA_WRITE_DOCS === '1' ? path.join(packageRoot(), 'docs', 'images') : undefined;

interface Shown { kind: string; header: string; text: string }

if (problem) {
  // npm test builds the root and the CLI first: a missing one is a failure, never a skip.
  t.fail(problem);
} else {
  t.test('a click in the widget rings extension 101 through the real connector and Asterisk', { timeout: 240_000 }, async (t) => {
    const chromium = await launchChromium(); // fails when /usr/bin/chromium is missing
    t.teardown(chromium.close);
    const host = await startWidgetHost({ secret: WIDGET_SECRET, accountId: ACCOUNT });
    t.teardown(() => host.close());

    const agiPort = await freeTcpPort();
    const httpPort = await freeTcpPort();
    const connectorUrl = `http://127.0.0.1:${httpPort}`;
    const rig = await startRig({
      inProcess: false,
      asterisk: { globals: { KOMMO_AGI_HOST: '127.0.0.1', KOMMO_AGI_PORT: String(agiPort), KOMMO_RECORD: 'no' } },
      config: {
        agi: { host: '127.0.0.1', port: agiPort },
        http: {
          enabled: true, host: '127.0.0.1', port: httpPort, public_url: connectorUrl, secret: HTTP_SECRET,
          widget_secret: WIDGET_SECRET, account_id: ACCOUNT, cors_origins: [host.origin],
        },
      },
    });
    const child = spawnBridge(rig.configPath, 'start');
    t.teardown(async () => {
      if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
      await rig.close();
    });
    await Promise.race([child.ready, sleep(20_000).then(() => Promise.reject(new Error(`start not ready:\n${child.output().slice(-3000)}`)))]);
    await waitFor('the HTTP server', async () => (await fetch(`${connectorUrl}/api/v1/status`, { headers: { authorization: `Bearer ${HTTP_SECRET}` } }).catch(() => undefined))?.ok, 10_000, 200);
    const logLines = (msg: string): Array<Record<string, unknown>> =>
      child.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

    const { browser } = chromium;
    const open = async (user: number): Promise<Page> => {
      const page = await browser.newPage();
      t.teardown(() => page.close().catch(() => undefined));
      await page.setViewport({ width: 980, height: 560 });
      await page.goto(host.pageUrl({ user, lang: 'en' }));
      await page.waitForFunction('window.__ready === true || window.__loadError !== undefined', { timeout: 10_000 });
      t.equal(await page.evaluate('window.__loadError'), undefined, 'the widget loaded');
      return page;
    };
    // The administrator's step: the widget's settings, as Kommo shows them from manifest.json.
    const configure = async (page: Page, shot?: string): Promise<void> => {
      await page.click('#open-settings');
      await page.type('input[name="connector_url"]', connectorUrl);
      if (shot) {
        await page.setViewport({ width: 980, height: 640 });
        await page.screenshot({ path: shot });
        await page.setViewport({ width: 980, height: 560 });
      }
      await page.click('#save-settings');
    };
    const notifications = async (page: Page, count: number): Promise<Shown[]> => {
      await page.waitForFunction(`window.__notifications.length >= ${count}`, { timeout: 30_000 });
      return (await page.evaluate('window.__notifications')) as Shown[];
    };
    if (DOCS) mkdirSync(DOCS, { recursive: true });

    await t.test('Ivan (user 5001, extension 101) clicks the client\'s number', async (t) => {
      const phone = await sipp({ scenario: 'uas-answer-bye', localIp: rig.ast.phones['101']!, localPort: rig.ast.phonePort, durationMs: 300, timeoutMs: 40_000 });
      const trunk = await sipp({ scenario: 'uas-answer', localIp: rig.ast.trunkIp, localPort: rig.ast.trunkPort, durationMs: 200, timeoutMs: 40_000 });
      const page = await open(U.ivan);
      await configure(page, DOCS && path.join(DOCS, 'widget-settings.png'));
      await page.click('#phone-work');
      const shown = await notifications(page, 1);
      t.same(shown.map((s) => s.kind), ['info'], 'one notification, not an error');
      t.equal(shown[0]!.text, `Calling ${CLIENT}: your phone 101 rings first, pick it up.`, '"calling…" through APP.notifications');
      if (DOCS) await page.screenshot({ path: path.join(DOCS, 'widget-click.png') });

      const requested = logLines('click-to-call requested');
      t.match(requested, [{ userId: U.ivan, phone: '+7 999 555-44-33', auth: 'widget' }], 'the connector took the call from the widget token');
      const [emp, cli] = await Promise.all([phone.done, trunk.done]);
      const empInvite = emp.received.find((m) => m.method === 'INVITE');
      t.ok(empInvite, 'SIPp phone 101 received an INVITE: the real Asterisk rang it');
      t.match(empInvite?.startLine ?? '', /^INVITE sip:101@/);
      t.match(cli.received.find((m) => m.method === 'INVITE')?.startLine ?? '', new RegExp(`^INVITE sip:${CLIENT}@`), 'then the client was dialled on the trunk');
      t.equal(emp.code, 0, `phone SIPp ok: ${emp.stderr.slice(-300)}`);

      await waitFor('the call record in Kommo', () => callsFor(rig.sim, CLIENT).length >= 1, 40_000);
      t.match(callsFor(rig.sim, CLIENT)[0]?.body, { direction: 'outbound', responsible_user_id: U.ivan }, 'registered as Ivan\'s outbound call');
    });

    await t.test('a user with no extension: the connector refuses (422) and the widget says why', async (t) => {
      const page = await open(UNMAPPED_USER);
      await configure(page);
      await page.click('#phone-work');
      const shown = await notifications(page, 1);
      t.equal(shown[0]?.kind, 'error', 'an error notification (show_message_error), not alert()');
      t.equal(shown[0]?.text, 'Your Kommo user has no phone extension in the connector (pbx.extensions). Ask your PBX administrator.');
      t.match(logLines('click-to-call not placed'), [{ userId: UNMAPPED_USER, code: 'ORIGINATE_UNKNOWN_USER', status: 422 }]);
      t.match(await rig.ast.cli('core show channels count'), /^0 active channels?/m, 'nothing rang');
    });

    child.proc.kill('SIGTERM');
    t.equal(await child.exited, 0, 'the connector stops cleanly');
  });
}
