// The widget tests' host: serves the stand-in page (host/index.html, host/standin.js),
// the widget's own files (exactly those the upload archive holds, from widget/), and
// mints the disposable X-Auth-Token as Kommo's server does: a JWT signed HS256 with the
// integration's secret key, with the claims Kommo documents for one-time tokens.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import puppeteer, { type Browser } from 'puppeteer-core';
import { signHs256 } from '../../lib/adapters/http/jwt.js';
import { readWidgetDir } from '../../bin/widget-package.js';
import { packageRoot } from '../../rig/sandbox/repo.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const WIDGET_DIR = path.join(packageRoot(), 'widget');
export const CHROMIUM = process.env.KA_CHROMIUM ?? '/usr/bin/chromium';

export interface HostOptions {
  /** The integration's secret key: signs the tokens (the connector's http.widget_secret). */
  secret: string;
  accountId: number;
  subdomain?: string;
  /** Base of the integration's redirect_uri: the tokens' `aud`. */
  audience?: string;
  widgetDir?: string;
}

export interface WidgetHost {
  /** e.g. http://127.0.0.1:41234 — the page's origin, for http.cors_origins. */
  origin: string;
  /** The page URL for a Kommo user, language and (optionally) a preset connector URL. */
  pageUrl(opts: { user: number; lang?: string; connectorUrl?: string }): string;
  /** Tokens minted so far, decoded claims included. */
  tokens: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.json': 'application/json; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.png': 'image/png', '.html': 'text/html; charset=utf-8' };

export async function startWidgetHost(opts: HostOptions): Promise<WidgetHost> {
  const widgetFiles = new Map(readWidgetDir(opts.widgetDir ?? WIDGET_DIR).map((f) => [`/widget/${f.name}`, f.data]));
  const page = readFileSync(path.join(HERE, 'host', 'index.html'));
  const standin = readFileSync(path.join(HERE, 'host', 'standin.js'));
  const subdomain = opts.subdomain ?? 'example';
  const tokens: Array<Record<string, unknown>> = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    const send = (status: number, body: Buffer | string, type: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method === 'GET' && url.pathname === '/') return send(200, page, TYPES['.html']!);
    if (req.method === 'GET' && url.pathname === '/standin.js') return send(200, standin, TYPES['.js']!);
    if (req.method === 'GET' && widgetFiles.has(url.pathname)) {
      return send(200, widgetFiles.get(url.pathname)!, TYPES[path.extname(url.pathname)] ?? 'application/octet-stream');
    }
    if (req.method === 'POST' && url.pathname === '/__kommo/token') {
      const user = Number(url.searchParams.get('user'));
      if (!Number.isSafeInteger(user) || user <= 0) return send(400, 'no user', 'text/plain');
      const iat = Math.floor(Date.now() / 1000);
      const claims = {
        iss: `https://${subdomain}.kommo.com`,
        aud: opts.audience ?? 'https://pbx.example.com',
        jti: randomUUID(),
        iat,
        nbf: iat,
        exp: iat + 1800,
        account_id: opts.accountId,
        subdomain,
        client_uuid: '6d3d3bb7-2a6e-4f2c-9a39-1c2f4a0e7b11',
        user_id: user,
      };
      tokens.push(claims);
      return send(200, signHs256(claims, opts.secret), 'text/plain');
    }
    send(404, 'not found', 'text/plain');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    tokens,
    pageUrl: ({ user, lang, connectorUrl }) => {
      const q = new URLSearchParams({ user: String(user), lang: lang ?? 'en' });
      if (connectorUrl !== undefined) q.set('connector_url', connectorUrl);
      return `${origin}/?${q.toString()}`;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Debian's Chromium through puppeteer-core. A missing browser is an error, never a skip. */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
  const userDir = mkdtempSync(path.join(tmpdir(), 'ka-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${userDir}`],
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
