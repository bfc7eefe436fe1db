/**
 * The composition root: the only place that builds the logger, the Kommo
 * client, the hook runner, sockets and servers from the frozen config.
 * Everything else receives what it needs as arguments.
 */
import { originMatchers } from '../lib/adapters/http/cors.js';
import { delay, type BackoffPolicy } from '../lib/platform/backoff.js';
import { mapAsteriskPath } from '../lib/domain/recordings/path-map.js';
import type { Logger } from 'pino';
import { amiServers, loadConfig, formatConfigError, qualifiesCallIds, type FrozenConfig } from '../lib/platform/config/index.js';
import { createLogger } from '../lib/platform/log.js';
import { createKommoClient, type KommoClient } from '../lib/adapters/kommo/index.js';
import { createHookRunner, type HookRunner } from '../lib/adapters/hooks/loader.js';
import { createPhoneRewriter, normalizeClientPhone } from '../lib/platform/phone.js';
import { truncateName } from '../lib/adapters/hooks/shapes.js';
import { createAutodistribution, type Autodistribution, type AutodistHooks } from '../lib/domain/autodistribution/service.js';
import { createAgiServer, type AgiServer } from '../agi/server.js';
import { autodistributionRoute } from '../lib/domain/autodistribution/agi-route.js';
import { createAmiClient, type AmiClient } from '../lib/protocol/ami/index.js';
import { createBridge, type Bridge, type BridgeRegistrar } from '../lib/domain/bridge/index.js';
import { createNotifier, type Notifier } from '../lib/domain/notify/index.js';
import { assertPhoneField } from '../lib/domain/check/phone-field.js';
import { createHttpServer, type HttpServer, type StatusSnapshot } from '../lib/adapters/http/index.js';
import type { ClickToCall as HttpClickToCall } from '../lib/adapters/http/click-to-call.js';
import { KommoError } from '../lib/adapters/kommo/index.js';
import { createClickToCall, createClickToCallRouter } from '../lib/domain/originate/index.js';
import { createRecordingLinks, createRecordingProcessor, type RecordingLinks, type RecordingProcessor } from '../lib/domain/recordings/index.js';
import { ContactCache, createRegistrar, openCallStore, type CallStore, type RecordingLinker, type Registrar } from '../lib/domain/registration/index.js';
import { buildAdminPanel } from './admin.js';

/** Re-checking the PHONE field while Kommo is unavailable at start: 30 s, growing to 5 min. */
const PHONE_FIELD_RECHECK: BackoffPolicy = { baseMs: 30_000, maxMs: 300_000, jitter: 'equal', floorMs: 30_000 };

export interface Core {
  config: FrozenConfig;
  logger: Logger;
  kommo: KommoClient;
  hooks: HookRunner;
  normalizePhone: (raw: string) => string | null;
  /** Registration's contact cache; autodistribution fills it with the callers it finds (issue 10). */
  contactCache: ContactCache;
}

/** Load and validate the config; on failure print every problem and exit 2. */
export function loadConfigOrExit(path: string | undefined, opts: { amiRequired?: boolean } = {}): FrozenConfig {
  try {
    return loadConfig({ ...(path === undefined ? {} : { path }), ...opts });
  } catch (err) {
    process.stderr.write(`${formatConfigError(err)}\n`);
    process.exit(2);
  }
}

export function buildCore(config: FrozenConfig, logger: Logger = createLogger({ level: config.log.level })): Core {
  const kommo = createKommoClient(config.kommo, {
    logger: logger.child({ component: 'kommo' }), dataDir: config.data_dir, matchDigits: config.phone.match_digits,
    batchMaxItems: config.registration.batch.enabled ? config.registration.batch.max_items : 1,
    batchLingerMs: config.registration.batch.linger_ms,
  });
  const hooks = createHookRunner({
    dir: config.customizations.dir,
    timeoutMs: config.customizations.timeout_ms,
    timeouts: config.customizations.timeouts,
    workers: config.customizations.workers,
    workerMemoryMb: config.customizations.worker_memory_mb,
    logger: logger.child({ component: 'hooks' }),
  });
  const rewriter = createPhoneRewriter(config.phone.rewrite_rules);
  const contactCache = new ContactCache({ matchDigits: config.phone.match_digits });
  return { config, logger, kommo, hooks, normalizePhone: (raw) => normalizeClientPhone(raw, rewriter), contactCache };
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
      // A caller found now need not be searched again when the call is registered (`start`).
      onContactFound: (phone, c) => core.contactCache.set(phone, {
        id: c.id, lead_ids: c.lead_ids, ...(c.name ? { name: c.name } : {}),
        ...(c.responsible_user_id !== null ? { responsible_user_id: c.responsible_user_id } : {}),
      }),
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
    routes: { autodistribution: autodistributionRoute(autodistribution, config.agi.budget_ms) },
    logger: logger.child({ component: 'agi' }),
    maxConnections: config.agi.max_connections,
    allowFrom: config.agi.allow_from,
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

// ---------------------------------------------------------------------------
// The AMI bridge and registration (README, "Which calls are registered, and how"), and the one-process `start`.
// ---------------------------------------------------------------------------

/** The PHONE/WORK contact field is missing: the bridge refuses to run (exit code 3). */
export class PhoneFieldMissingError extends Error {
  readonly code = 'KOMMO_PHONE_FIELD_MISSING';
  readonly exitCode = 3;
}

/**
 * Refuse to run without the PHONE field (it is how clients are found and created).
 * Kommo unreachable or refusing the token at start is not "missing": registration waits
 * for Kommo anyway, so the check is repeated in the background until Kommo answers.
 */
export async function requirePhoneField(core: Core, signal?: AbortSignal): Promise<void> {
  const log = core.logger.child({ component: 'bridge' });
  const check = async (): Promise<'ok' | 'missing' | 'unknown'> => {
    try {
      await assertPhoneField(core.kommo, { retryBudgetMs: 10_000, ...(signal ? { signal } : {}) });
      return 'ok';
    } catch (err) {
      if (err instanceof KommoError && err.code === 'KOMMO_PHONE_FIELD_MISSING') {
        log.fatal({ err }, 'the PHONE contact field is missing: calls cannot be registered');
        throw new PhoneFieldMissingError(err.message);
      }
      log.warn({ err }, 'could not check the PHONE contact field now (Kommo unavailable?); checking again in the background');
      return 'unknown';
    }
  };
  if ((await check()) !== 'unknown') return;
  const retry = (attempt: number): void => {
    const timer = setTimeout(() => {
      if (signal?.aborted) return;
      check().then(
        (r) => {
          if (r === 'unknown') retry(attempt + 1);
          else log.info('the PHONE contact field is present');
        },
        () => undefined, // logged as fatal; registration pauses on the same error
      );
    }, delay(attempt, PHONE_FIELD_RECHECK, Math.random()));
    timer.unref();
  };
  retry(0);
}

/** Open the journal and build the registrar (and the recording linker when configured). */
export async function buildRegistration(core: Core): Promise<{ store: CallStore; registrar: Registrar; recordings?: RecordingProcessor; links?: RecordingLinks }> {
  const { config, logger } = core;
  // With several Asterisk servers the journal keys calls by <server>.<linkedid>.
  const store = await openCallStore({ dataDir: config.data_dir, logger, qualifyIds: qualifiesCallIds(config) });
  const rec = buildRecordings(core);
  const registrar = createRegistrar({
    config,
    kommo: core.kommo,
    hooks: core.hooks,
    store,
    logger,
    contactCache: core.contactCache,
    ...(rec
      ? {
          recordings: {
            link: (call, candidates, o) =>
              rec.processor.process({
                linkedid: call.channel.id,
                // MIXMONITOR_FILENAME is Asterisk's path; recordings.asterisk_dir maps it to ours.
                candidates: candidates.map((c) =>
                  typeof c === 'string'
                    ? mapAsteriskPath(c, config.recordings.asterisk_dir, config.recordings.dir)
                    : { ...c, path: mapAsteriskPath(c.path, config.recordings.asterisk_dir, config.recordings.dir) },
                ),
                callFull: call,
                ...(o?.logger ? { logger: o.logger } : {}),
                ...(o?.signal ? { signal: o.signal } : {}),
              }),
          } satisfies RecordingLinker,
          recordingTimeoutMs: rec.timeoutMs,
        }
      : {}),
  });
  return { store, registrar, ...(rec ? { recordings: rec.processor, links: rec.links } : {}) };
}

/** Recordings need `recordings.enabled` and an `http.secret` to sign links; else the call goes without a link. */
function buildRecordings(core: Core): { processor: RecordingProcessor; links: RecordingLinks; timeoutMs: number } | undefined {
  const { config, logger } = core;
  if (!config.recordings.enabled) return undefined;
  if (!config.http.secret || config.http.secret.length < 16) {
    logger.warn('recordings.enabled but http.secret is not set (16+ characters): calls are registered without recording links');
    return undefined;
  }
  const links = createRecordingLinks({
    secret: config.http.secret,
    publicUrl: config.http.public_url,
    // Links may point at the wav (recordings.dir) or at its mp3 (recordings.mp3_dir, when set).
    roots: config.recordings.mp3_dir ? [config.recordings.dir, config.recordings.mp3_dir] : [config.recordings.dir],
    ttlDays: config.recordings.link_ttl_days,
  });
  const processor = createRecordingProcessor({
    config: config.recordings,
    hooks: core.hooks,
    logger: logger.child({ component: 'recordings' }),
    links,
    ...(config.recordings.mp3_dir ? { outputDir: config.recordings.mp3_dir } : {}),
  });
  const hookMs = config.customizations.timeouts['process_record_file_path'] ?? 10_000;
  const timeoutMs = config.recordings.wait_closed_ms + hookMs + config.recordings.conversion_timeout_ms + 5_000;
  return { processor, links, timeoutMs };
}

/** Incoming-call popups: the shared Kommo client (realtime lane), hook 3, the number rewriting. */
export function buildNotifier(core: Core): Notifier {
  const { config } = core;
  const n = config.notifications;
  return createNotifier(
    { enabled: n.enabled, batchMs: n.batch_ms, maxInFlight: n.max_in_flight, timeoutMs: n.timeout_ms, internalMaxDigits: config.phone.internal_max_digits },
    { kommo: core.kommo, hooks: core.hooks, normalizePhone: core.normalizePhone, logger: core.logger },
  );
}

/** One Asterisk server followed by the bridge: its AMI client and its bridge (tracker). */
export interface ServerRuntime {
  /** `ami[].name` (`pbx` for the one-object form). */
  name: string;
  /** `ami[].extensions`: click-to-call for these goes to this server. */
  extensions: readonly string[];
  ami: AmiClient;
  bridge: Bridge;
}

export interface BridgeRuntime {
  /** Every server, in configuration order. */
  servers: ServerRuntime[];
  /** The first server's AMI client and bridge (the only ones with one server). */
  ami: AmiClient;
  bridge: Bridge;
  store: CallStore;
  registrar: Registrar;
  /** Incoming-call popups (`notifications.enabled`), one notifier for every server's bridge. */
  notifier: Notifier;
  recordings?: RecordingProcessor;
  links?: RecordingLinks;
  /** Drain: stop taking events, store every ended call, let registrations reach a step boundary, close AMI. */
  close(): Promise<void>;
}

/**
 * The AMI bridge: PHONE field check, journal, registrar (resumes pending calls), then
 * per Asterisk server (`ami`, one or several) an AMI client and a bridge with its own
 * tracker. One journal, one registrar, one Kommo client (one rate limiter) for all;
 * each server connects, reconnects and resyncs on its own, so one server down does not
 * stop the others.
 */
export async function startBridge(core: Core): Promise<BridgeRuntime> {
  const { config, logger } = core;
  await requirePhoneField(core);
  const { store, registrar, recordings, links } = await buildRegistration(core);
  const notifier = buildNotifier(core);
  // Bridges close their registrar when they stop: they get a view whose close() waits for
  // nothing, and the one registrar is closed once, after every bridge has drained.
  const shared: BridgeRegistrar = {
    submit: (call) => registrar.submit(call),
    shouldRegister: (stage, call) => registrar.shouldRegister(stage, call),
    verdict: (stage, call) => registrar.verdict(stage, call),
    close: async () => undefined,
  };
  const servers: ServerRuntime[] = amiServers(config).map((server) => {
    const log = logger.child({ pbx: server.name });
    const ami = createAmiClient(server, { logger: log });
    const bridge = createBridge({ config, ami, registrar: shared, notifier, logger, pbx: server.name }); // binds pbx itself
    return { name: server.name, extensions: server.extensions, ami, bridge };
  });
  await registrar.start();
  await Promise.all(servers.map((x) => x.bridge.start()));
  for (const x of servers) {
    const c = amiServers(config).find((s) => s.name === x.name)!;
    logger.info({ pbx: x.name, ami: `${c.host}:${c.port}`, connected: x.ami.isConnected(), pending: registrar.stats().pending }, 'AMI bridge running');
  }
  let closing: Promise<void> | undefined;
  return {
    servers,
    ami: servers[0]!.ami,
    bridge: servers[0]!.bridge,
    store,
    registrar,
    notifier,
    ...(recordings ? { recordings } : {}),
    ...(links ? { links } : {}),
    close() {
      closing ??= (async () => {
        await Promise.all(servers.map((x) => x.bridge.close()));
        await registrar.close();
        await notifier.close();
        await recordings?.close();
        await Promise.all(servers.map((x) => x.ami.close().catch(() => x.ami.destroy())));
      })();
      return closing;
    },
  };
}

function notificationStatus(n: Notifier): NonNullable<StatusSnapshot['notifications']> {
  const s = n.stats();
  return { sent_total: s.sent_total, failed_total: s.failed_total, late_total: s.late_total, dropped_total: s.dropped_total, latency_p99_ms: s.latency_ms.p99 };
}

/** The status page's snapshot, from the parts `start` runs. */
export function statusSnapshot(startedAt: Date, parts: { bridge?: BridgeRuntime; agi?: AgiRuntime; core: Core }): StatusSnapshot {
  const reg = parts.bridge?.registrar.stats();
  const rate = parts.core.kommo.rateStats();
  const lastError = reg?.last_error;
  return {
    started_at: startedAt.toISOString(),
    ami: {
      connected: parts.bridge ? parts.bridge.servers.every((x) => x.ami.isConnected()) : false,
      servers: (parts.bridge?.servers ?? []).map((x) => ({ name: x.name, connected: x.ami.isConnected() })),
    },
    kommo: {
      reachable: (reg?.kommo_failures ?? 0) === 0,
      rate_used: rate.limit > 0 ? Math.min(1, rate.sentLastSecond / rate.limit) : 0,
      requests_total: rate.total,
      rate_limited_total: rate.rateLimited,
    },
    registration: { pending: reg?.pending ?? 0, failed: reg?.failed ?? 0, registered_total: reg?.done ?? 0, failed_total: reg?.failed ?? 0 },
    agi: { answers: { ...(parts.agi?.autodistribution.stats().answers ?? {}) } },
    hooks: { active: parts.core.hooks.active() },
    ...(parts.bridge ? { notifications: notificationStatus(parts.bridge.notifier) } : {}),
    ...(parts.agi ? { peer_errors: { agi: parts.agi.server.peerErrors() } } : {}),
    ...(parts.bridge?.recordings ? { recordings: parts.bridge.recordings.stats() } : {}),
    last_errors: lastError
      ? [{ at: new Date(lastError.at).toISOString(), component: 'registration', code: lastError.code, message: lastError.message }]
      : [],
  };
}

/** The HTTP server of `start`: status, metrics, recording links, click-to-call (through the bridge's AMI client). */
export async function startHttp(core: Core, parts: { bridge: BridgeRuntime; agi?: AgiRuntime; startedAt: Date }): Promise<HttpServer | undefined> {
  const { config, logger } = core;
  if (!config.http.enabled) return undefined;
  // Click-to-call goes to the server that lists the extension (ami[].extensions), else the first.
  const originate = createClickToCallRouter(
    parts.bridge.servers.map((x) => ({
      name: x.name,
      extensions: x.extensions,
      service: createClickToCall({ config, ami: x.ami, hooks: core.hooks, normalizePhone: core.normalizePhone, logger: logger.child({ pbx: x.name }) }),
    })),
    config.pbx.extensions,
  );
  const clickToCall: HttpClickToCall = async (req) => {
    try {
      const out = await originate.clickToCall(
        { userId: req.userId, phone: req.phone, requestData: req.requestData },
        req.signal ? { signal: req.signal } : {},
      );
      return { ...out, placed: out.placed, actionId: out.actionId, channelId: out.channelId };
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      return { placed: false, error: { code: typeof e.code === 'string' ? e.code : 'ORIGINATE_FAILED', message: typeof e.message === 'string' ? e.message : String(err) } };
    }
  };
  const status = (): StatusSnapshot => statusSnapshot(parts.startedAt, { core, bridge: parts.bridge, ...(parts.agi ? { agi: parts.agi } : {}) });
  // The admin panel at /admin (bin/admin.ts), when http.admin_enabled.
  const admin = config.http.admin_enabled ? buildAdminPanel(core, parts.bridge, status) : undefined;
  const server = createHttpServer({
    config: config.http,
    logger: logger.child({ component: 'http' }),
    requestTimeoutMs: config.http.request_timeout_ms,
    corsOrigins: originMatchers(config.http.cors_origins),
    clickToCall,
    status,
    ...(parts.bridge.links ? { links: parts.bridge.links } : {}),
    ...(admin ? { admin } : {}),
  });
  if (admin) server.server.once('close', () => admin.close());
  const address = await server.listen();
  logger.info(address, 'HTTP server listening');
  return server;
}
