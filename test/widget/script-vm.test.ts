// Unit tier for the branches a browser test on an http:// host page cannot reach: the
// real widget/script.js evaluated in a node:vm context with fakes for what it touches
// (define, window.location, APP.notifications, the widget object).
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { WIDGET_DIR } from './host.js';

const source = readFileSync(path.join(WIDGET_DIR, 'script.js'), 'utf8');
const en = JSON.parse(readFileSync(path.join(WIDGET_DIR, 'i18n', 'en.json'), 'utf8'));

function load(protocol: string, settings: Record<string, unknown>) {
  const shown: Array<{ kind: string; text: string }> = [];
  const requests: unknown[] = [];
  let factory: (() => new () => { callbacks: Record<string, () => unknown> }) | undefined;
  const context = vm.createContext({
    define: (_deps: unknown[], fn: typeof factory) => (factory = fn),
    window: { location: { protocol } },
    APP: {
      notifications: {
        show_message: (p: { text: string }) => shown.push({ kind: 'info', text: p.text }),
        show_message_error: (p: { text: string }) => shown.push({ kind: 'error', text: p.text }),
      },
    },
  });
  vm.runInContext(source, context);
  const Widget = factory!();
  let phoneAction: ((data: unknown) => void) | undefined;
  Widget.prototype = {
    langs: en,
    get_settings: () => settings,
    add_action: (_type: string, fn: (data: unknown) => void) => (phoneAction = fn),
    $authorizedAjax: (opts: unknown) => {
      requests.push(opts);
      return { done: () => ({ fail: () => undefined }) };
    },
  };
  const widget = new Widget();
  widget.callbacks.init!();
  return { click: (value: unknown) => phoneAction!({ value }), shown, requests, widget };
}

t.test('Kommo on https and a connector on http: refused with a message, no request', async (t) => {
  const w = load('https:', { connector_url: 'http://pbx.example.com' });
  w.click('+7 999 555-44-33');
  t.same(w.shown, [{ kind: 'error', text: 'The connector URL http://pbx.example.com is not HTTPS: the browser blocks it from Kommo. Use an https:// address.' }]);
  t.same(w.requests, []);
});

t.test('an https connector from https Kommo: one POST of the number to /api/v1/click-to-call', async (t) => {
  const w = load('https:', { connector_url: ' https://pbx.example.com:8443/ ' });
  w.click(' +7 999 555-44-33 ');
  t.same(w.shown, []);
  t.match(w.requests, [{ url: 'https://pbx.example.com:8443/api/v1/click-to-call', type: 'POST', contentType: 'application/json', dataType: 'json', data: '{"phone":"+7 999 555-44-33"}' }]);
});

t.test('an empty number, or none: a message, no request', async (t) => {
  for (const value of ['', '   ', undefined, null]) {
    const w = load('https:', { connector_url: 'https://pbx.example.com' });
    w.click(value);
    t.same(w.shown, [{ kind: 'error', text: 'This field has no phone number to call.' }], String(value));
    t.same(w.requests, []);
  }
});

t.test('the callbacks Kommo calls answer true; destroy forgets calls in flight', async (t) => {
  const w = load('https:', { connector_url: 'https://pbx.example.com' });
  for (const name of ['render', 'init', 'bind_actions', 'settings', 'onSave']) t.equal(w.widget.callbacks[name]!(), true, name);
  w.click('79990001122');
  w.click('79990001122');
  t.equal(w.requests.length, 1, 'the second click waits for the first');
  w.widget.callbacks.destroy!();
  w.click('79990001122');
  t.equal(w.requests.length, 2, 'after destroy a click calls again');
});
