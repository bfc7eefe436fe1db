/**
 * The admin panel's dependencies (lib/adapters/http/admin), from the parts `start` runs:
 * the status snapshot, the bridge's live calls, the journal, the registrar's
 * retryFailed, re-processing from the CDR, Kommo's users, the OAuth token file's times,
 * the hooks and the configuration with its secrets replaced.
 */
import { join } from 'node:path';
import { createAdminPanel, type AdminDeps, type AdminPanel, type HookInfo } from '../lib/adapters/http/admin/index.js';
import { HttpError, type StatusSnapshot } from '../lib/adapters/http/index.js';
import { createFileTokenStore } from '../lib/adapters/kommo/index.js';
import { reprocess } from '../lib/domain/reprocess/index.js';
import { redact } from '../lib/platform/log.js';
import { HOOK_NAMES } from '../lib/platform/hook-names.js';
import type { BridgeRuntime, Core } from './compose.js';

export function buildAdminPanel(core: Core, bridge: BridgeRuntime, status: () => StatusSnapshot): AdminPanel {
  const { config, logger } = core;
  const oauth = config.kommo.oauth;
  const tokenFile = oauth ? createFileTokenStore(oauth.token_file ?? join(config.data_dir, 'kommo-tokens.json')) : undefined;
  const extensionPattern = new RegExp(`^(?:${config.pbx.extension_pattern})$`);
  const deps: AdminDeps = {
    status,
    // Every server's calls in progress (each carries its `pbx`).
    liveCalls: () => bridge.servers.flatMap((x) => x.bridge.liveCalls()),
    journal: { listByPeriod: (from, to) => bridge.store.listByPeriod(from, to), get: (id) => bridge.store.get(id), startTimes: (from, to) => bridge.store.startTimes(from, to) },
    retryFailed: (id) => bridge.registrar.retryFailed(id),
    // `reprocess.source` is one server's CDR file: with several servers the CLI names the
    // server and its file (`reprocess --server <name> --source <file>`).
    reprocess: async ({ from, to, dryRun }) => {
      if (bridge.servers.length > 1) {
        throw HttpError.of('HTTP_BAD_REQUEST', `with several AMI servers (${bridge.servers.map((x) => x.name).join(', ')}) re-process from the command line: kommo-asterisk reprocess --server <name> --source <that server's CDR file>`);
      }
      return reprocess({ from, to, source: config.reprocess.source, registrar: bridge.registrar, store: bridge.store, pbx: config.pbx, server: bridge.servers[0]!.name, logger, dryRun });
    },
    kommoUsers: async () => (await core.kommo.listUsers()).map((u) => ({ id: u.id, name: u.name, active: u.rights?.is_active !== false })),
    async token() {
      if (!tokenFile) return { kind: 'long-lived' };
      try {
        const pair = await tokenFile.load();
        return pair ? { kind: 'oauth', rotatedAt: pair.updated_at, expiresAt: pair.expires_at } : { kind: 'oauth', problem: 'no token file yet' };
      } catch (err) {
        return { kind: 'oauth', problem: (err as { code?: string }).code ?? 'the token file cannot be read' };
      }
    },
    async hooks() {
      // A module that does not load (check) comes first; else the hook's last failed run.
      const checks = await core.hooks.check().catch(() => []);
      const active = new Set<string>(core.hooks.active());
      const runs = core.hooks.lastErrors();
      return HOOK_NAMES.map((hook): HookInfo => {
        const c = checks.find((x) => x.hook === hook);
        const last = runs[hook];
        const error = c?.error ? { code: c.error.code, message: c.error.message } : last ? { code: last.code, message: `${last.message} (${new Date(last.at).toISOString()})` } : undefined;
        return { hook, active: active.has(hook), ...(error ? { error } : {}) };
      });
    },
    extensions: config.pbx.extensions,
    config: redact(config),
    kommoBaseUrl: config.kommo.base_url,
  };
  return createAdminPanel({
    deps,
    config: config.http,
    logger,
    isExtension: (s) => extensionPattern.test(s),
  });
}
