/**
 * The composition root: the only place that builds the logger, the Kommo
 * client, the hook runner, sockets and servers from the frozen config.
 * Everything else receives what it needs as arguments.
 */
import type { Logger } from 'pino';
import { loadConfig, formatConfigError, type FrozenConfig } from '../lib/config/index.js';
import { createLogger } from '../lib/log.js';
import { createKommoClient, type KommoClient } from '../lib/kommo/index.js';
import { createHookRunner, type HookRunner } from '../lib/hooks/loader.js';
import { createPhoneRewriter, normalizeClientPhone } from '../lib/phone.js';
import { truncateName } from '../lib/hooks/shapes.js';
import { createAutodistribution, type Autodistribution, type AutodistHooks } from '../lib/autodistribution/service.js';
import { createAgiServer, type AgiServer } from '../agi/server.js';
import { autodistributionRoute } from '../agi/autodistribution-route.js';

export interface Core {
  config: FrozenConfig;
  logger: Logger;
  kommo: KommoClient;
  hooks: HookRunner;
  normalizePhone: (raw: string) => string | null;
}

/** Load and validate the config; on failure print every problem and exit 2. */
export function loadConfigOrExit(path: string | undefined): FrozenConfig {
  try {
    return loadConfig(path === undefined ? {} : { path });
  } catch (err) {
    process.stderr.write(`${formatConfigError(err)}\n`);
    process.exit(2);
  }
}

export function buildCore(config: FrozenConfig, logger: Logger = createLogger({ level: config.log.level })): Core {
  const kommo = createKommoClient(config.kommo, { logger: logger.child({ component: 'kommo' }), dataDir: config.data_dir, matchDigits: config.phone.match_digits });
  const hooks = createHookRunner({
    dir: config.customizations.dir,
    timeoutMs: config.customizations.timeout_ms,
    timeouts: config.customizations.timeouts,
    logger: logger.child({ component: 'hooks' }),
  });
  const rewriter = createPhoneRewriter(config.phone.rewrite_rules);
  return { config, logger, kommo, hooks, normalizePhone: (raw) => normalizeClientPhone(raw, rewriter) };
}

export function buildAutodistribution(core: Core): Autodistribution {
  const { config } = core;
  return createAutodistribution(
    {
      budgetMs: config.agi.budget_ms,
      extensions: config.pbx.extensions,
      positiveTtlMs: config.agi.cache_ttl_seconds * 1000,
      negativeTtlMs: config.agi.negative_cache_ttl_seconds * 1000,
      maxEntries: config.agi.cache_max_entries,
      nameMax: config.agi.callerid_name_max,
      lookupTimeoutMs: config.kommo.request_timeout_ms,
      usersRefreshMs: 5 * 60_000,
      matchDigits: config.phone.match_digits,
      searchCompanies: config.agi.search_companies,
    },
    {
      kommo: core.kommo,
      hooks: core.hooks as unknown as AutodistHooks,
      normalizePhone: core.normalizePhone,
      truncateName,
      logger: core.logger.child({ component: 'autodistribution' }),
    },
  );
}

export interface AgiRuntime {
  server: AgiServer;
  autodistribution: Autodistribution;
  close(): Promise<void>;
}

export async function startAgi(core: Core): Promise<AgiRuntime> {
  const { config, logger } = core;
  const autodistribution = buildAutodistribution(core);
  void autodistribution.refreshUsers();
  const server = createAgiServer({
    routes: { autodistribution: autodistributionRoute(autodistribution) },
    logger: logger.child({ component: 'agi' }),
    maxConnections: config.agi.max_connections,
    headerTimeoutMs: config.agi.header_timeout_ms,
    commandTimeoutMs: config.agi.command_timeout_ms,
    handlerTimeoutMs: config.agi.budget_ms + 4 * config.agi.command_timeout_ms,
  });
  const address = await server.listen(config.agi.port, config.agi.host);
  logger.info({ host: address.address, port: address.port }, 'FastAGI server listening');
  return {
    server,
    autodistribution,
    async close() {
      await server.close();
      autodistribution.close();
    },
  };
}

/** Run `stop` once on SIGTERM/SIGINT; a second signal exits at once. */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'draining and stopping');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
