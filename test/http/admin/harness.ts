/** The admin panel on the real HTTP server (port 0), a real journal in a temp dir, fake parts around it. */
import { createHttpServer } from '../../../lib/adapters/http/server.js';
import { createAdminPanel, type AdminDeps } from '../../../lib/adapters/http/admin/index.js';
import { openCallStore, type CallStore } from '../../../lib/domain/registration/index.js';
import type { CallFull } from '../../../lib/domain/call/types.js';
import type { ReprocessSummary } from '../../../lib/domain/reprocess/index.js';
import { redact } from '../../../lib/platform/log.js';
import { captureLogs, snapshot, tempDir } from '../fixtures/helpers.js';
import { Browser } from './client.js';

export const SECRET = 'connector-secret-0123456789';

export interface Harness {
  browser: () => Browser;
  store: CallStore;
  clock: { now: number };
  live: CallFull[];
  retried: Array<string | undefined>;
  reprocessed: Array<{ from: number; to: number; dryRun: boolean }>;
  logs: ReturnType<typeof captureLogs>;
  /** FastAGI answers the status reports (cumulative, as the real snapshot). */
  agiAnswers: Record<string, number>;
  deps: AdminDeps;
}

export async function harness(t: { teardown(fn: () => unknown): void }, over: { admin_password?: string; users?: AdminDeps['kommoUsers'] } = {}): Promise<Harness> {
  const dir = tempDir(t, 'ka-admin-');
  const logs = captureLogs();
  const store = await openCallStore({ dataDir: dir, logger: logs.logger, retentionMs: 1e12 });
  const clock = { now: Date.parse('2026-11-20T12:00:00') };
  const live: CallFull[] = [];
  const agiAnswers: Record<string, number> = { found: 10, not_found: 3, timeout: 1 };
  const retried: Array<string | undefined> = [];
  const reprocessed: Array<{ from: number; to: number; dryRun: boolean }> = [];
  const config = { secret: SECRET, public_url: 'http://127.0.0.1:8088', max_body_bytes: 16_384, ...(over.admin_password ? { admin_password: over.admin_password } : {}) };
  const deps: AdminDeps = {
    status: () => snapshot({ agi: { answers: { ...agiAnswers } }, last_errors: [{ at: '2026-11-20T11:59:00Z', component: 'registration', code: 'KOMMO_UNREACHABLE', message: 'Kommo <b>down</b>' }] }),
    liveCalls: () => live,
    journal: { listByPeriod: (f, to) => store.listByPeriod(f, to), get: (id) => store.get(id), startTimes: (f, t) => store.startTimes(f, t) },
    async retryFailed(id) {
      retried.push(id);
      return store.markForRetry(id ?? 'all-failed');
    },
    async reprocess(o) {
      reprocessed.push(o);
      const summary: ReprocessSummary = {
        source: '/var/log/asterisk/cdr-custom/kommo-cdr.csv', from: o.from, to: o.to, lines: 10, found: 3,
        already: { done: 1, pending: 0, failed: 0, skipped: 0 }, submitted: o.dryRun ? 0 : 2, errors: 0, unparseable: 0, bad: [],
        linkedids: ['1700000001.1', '1700000001.2'], dryRun: o.dryRun,
      };
      return summary;
    },
    kommoUsers: over.users ?? (async () => [{ id: 5001, name: 'Anna', active: true }, { id: 5002, name: 'Boris', active: false }]),
    token: async () => ({ kind: 'oauth', rotatedAt: clock.now - 3600_000, expiresAt: clock.now + 3600_000 }),
    hooks: async () => [{ hook: 'need_registration', active: true, error: { code: 'HOOK_TIMEOUT', message: 'took too long' } }, { hook: 'post_registration', active: false }],
    extensions: { '101': 5001, '102': 5002, '103': 5003 },
    config: redact({ http: { secret: SECRET, port: 8088 }, ami: { secret: 'ami-password-xyz', host: '127.0.0.1' }, kommo: { long_lived_token: 'eyJ-long-lived-token' } }),
    kommoBaseUrl: 'https://example.kommo.com',
  };
  const panel = createAdminPanel({ deps, config, logger: logs.logger, now: () => clock.now });
  const server = createHttpServer({ config: { ...config, enabled: true, host: '127.0.0.1', port: 0, request_timeout_ms: 15_000, cors_origins: [], admin_enabled: true }, logger: logs.logger, admin: panel });
  const { port } = await server.listen();
  t.teardown(async () => {
    panel.close();
    await server.destroy();
    await store.close();
  });
  return { browser: () => new Browser(port), store, clock, live, agiAnswers, retried, reprocessed, logs, deps };
}
