/**
 * The admin panel (README, "Admin panel"), served by the connector's HTTP server under
 * /admin. Server-rendered pages; a few lines of script refresh the live sections.
 *
 * | method | path                    | what                                              |
 * |--------|-------------------------|---------------------------------------------------|
 * | GET    | /admin/static/admin.css, /admin/static/admin.js | assets (no data; no session needed) |
 * | GET    | /admin/login            | sign-in form (sets the form's CSRF cookie)        |
 * | POST   | /admin/login            | password → session cookie (throttled)             |
 * | POST   | /admin/logout           | end the session                                   |
 * | GET    | /admin[?frag=1]         | health (the fragment is polled)                   |
 * | GET    | /admin/live[?frag=1]    | live calls                                        |
 * | GET    | /admin/calls            | journal search                                    |
 * | GET    | /admin/calls/<id>       | one call                                          |
 * | GET    | /admin/fix              | failed calls, re-process form, action log         |
 * | POST   | /admin/retry            | retry one (`id`) or all failed; `confirm=yes` acts |
 * | POST   | /admin/reprocess        | `step=preview` (dry run) then `step=run`          |
 * | GET    | /admin/settings         | settings check                                    |
 *
 * Without a session a page answers 303 to the sign-in form and anything else (a
 * fragment, a POST) 401; a POST without the session's CSRF token (or from another
 * Origin) 403. Refusals are pages of the panel (the HttpError's status, code and
 * message), not JSON. Every action is logged (component `admin`) and listed on the Fix page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { HttpError } from '../errors.js';
import type { AdminDeps } from './deps.js';
import { readForm } from './form.js';
import { html, query, type Html } from './html.js';
import { CSS, JS, page } from './layout.js';
import { passwordChecker } from './password.js';
import { AgiWindow, healthData, healthPage, settings } from './pages.js';
import { redirect, sendAsset, sendHtml } from './respond.js';
import { cookie, createSessionStore, csrfValid, LOGIN_COOKIE, newToken, readCookies, SESSION_COOKIE, type Session, type SessionStore } from './session.js';
import { createLoginThrottle, type LoginThrottle } from './throttle.js';
import { healthFragment } from './views/health.js';
import { filterRecords, journalPage, parseJournalQuery } from './views/journal.js';
import { liveFragment } from './views/live.js';
import { callPage } from './views/call.js';
import { fixPage, reprocessPreviewPage, reprocessSummary, retryConfirmPage, type AdminAction } from './views/fix.js';
import { loginPage } from './views/login.js';

export interface AdminPanelOptions {
  deps: AdminDeps;
  config: { secret: string; admin_password?: string | undefined; public_url: string; max_body_bytes: number };
  logger: Logger;
  /** Employee extensions (pbx.extension_pattern), for "unmapped extensions". */
  isExtension?: (s: string) => boolean;
  now?: () => number;
  sessions?: SessionStore;
  throttle?: LoginThrottle;
}

export interface AdminPanel {
  /** Answer a request whose path is /admin or under /admin/. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  close(): void;
}

const FLASH: Record<string, string> = {
  retried: 'The call was queued for registration again.',
  'retried-all': 'The failed calls were queued for registration again.',
  'none-retried': 'Nothing to retry: the call is no longer failed.',
  'signed-out': 'Signed out.',
};
const MAX_ACTIONS = 100;

function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** A `next` target after sign-in: a panel path only (never another site). */
function safeNext(next: string | undefined | null): string {
  return next && /^\/admin(?:\/[A-Za-z0-9/_.-]*)?(?:\?[A-Za-z0-9=&%_.+-]*)?$/.test(next) && !next.includes('..') ? next : '/admin';
}

export function createAdminPanel(options: AdminPanelOptions): AdminPanel {
  const { deps, config } = options;
  const log = options.logger.child({ component: 'admin' });
  const now = options.now ?? Date.now;
  const sessions = options.sessions ?? createSessionStore({ now });
  const throttle = options.throttle ?? createLoginThrottle({ now });
  const checkPassword = passwordChecker(config);
  const isExtension = options.isExtension ?? ((s: string) => /^\d{2,6}$/.test(s));
  const secure = config.public_url.startsWith('https:');
  const actions: AdminAction[] = [];
  const agi = new AgiWindow();
  const sampleAgi = async (): Promise<void> => {
    try {
      agi.sample(now(), (await deps.status()).agi.answers);
    } catch {
      /* the status is read again at the next tick */
    }
  };
  void sampleAgi();
  const timer = setInterval(() => void sampleAgi(), 60_000);
  timer.unref();

  const record = (action: string, detail: string, address: string): void => {
    actions.unshift({ at: now(), action, detail, address });
    actions.length = Math.min(actions.length, MAX_ACTIONS);
    log.info({ admin_action: action, detail, remote: address }, 'admin action');
  };

  const sessionCookie = (id: string, maxAgeMs: number): string => cookie(SESSION_COOKIE, id, { maxAgeS: maxAgeMs / 1000, secure });

  async function login(req: IncomingMessage, res: ServerResponse, address: string): Promise<void> {
    const cookies = readCookies(req);
    if (req.method === 'GET') {
      const token = newToken();
      const next = safeNext(new URL(req.url ?? '/', 'http://x').searchParams.get('next'));
      const flash = FLASH[new URL(req.url ?? '/', 'http://x').searchParams.get('flash') ?? ''];
      sendHtml(res, 200, page({ title: 'Sign in', ...(flash ? { flash } : {}) }, loginPage(token, next)), { 'set-cookie': cookie(LOGIN_COOKIE, token, { maxAgeS: 3600, secure }) });
      return;
    }
    const form = await readForm(req, config.max_body_bytes);
    const formToken = cookies.get(LOGIN_COOKIE);
    const next = safeNext(form.get('next'));
    const again = (status: number, message: string): void => {
      const token = newToken();
      sendHtml(res, status, page({ title: 'Sign in' }, loginPage(token, next, message)), { 'set-cookie': cookie(LOGIN_COOKIE, token, { maxAgeS: 3600, secure }) });
    };
    if (!formToken || !csrfValid(formToken, form.get('csrf'))) {
      again(403, 'The form expired or did not come from this page; please sign in again.');
      return;
    }
    const wait = throttle.waitMs(address);
    if (wait > 0) {
      log.warn({ remote: address, wait_ms: wait }, 'admin sign-in throttled');
      again(429, `Too many wrong passwords: try again in ${Math.ceil(wait / 1000)} s.`);
      return;
    }
    if (!(await checkPassword(form.get('password') ?? ''))) {
      throttle.failed(address);
      log.warn({ remote: address }, 'admin sign-in refused: wrong password');
      again(401, 'Wrong password.');
      return;
    }
    throttle.succeeded(address);
    const { id } = sessions.create(address);
    record('sign-in', 'session opened', address);
    redirect(res, next, { 'set-cookie': [sessionCookie(id, sessions.maxAgeMs), cookie(LOGIN_COOKIE, '', { maxAgeS: 0, secure })] });
  }

  /** POSTs: same origin (when the browser says), the session's CSRF token; returns the form. */
  async function postForm(req: IncomingMessage, session: Session): Promise<Map<string, string>> {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host !== req.headers.host) throw HttpError.of('HTTP_FORBIDDEN', 'cross-origin form refused');
    } else if (origin === 'null') throw HttpError.of('HTTP_FORBIDDEN', 'cross-origin form refused');
    const form = await readForm(req, config.max_body_bytes);
    if (!csrfValid(session.csrf, form.get('csrf'))) throw HttpError.of('HTTP_FORBIDDEN', 'missing or wrong CSRF token: reload the page');
    return form;
  }

  const render = (res: ServerResponse, session: Session, title: string, active: string, body: Html, flash?: string): void =>
    sendHtml(res, 200, page({ title, active, csrf: session.csrf, ...(flash ? { flash } : {}) }, body));

  async function authed(req: IncomingMessage, res: ServerResponse, path: string, url: URL, session: Session, sid: string, address: string): Promise<void> {
    const method = req.method ?? 'GET';
    const frag = url.searchParams.get('frag') === '1';
    const flash = FLASH[url.searchParams.get('flash') ?? ''];
    const get = method === 'GET' || method === 'HEAD';
    const t = now();
    if (path === '/admin/logout' && method === 'POST') {
      await postForm(req, session);
      sessions.destroy(sid);
      record('sign-out', 'session closed', address);
      redirect(res, '/admin/login?flash=signed-out', { 'set-cookie': sessionCookie('', 0) });
      return;
    }
    if ((path === '/admin' || path === '/admin/') && get) {
      if (frag) sendHtml(res, 200, healthFragment(await healthData(deps, agi, t)));
      else render(res, session, 'Health', '/admin', await healthPage(deps, agi, t), flash);
      return;
    }
    if (path === '/admin/live' && get) {
      const body = liveFragment(deps.liveCalls());
      if (frag) sendHtml(res, 200, body);
      else render(res, session, 'Live calls', '/admin/live', html`<div id="live" data-poll="/admin/live?frag=1" data-every="1000">${body}</div>`);
      return;
    }
    if (path === '/admin/calls' && get) {
      const q = parseJournalQuery(url.searchParams, t);
      const rows = q.problems.includes('the period is empty') ? [] : filterRecords(await deps.journal.listByPeriod(q.fromMs, q.toMs), q);
      render(res, session, 'Journal', '/admin/calls', journalPage(q, rows, q.problems), flash);
      return;
    }
    const callMatch = /^\/admin\/calls\/([A-Za-z0-9][A-Za-z0-9._-]{0,99})$/.exec(path);
    if (callMatch && get) {
      const rec = await deps.journal.get(callMatch[1] as string);
      if (!rec) throw HttpError.of('HTTP_NOT_FOUND', 'no such call in the journal');
      render(res, session, `Call ${rec.call.channel.from.number} → ${rec.call.channel.to.number}`, '/admin/calls', callPage(rec, deps.kommoBaseUrl, session.csrf), flash);
      return;
    }
    if (path === '/admin/fix' && get) {
      const failed = (await deps.journal.listByPeriod(0, Number.MAX_SAFE_INTEGER)).filter((r) => r.status === 'failed');
      render(res, session, 'Fix', '/admin/fix', fixPage(failed, actions, session.csrf, { from: localInput(t - 24 * 3600_000), to: localInput(t) }), flash);
      return;
    }
    if (path === '/admin/retry' && method === 'POST') {
      const form = await postForm(req, session);
      const id = form.get('id') || undefined;
      if (form.get('confirm') !== 'yes') {
        const target = id === undefined ? 'all' : await deps.journal.get(id);
        if (!target) throw HttpError.of('HTTP_NOT_FOUND', 'no such call in the journal');
        const count = target === 'all' ? (await deps.journal.listByPeriod(0, Number.MAX_SAFE_INTEGER)).filter((r) => r.status === 'failed').length : 1;
        render(res, session, 'Confirm retry', '/admin/fix', retryConfirmPage(target, count, session.csrf));
        return;
      }
      const ids = await deps.retryFailed(id);
      record(id ? 'retry' : 'retry-all', ids.length ? `${ids.length} call(s): ${ids.slice(0, 20).join(', ')}` : 'nothing to retry', address);
      redirect(res, id ? `/admin/calls/${encodeURIComponent(id)}${query({ flash: ids.length ? 'retried' : 'none-retried' })}` : `/admin/fix${query({ flash: ids.length ? 'retried-all' : 'none-retried' })}`);
      return;
    }
    if (path === '/admin/reprocess' && method === 'POST') {
      const form = await postForm(req, session);
      const fromText = form.get('from') ?? '';
      const toText = form.get('to') ?? '';
      const from = new Date(fromText).getTime();
      const to = new Date(toText).getTime();
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$/.test(fromText) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$/.test(toText) || !(to > from)) {
        throw HttpError.of('HTTP_BAD_REQUEST', 'from and to must be date-times, from before to');
      }
      const run = form.get('step') === 'run';
      const summary = await deps.reprocess({ from, to, dryRun: !run });
      if (run) {
        record('reprocess', `${fromText} — ${toText}: ${summary.submitted} submitted, ${summary.errors} errors`, address);
        render(res, session, 'Re-processed', '/admin/fix', html`${reprocessSummary(summary)}<p><a href="/admin/calls">Journal</a> · <a href="/admin/fix">Fix</a></p>`);
      } else {
        record('reprocess-preview', `${fromText} — ${toText}: ${summary.linkedids.length} would be registered`, address);
        render(res, session, 'Re-process: preview', '/admin/fix', reprocessPreviewPage(summary, { from: fromText, to: toText }, session.csrf));
      }
      return;
    }
    if (path === '/admin/settings' && get) {
      render(res, session, 'Settings check', '/admin/settings', await settings(deps, t, isExtension));
      return;
    }
    if (['/admin/logout', '/admin/retry', '/admin/reprocess', '/admin', '/admin/live', '/admin/calls', '/admin/fix', '/admin/settings'].includes(path) || callMatch) {
      throw HttpError.of('HTTP_METHOD_NOT_ALLOWED', `method ${method} is not allowed here`);
    }
    throw HttpError.of('HTTP_NOT_FOUND', 'not found');
  }

  /** The panel's own answers to what it refuses: a page, not JSON (the status and headers kept). */
  async function guarded(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      await route(req, res, path);
    } catch (err) {
      if (!(err instanceof HttpError) || res.headersSent) throw err;
      log.debug({ code: err.code, status: err.status, remote: req.socket.remoteAddress }, 'admin request refused');
      if (!req.complete) {
        res.setHeader('connection', 'close');
        req.resume();
      }
      sendHtml(res, err.status, page({ title: err.status === 404 ? 'Not found' : 'Refused' }, html`<p class="flash error" id="error">${err.message} <small>(${err.code})</small></p><p><a href="/admin">Back to the panel</a></p>`), { ...err.headers });
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://panel.invalid');
    const address = req.socket.remoteAddress ?? '?';
    if (path === '/admin/static/admin.css' && req.method === 'GET') return sendAsset(res, CSS, 'text/css; charset=utf-8');
    if (path === '/admin/static/admin.js' && req.method === 'GET') return sendAsset(res, JS, 'text/javascript; charset=utf-8');
    if (path === '/admin/login') {
      if (req.method !== 'GET' && req.method !== 'POST') throw HttpError.of('HTTP_METHOD_NOT_ALLOWED', 'GET or POST');
      return login(req, res, address);
    }
    const sid = readCookies(req).get(SESSION_COOKIE);
    const session = sessions.get(sid);
    if (!session || !sid) {
      if (req.method === 'GET' && url.searchParams.get('frag') !== '1') {
        redirect(res, `/admin/login${query({ next: safeNext(path + url.search) })}`);
        return;
      }
      throw HttpError.of('HTTP_AUTH_REQUIRED', 'sign in first');
    }
    return authed(req, res, path, url, session, sid, address);
  }

  return {
    handle: guarded,
    close() {
      clearInterval(timer);
    },
  };
}
