/**
 * Admin panel benchmark — prints figures, it is not a test.
 *
 *   npm run build && node dist/bench/admin.js [--calls 2000] [--live 200] [--requests 30]
 *
 * The panel on the product's HTTP server (port 0) over a real journal of `--calls`
 * calls of one day (written with the journal's fsync'd writes), and `--live` calls in
 * progress. Times, from a signed-in client over HTTP, p50 / p99 of `--requests`
 * sequential requests: the day's journal page (every call listed up to 500), a search
 * by number, the health page (which reads 24 h of the journal for its chart), the
 * polled health and live fragments; and one sign-in with the default scrypt cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { createAdminPanel, hashAdminPassword, type AdminDeps } from '../lib/adapters/http/admin/index.js';
import { createHttpServer } from '../lib/adapters/http/server.js';
import { NO_TIME, type CallFull, type ChannelObject } from '../lib/domain/call/types.js';
import { openCallStore } from '../lib/domain/registration/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1] ?? fallback) : fallback;
}
const CALLS = arg('calls', 2000);
const LIVE = arg('live', 200);
const REQUESTS = arg('requests', 30);

const p2 = (n: number): string => String(n).padStart(2, '0');
const at = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
};
function chan(id: string, from: string, to: string, start: number, answered: boolean): ChannelObject {
  return {
    id, name: `PJSIP/x-${id}`, is_primary: false, type: 'incoming', state: 'ended',
    from: { number: from, name: 'Client <b>' }, to: { number: to, name: '' }, trunk: { number: 'trunk', name: 'trunk' },
    start_time: at(start), answer_time: answered ? at(start + 5000) : NO_TIME, end_time: at(start + 60_000), was_answered: answered, extra: {},
  };
}
function call(i: number, start: number): CallFull {
  const id = `1800000000.${i}`;
  const client = `7999${String(1_000_000 + i).slice(-7)}`;
  const ext = String(101 + (i % 20));
  return {
    active_conversation_id: '', channel: { ...chan(id, client, '201', start, i % 3 !== 0), is_primary: true },
    conversations: { [`${id}.1`]: { channel: chan(`${id}.1`, client, ext, start, i % 3 !== 0), is_parked: false, user: { id: 5000 + (i % 20), extension: ext } } },
    entity: null, deal: null, is_ivr: false, record: '', result: i % 3 !== 0 ? 200 : 480,
  };
}

function get(port: number, pathName: string, cookie: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathName, headers: { cookie } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

function post(port: number, pathName: string, form: Record<string, string>, cookie: string): Promise<{ status: number; setCookie: string[] }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathName, method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: (res.headers['set-cookie'] as string[] | undefined) ?? [] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number;

const dir = mkdtempSync(path.join(os.tmpdir(), 'ka-bench-admin-'));
try {
  const logger = pino({ level: 'silent' });
  const store = await openCallStore({ dataDir: dir, logger, retentionMs: 1e12 });
  const day = new Date();
  day.setHours(0, 0, 0, 0);
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await store.put(call(i, day.getTime() + Math.floor((i / CALLS) * Math.max(60_000, Date.now() - day.getTime() - 120_000))));
  const writeS = (performance.now() - t0) / 1000;
  const live = Array.from({ length: LIVE }, (_, i) => call(100_000 + i, Date.now() - 30_000));
  const password = 'benchmark admin password';
  const deps: AdminDeps = {
    status: () => ({
      started_at: new Date().toISOString(), ami: { connected: true }, kommo: { reachable: true, rate_used: 0.1, requests_total: 1, rate_limited_total: 0 },
      registration: { pending: 0, failed: 0, registered_total: CALLS, failed_total: 0 }, agi: { answers: { found: 1 } }, hooks: { active: [] }, last_errors: [],
    }),
    liveCalls: () => live,
    journal: { listByPeriod: (f, t) => store.listByPeriod(f, t), get: (id) => store.get(id), startTimes: (f, t) => store.startTimes(f, t) },
    retryFailed: async () => [],
    reprocess: async () => { throw new Error('not in the benchmark'); },
    kommoUsers: async () => [],
    token: async () => ({ kind: 'long-lived' }),
    hooks: async () => [],
    extensions: {},
    config: {},
    kommoBaseUrl: 'https://example.kommo.com',
  };
  const config = { secret: 'benchmark-secret-0123456789', admin_password: await hashAdminPassword(password), public_url: 'http://127.0.0.1', max_body_bytes: 16_384 };
  const panel = createAdminPanel({ deps, config, logger });
  const server = createHttpServer({ config: { ...config, enabled: true, host: '127.0.0.1', port: 0, request_timeout_ms: 15_000, cors_origins: [], admin_enabled: true }, logger, admin: panel });
  const { port } = await server.listen();

  // Sign in (the form's CSRF cookie first).
  const form = await new Promise<{ cookie: string; csrf: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/admin/login' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ cookie: String((res.headers['set-cookie'] as string[])[0]).split(';')[0] as string, csrf: /name="csrf" value="([^"]+)"/.exec(text)?.[1] as string }));
    }).on('error', reject).end();
  });
  const s0 = performance.now();
  const signed = await post(port, '/admin/login', { csrf: form.csrf, password }, form.cookie);
  const signInMs = performance.now() - s0;
  if (signed.status !== 303) throw new Error(`sign-in failed: ${signed.status}`);
  const cookie = String(signed.setCookie.find((c) => c.startsWith('ka_admin='))).split(';')[0] as string;

  const measure = async (label: string, pathName: string): Promise<void> => {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const a = performance.now();
      const r = await get(port, pathName, cookie);
      times.push(performance.now() - a);
      if (r.status !== 200) throw new Error(`${pathName}: ${r.status}`);
      bytes = r.bytes;
    }
    console.log(`${label.padEnd(44)} p50 ${q(times, 0.5).toFixed(1)} ms, p99 ${q(times, 0.99).toFixed(1)} ms, ${Math.round(bytes / 1024)} KiB`);
  };
  console.log(`journal: ${CALLS} calls today (written in ${writeS.toFixed(1)} s), ${LIVE} calls in progress, ${REQUESTS} requests each`);
  console.log(`${'sign-in (scrypt N=16384)'.padEnd(44)} ${signInMs.toFixed(1)} ms`);
  await measure(`journal page, today (${CALLS} calls, 500 shown)`, '/admin/calls');
  await measure('journal search by number', '/admin/calls?number=9991000123');
  await measure('health page (24 h chart from the journal)', '/admin');
  await measure('health fragment (polled every 3 s)', '/admin?frag=1');
  await measure(`live fragment, ${LIVE} calls (polled every 1 s)`, '/admin/live?frag=1');
  panel.close();
  await server.destroy();
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
