// The real widget/script.js in a real Chromium, on the stand-in host page, against the
// connector's real HTTP server (lib/adapters/http: JWT verification, CORS, error codes)
// with a fake originate service behind it — the component tier. What the widget shows
// for each answer, in several languages; that nothing it shows is markup; that it never
// calls without a connector URL. test/e2e/widget.test.ts runs the same widget against
// the whole connector, a real Asterisk and SIPp phones.
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { pino } from 'pino';
import { createHttpServer } from '../../lib/adapters/http/server.js';
import { originMatchers } from '../../lib/adapters/http/cors.js';
import type { ClickToCallRequest, ClickToCallResult } from '../../lib/adapters/http/click-to-call.js';
import { freeTcpPort } from '../../rig/sandbox/ports.js';
import { launchChromium, startWidgetHost, type WidgetHost } from './host.js';
import { defaults } from '../../lib/platform/config/defaults.js';

const SECRET = 'integration-secret-key-0123456789abcdef';
const ACCOUNT = 31234567;
const IVAN = 5001;

interface Shown { kind: string; header: string; text: string }

const { browser, close } = await launchChromium();
t.teardown(close);
const host = await startWidgetHost({ secret: SECRET, accountId: ACCOUNT });
t.teardown(() => host.close());

const calls: ClickToCallRequest[] = [];
let answer: ClickToCallResult = { placed: true };
let delayMs = 0;
async function connector(opts: { widgetSecret?: string; origins?: string[] } = {}) {
  const server = createHttpServer({
    config: {
      ...defaults.http,
      enabled: true, host: '127.0.0.1', port: 0, public_url: 'http://127.0.0.1', secret: 'connector-own-secret-0123456789',
      widget_secret: opts.widgetSecret ?? SECRET, account_id: ACCOUNT, max_body_bytes: 4096,
    },
    logger: pino({ level: 'silent' }),
    corsOrigins: originMatchers(opts.origins ?? [host.origin]),
    clickToCall: async (r) => {
      calls.push(r);
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      return answer;
    },
  });
  const { port } = await server.listen();
  t.teardown(() => server.destroy());
  return `http://127.0.0.1:${port}`;
}
const url = await connector();

async function open(h: WidgetHost, q: { user: number; lang?: string; connectorUrl?: string }): Promise<Page> {
  const page = await browser.newPage();
  t.teardown(() => page.close().catch(() => undefined));
  await page.goto(h.pageUrl(q));
  await page.waitForFunction('window.__ready === true || window.__loadError !== undefined', { timeout: 10_000 });
  const loadError = await page.evaluate('window.__loadError');
  if (loadError) throw new Error(`the widget did not load: ${String(loadError)}`);
  return page;
}

async function clickAndWait(page: Page, selector: string, count = 1): Promise<Shown[]> {
  await page.click(selector);
  await page.waitForFunction(`window.__notifications.length >= ${count}`, { timeout: 15_000 });
  return (await page.evaluate('window.__notifications')) as Shown[];
}

t.test('a placed call: "calling" with the number and the extension; the user comes from the token', async (t) => {
  calls.length = 0;
  answer = { placed: true, state: 'queued', actionId: 'a1', channelId: 'c1', extension: '101', userId: IVAN, number: '79995554433' };
  const page = await open(host, { user: IVAN, connectorUrl: url });
  const shown = await clickAndWait(page, '#phone-work');
  t.same(shown.map((s) => s.kind), ['info']);
  t.equal(shown[0]!.header, 'Asterisk click-to-call');
  t.equal(shown[0]!.text, 'Calling 79995554433: your phone 101 rings first, pick it up.');
  t.equal(calls.length, 1);
  t.equal(calls[0]!.userId, IVAN, 'the connector took the user from the verified token');
  t.equal(calls[0]!.phone, '+7 999 555-44-33', 'the clicked number as shown in the card');
  t.same(calls[0]!.requestData, { phone: '+7 999 555-44-33' }, 'the body holds the number only');
  const requests = (await page.evaluate('window.__requests')) as Array<{ url: string; method: string; token: boolean; status: number }>;
  t.match(requests, [{ url: `${url}/api/v1/click-to-call`, method: 'POST', token: true, status: 200 }]);
  t.match(host.tokens.at(-1), { user_id: IVAN, account_id: ACCOUNT, subdomain: 'example' });
});

t.test('the connector refuses: a clear message per reason, in the user\'s language', async (t) => {
  const cases: Array<[string, ClickToCallResult, string, RegExp]> = [
    ['en', { placed: false, error: { code: 'ORIGINATE_UNKNOWN_USER', message: 'Kommo user 5001 has no extension' } }, 'unknown user',
      /^Your Kommo user has no phone extension in the connector \(pbx\.extensions\)\. Ask your PBX administrator\.$/],
    ['ru', { placed: false, error: { code: 'ORIGINATE_AMI_DOWN', message: 'AMI is not connected' } }, 'AMI down',
      /^АТС сейчас недоступна \(нет связи с AMI\)\. Повторите через минуту\.$/],
    ['es', { placed: false, error: { code: 'ORIGINATE_NO_EXTENSION', message: 'no extension' } }, 'no extension',
      /^No hay ninguna extensión configurada para su usuario de Kommo\./],
    ['pt', { placed: false, error: { code: 'ORIGINATE_TIMEOUT', message: 'timeout' } }, 'timeout',
      /^O PABX não respondeu a tempo\./],
    ['en', { placed: false, error: { code: 'ORIGINATE_FAILED', message: 'Asterisk said no' } }, 'Asterisk refused',
      /^The call could not be placed \(error ORIGINATE_FAILED\)\.$/],
  ];
  for (const [lang, result, what, expected] of cases) {
    answer = result;
    const page = await open(host, { user: IVAN, lang, connectorUrl: url });
    const shown = await clickAndWait(page, '#phone-work');
    t.equal(shown[0]?.kind, 'error', `${what}: an error notification`);
    t.match(shown[0]?.text, expected, `${what} (${lang})`);
  }
});

t.test('a token the connector does not accept: the widget says so (CORS on the 401)', async (t) => {
  const wrong = await connector({ widgetSecret: 'another-integration-secret-0123456789' });
  calls.length = 0;
  const page = await open(host, { user: IVAN, connectorUrl: wrong });
  const shown = await clickAndWait(page, '#phone-work');
  t.equal(shown[0]?.kind, 'error');
  t.match(shown[0]?.text, /refused Kommo's token: paste this integration's secret key into http\.widget_secret/);
  t.equal(calls.length, 0, 'nothing reached the originate service');
});

t.test('unreachable, or this Kommo address not in http.cors_origins: "cannot be reached", with the URL', async (t) => {
  const closed = `http://127.0.0.1:${await freeTcpPort()}`;
  let page = await open(host, { user: IVAN, connectorUrl: `${closed}/` });
  let shown = await clickAndWait(page, '#phone-work');
  t.equal(shown[0]?.kind, 'error');
  t.equal(shown[0]?.text, `The connector at ${closed} cannot be reached. Check the URL, that it is HTTPS, and that http.cors_origins allows this Kommo address.`);

  const strict = await connector({ origins: ['https://*.kommo.com'] });
  calls.length = 0;
  page = await open(host, { user: IVAN, connectorUrl: strict });
  shown = await clickAndWait(page, '#phone-work');
  t.match(shown[0]?.text, /cannot be reached.*http\.cors_origins/, 'a refused preflight looks like this to a browser');
  t.equal(calls.length, 0, 'the browser never sent the POST');
});

t.test('no connector URL, or not an http(s) URL: says so and sends nothing', async (t) => {
  for (const connectorUrl of [undefined, 'pbx.example.com', 'javascript:alert(1)']) {
    const page = await open(host, { user: IVAN, ...(connectorUrl !== undefined ? { connectorUrl } : {}) });
    const shown = await clickAndWait(page, '#phone-work');
    t.equal(shown[0]?.text, 'Click-to-call is not set up: enter the connector URL in the widget settings.', String(connectorUrl));
    t.same(await page.evaluate('window.__requests'), [], 'no request');
  }
});

t.test('markup in a number is shown as text, never run', async (t) => {
  const page = await open(host, { user: IVAN, connectorUrl: url });
  const shown = await clickAndWait(page, '#phone-odd'); // the real connector answers 400 HTTP_BAD_REQUEST
  t.equal(shown[0]?.kind, 'error');
  t.equal(shown[0]?.text, '&lt;img src=x onerror=window.__xss=1&gt; is not a number the PBX can dial.');
  t.equal(await page.evaluate('document.querySelectorAll("#notifications img").length'), 0, 'no element was made from it');
  t.equal(await page.evaluate('window.__xss'), undefined, 'no script ran');
  t.equal(await page.$eval('#notifications .notification__text', (e) => e.textContent), '<img src=x onerror=window.__xss=1> is not a number the PBX can dial.');
});

t.test('a double click while the first request runs places one call', async (t) => {
  calls.length = 0;
  answer = { placed: true, extension: '101', number: '79120001122' };
  delayMs = 800; // the PBX takes its time: the second click lands while the first request runs
  t.teardown(() => (delayMs = 0));
  const page = await open(host, { user: IVAN, connectorUrl: url });
  await page.click('#phone-mobile');
  await page.waitForFunction('window.__requests.length >= 1 && window.__requests[0].token === true');
  await page.click('#phone-mobile');
  await page.waitForFunction('window.__notifications.length >= 1', { timeout: 15_000 });
  await new Promise((r) => setTimeout(r, 300));
  t.equal(calls.length, 1, 'one click-to-call');
  t.equal(((await page.evaluate('window.__requests')) as unknown[]).length, 1, 'one request left the browser');
  t.equal(((await page.evaluate('window.__notifications')) as Shown[]).length, 1);
  await clickAndWait(page, '#phone-mobile', 2);
  t.equal(calls.length, 2, 'a later click calls again');
});

t.test('the settings modal: built from the manifest, saving sets the URL the widget uses', async (t) => {
  calls.length = 0;
  answer = { placed: true, extension: '101', number: '79995554433' };
  const page = await open(host, { user: IVAN, lang: 'ru' });
  await page.click('#open-settings');
  t.equal(await page.$eval('.field span', (e) => e.textContent), 'Адрес коннектора (https://…) *');
  t.match(await page.$eval('.modal__description', (e) => e.textContent), /http\.widget_secret/);
  await page.type('input[name="connector_url"]', url);
  await page.click('#save-settings');
  const shown = await clickAndWait(page, '#phone-work');
  t.equal(shown[0]?.text, 'Звоним на 79995554433: сначала зазвонит ваш телефон 101, снимите трубку.');
  t.equal(calls.length, 1);
});
