/**
 * `check` (README, commands): verifies what the connector needs before it runs —
 * AMI login, every mapped extension known to Asterisk, the Kommo token, the
 * PHONE/WORK contact field, every mapped Kommo user present and active, and
 * the customizations loading — and says what is wrong and how to fix it.
 * The configuration itself was validated when it was loaded (its problems
 * never get this far). AMI and Kommo are checked at the same time; results
 * come back in a fixed order. Every check has a deadline; nothing here throws.
 */
import type { Logger } from 'pino';
import type { AmiClient } from '../../protocol/ami/client.js';
import { isAmiError } from '../../protocol/ami/errors.js';
import { field } from '../../protocol/ami/events.js';
import type { AmiConfig, DeepReadonly, KommoConfig, PbxConfig, RecordingsConfig } from '../../platform/config/types.js';
import { amiSecretEnvName, amiServers } from '../../platform/config/ami.js';
import { mapAsteriskPath } from '../recordings/path-map.js';
import path from 'node:path';
import type { HookRunner } from '../../adapters/hooks/loader.js';
import { KommoAuthError, KommoError, KommoUnreachableError, type KommoClient, type User } from '../../adapters/kommo/index.js';
import { assertPhoneField } from './phone-field.js';
import type { CheckResult } from './types.js';

export type CheckAmi = Pick<AmiClient, 'connect' | 'action' | 'actionList' | 'close' | 'destroy'>;
export type CheckKommo = Pick<KommoClient, 'getAccount' | 'listUsers' | 'findPhoneField'>;

export interface CheckConfig {
  /** One server or several (`amiServers`): each is checked, with its name in the check's name when there are several. */
  readonly ami: DeepReadonly<AmiConfig> | readonly DeepReadonly<AmiConfig>[];
  readonly kommo: DeepReadonly<Pick<KommoConfig, 'base_url' | 'long_lived_token' | 'oauth' | 'phone_enum'>>;
  readonly pbx: DeepReadonly<Pick<PbxConfig, 'extensions' | 'default_user_id'>>;
  /** Technology of the employees' phones (suggested key `originate.channel_tech`, default PJSIP). */
  readonly originate?: { readonly channel_tech?: string };
  /** Where the connector looks for recordings (checked against the dialplan's KOMMO_RECORDINGS_DIR). */
  readonly recordings?: DeepReadonly<Pick<RecordingsConfig, 'enabled' | 'dir' | 'asterisk_dir'>>;
}

export interface RunChecksOptions {
  config: CheckConfig;
  kommo: CheckKommo;
  /** Builds an AMI client for the check (the CLI: `(c) => createAmiClient(c, { logger })`). */
  amiFactory: (config: DeepReadonly<AmiConfig>) => CheckAmi;
  hooks?: Pick<HookRunner, 'check'>;
  logger: Logger;
  /** Deadline of each Kommo request, ms (default 15 000). */
  kommoTimeoutMs?: number;
  /** Shown in the first line, e.g. the config file's path. */
  configSource?: string;
}

const ok = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
const fail = (name: string, detail: string, code?: string): CheckResult => ({ name, ok: false, detail, ...(code ? { code } : {}) });
const skip = (name: string, why: string): CheckResult => ({ name, ok: false, skipped: true, detail: `not checked (${why})` });

const N_AMI = 'AMI login';
const N_EXT = 'Extensions in Asterisk';
const N_TOKEN = 'Kommo token';
const N_FIELD = 'Kommo PHONE contact field';
const N_USERS = 'Kommo users';
const N_HOOKS = 'Customizations';
const N_XFER = 'Transfers';
const N_REC = 'Recordings directory';
/** The bundled dialplan's defaults (dialplan/kommo-asterisk.conf, [kommo-defaults]). */
export const DIALPLAN_DEFAULTS = { KOMMO_RECORDINGS_DIR: '/var/spool/asterisk/monitor/kommo', KOMMO_DIAL_OPTIONS: 't', KOMMO_RECORD: 'yes' } as const;
const warn = (name: string, detail: string): CheckResult => ({ name, ok: true, warning: true, detail });

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function codeOf(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

// --- AMI -------------------------------------------------------------------------

function amiFailure(err: unknown, c: DeepReadonly<AmiConfig>, several = false): string {
  const where = `${c.host}:${c.port}`;
  if (isAmiError(err, 'AMI_LOGIN_FAILED')) {
    const env = several ? amiSecretEnvName(c.name) : 'AMI_SECRET';
    return `Asterisk refused user "${c.username}" at ${where} — check ami.username and ami.secret (env ${env}) against manager.conf, and the user's permit/deny`;
  }
  if (isAmiError(err, 'AMI_CONNECT_FAILED')) {
    return `cannot connect to ${where} — is Asterisk running with manager.conf [general] enabled=yes and this bindaddr/port? (check ami.host, ami.port)`;
  }
  if (isAmiError(err, 'AMI_TIMEOUT')) {
    return `no answer to the login from ${where} within ${c.action_timeout_ms} ms — is that really Asterisk's AMI port?`;
  }
  return `${where}: ${message(err)}`;
}

/** Endpoint names Asterisk knows for the technology, or an error text. */
async function listEndpoints(ami: CheckAmi, tech: string): Promise<Set<string> | string> {
  const t = tech.toUpperCase();
  const spec =
    t === 'PJSIP'
      ? { action: 'PJSIPShowEndpoints', item: 'endpointlist' }
      : t === 'SIP'
        ? { action: 'SIPpeers', item: 'peerentry' }
        : undefined;
  if (!spec) return `cannot list ${tech} endpoints over AMI (only PJSIP and SIP are checked)`;
  try {
    const { events } = await ami.actionList({ action: spec.action });
    const names = new Set<string>();
    for (const e of events) if (e.event === spec.item) names.add(field(e, 'objectname'));
    return names;
  } catch (err) {
    // PJSIPShowEndpoints answers Error "No endpoints found" when there are none.
    const response = (err as { response?: Record<string, unknown> }).response;
    if (isAmiError(err, 'AMI_ACTION_FAILED') && /no endpoints found/i.test(String(response?.['message'] ?? ''))) return new Set();
    return `${spec.action} failed: ${message(err)}`;
  }
}

/**
 * Every mapped extension is an endpoint Asterisk knows. With several servers each
 * server is asked for the extensions it lists (`ami[].extensions`), if any.
 */
async function checkExtensions(ami: CheckAmi, config: CheckConfig, only?: readonly string[]): Promise<CheckResult> {
  const mapped = (only ?? Object.keys(config.pbx.extensions)).slice().sort();
  const tech = config.originate?.channel_tech ?? 'PJSIP';
  if (only && mapped.length === 0) return ok(N_EXT, 'none listed for this server (ami[].extensions)');
  if (mapped.length === 0) return fail(N_EXT, 'pbx.extensions is empty — map each extension to its Kommo user id, e.g. {"101": 5001}');
  const known = await listEndpoints(ami, tech);
  if (typeof known === 'string') return fail(N_EXT, known);
  const missing = mapped.filter((ext) => !known.has(ext));
  if (missing.length === 0) return ok(N_EXT, `${mapped.length} mapped: ${mapped.join(', ')}`);
  return fail(
    N_EXT,
    `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not ${tech} endpoint${missing.length === 1 ? '' : 's'} in Asterisk — ` +
      `fix pbx.extensions or the ${tech === 'PJSIP' ? 'pjsip.conf' : 'sip.conf'} endpoints (the endpoint name must be the extension)`,
  );
}

/** Every server's checks; with several servers each check's name ends with ` [<server>]`. */
async function checkAmis(opts: RunChecksOptions): Promise<CheckResult[]> {
  const servers = amiServers(opts.config);
  if (servers.length === 1) return checkAmi(opts, servers[0]!);
  const each = await Promise.all(servers.map((c) => checkAmi(opts, c, c.extensions, true)));
  return each.flatMap((results, i) => results.map((r) => ({ ...r, name: `${r.name} [${servers[i]!.name}]` })));
}

async function checkAmi(opts: RunChecksOptions, c: DeepReadonly<AmiConfig>, only?: readonly string[], several = false): Promise<CheckResult[]> {
  let ami: CheckAmi;
  try {
    ami = opts.amiFactory(c);
  } catch (err) {
    return [fail(N_AMI, message(err), codeOf(err)), skip(N_EXT, 'no AMI'), skip(N_XFER, 'no AMI'), skip(N_REC, 'no AMI')];
  }
  try {
    try {
      await ami.connect();
    } catch (err) {
      opts.logger.debug({ err }, 'check: AMI login failed');
      return [fail(N_AMI, amiFailure(err, c, several), codeOf(err)), skip(N_EXT, 'the AMI login failed'), skip(N_XFER, 'the AMI login failed'), skip(N_REC, 'the AMI login failed')];
    }
    const [extensions, transfers, recordings] = await Promise.all([
      checkExtensions(ami, opts.config, only),
      checkTransfers(ami),
      checkRecordingsDir(ami, opts.config.recordings),
    ]);
    return [ok(N_AMI, `${c.host}:${c.port} as ${c.username}`), extensions, transfers, recordings];
  } finally {
    ami.destroy();
  }
}

/** A global variable or a function's value through AMI Getvar ('' when unset); undefined when Getvar failed. */
async function getvar(ami: CheckAmi, variable: string): Promise<string | undefined> {
  try {
    const res = await ami.action({ action: 'Getvar', variable });
    return typeof res['value'] === 'string' ? res['value'].trim() : '';
  } catch {
    return undefined;
  }
}

/**
 * Blind and attended transfers of autodistributed calls need a feature code in
 * features.conf and the `t` Dial() option (bundled default, KOMMO_DIAL_OPTIONS).
 */
async function checkTransfers(ami: CheckAmi): Promise<CheckResult> {
  const [atxfer, blindxfer, options] = await Promise.all([getvar(ami, 'FEATUREMAP(atxfer)'), getvar(ami, 'FEATUREMAP(blindxfer)'), getvar(ami, 'KOMMO_DIAL_OPTIONS')]);
  if (atxfer === undefined) return warn(N_XFER, 'could not read FEATUREMAP(atxfer) over AMI (Getvar) — see README "Transfers" for what Asterisk needs');
  const problems: string[] = [];
  if (!atxfer) problems.push('no attended-transfer code: add "atxfer => *2" under [featuremap] in features.conf (then "module reload features"), or phones\' *2 and AMI Atxfer fail with "No attended transfer feature code found"');
  if (!blindxfer) problems.push('no blind-transfer code: add "blindxfer => #1" under [featuremap] in features.conf');
  const dialOptions = options === undefined || options === '' ? DIALPLAN_DEFAULTS.KOMMO_DIAL_OPTIONS : options === 'none' ? '' : options;
  if (!/t/.test(dialOptions.replace(/\([^)]*\)/g, ''))) problems.push(`KOMMO_DIAL_OPTIONS is "${options}" without "t": the manager who answers an autodistributed call cannot transfer it`);
  if (problems.length) return warn(N_XFER, problems.join('; '));
  return ok(N_XFER, `attended ${atxfer}, blind ${blindxfer}, Dial options "${dialOptions}"`);
}

/** MixMonitor's directory (the dialplan's KOMMO_RECORDINGS_DIR) must be under recordings.dir, as the connector sees it. */
async function checkRecordingsDir(ami: CheckAmi, rec: CheckConfig['recordings']): Promise<CheckResult> {
  if (!rec) return ok(N_REC, 'not checked (no recordings settings)');
  if (!rec.enabled) return ok(N_REC, 'recording links off (recordings.enabled)');
  const [dirVar, recordVar] = await Promise.all([getvar(ami, 'KOMMO_RECORDINGS_DIR'), getvar(ami, 'KOMMO_RECORD')]);
  if (recordVar === 'no') return ok(N_REC, 'the bundled dialplan does not record (KOMMO_RECORD=no): recordings come from your own MixMonitor, which must write under recordings.dir');
  const asteriskDir = dirVar || DIALPLAN_DEFAULTS.KOMMO_RECORDINGS_DIR;
  const seen = path.resolve(mapAsteriskPath(asteriskDir, rec.asterisk_dir, rec.dir));
  const root = path.resolve(rec.dir);
  const how = dirVar ? `KOMMO_RECORDINGS_DIR=${dirVar}` : `KOMMO_RECORDINGS_DIR unset: the bundled default ${asteriskDir}`;
  if (seen === root || seen.startsWith(`${root}${path.sep}`)) return ok(N_REC, `MixMonitor writes into ${seen}, under recordings.dir ${root} (${how})`);
  return warn(
    N_REC,
    `MixMonitor writes into ${asteriskDir} (${how}), which is not under recordings.dir ${root}${rec.asterisk_dir ? ` (mapped through recordings.asterisk_dir ${rec.asterisk_dir}: ${seen})` : ''} — calls will be registered without a recording link: set recordings.dir to a parent of it, or recordings.asterisk_dir when Asterisk runs in a chroot or container`,
  );
}

// --- Kommo ---------------------------------------------------------------------------

function kommoFailure(err: unknown, config: CheckConfig['kommo']): string {
  const cred = config.long_lived_token ? 'kommo.long_lived_token' : 'kommo.oauth (refresh token, token file)';
  if (err instanceof KommoAuthError) {
    if (err.code === 'KOMMO_AUTH_FAILED') return `401 Unauthorized — check ${cred}`;
    if (err.code === 'KOMMO_NO_CREDENTIALS') return `no credentials — set kommo.long_lived_token or kommo.oauth`;
    return `${err.code}: ${err.message} — check ${cred}`;
  }
  if (err instanceof KommoUnreachableError) {
    return `cannot reach ${config.base_url} (${err.code}: ${err.message}) — check kommo.base_url and the network`;
  }
  if (err instanceof KommoError) {
    if (err.code === 'KOMMO_PAYMENT_REQUIRED') return `402 Payment Required — the Kommo account's paid period is over`;
    if (err.code === 'KOMMO_BLOCKED') return `403 — Kommo has blocked the account or this IP address (too many requests?)`;
    if (err.code === 'KOMMO_ABORTED') return `no answer from ${config.base_url} in time — check kommo.base_url and the network`;
    return `${err.code}: ${err.message}`;
  }
  return message(err);
}

function usersProblem(users: readonly User[], pbx: CheckConfig['pbx']): string[] {
  const byId = new Map(users.map((u) => [u.id, u]));
  const problems: string[] = [];
  const wanted: Array<[number, string]> = Object.entries(pbx.extensions).map(([ext, id]) => [id, `extension ${ext}`]);
  if (pbx.default_user_id !== undefined) wanted.push([pbx.default_user_id, 'pbx.default_user_id']);
  for (const [id, where] of wanted) {
    const u = byId.get(id);
    if (!u) problems.push(`user ${id} (${where}) does not exist in Kommo`);
    else if (u.rights?.is_active === false) problems.push(`user ${id} ${u.name} (${where}) is deactivated in Kommo`);
  }
  return problems;
}

async function checkKommo(opts: RunChecksOptions): Promise<CheckResult[]> {
  const timeoutMs = opts.kommoTimeoutMs ?? 15_000;
  const ro = () => ({ signal: AbortSignal.timeout(timeoutMs), retryBudgetMs: timeoutMs });
  const cfg = opts.config.kommo;
  try {
    const account = await opts.kommo.getAccount(ro());
    const results = [ok(N_TOKEN, `account ${account.subdomain || account.name} (id ${account.id})`)];
    const [fieldR, usersR] = await Promise.allSettled([assertPhoneField(opts.kommo, ro()), opts.kommo.listUsers(ro())]);
    if (fieldR.status === 'fulfilled') {
      results.push(ok(N_FIELD, `PHONE field ${fieldR.value.fieldId}, enum ${fieldR.value.enumCode} ${fieldR.value.enumId}`));
    } else {
      const err: unknown = fieldR.reason;
      const isMissing = err instanceof KommoError && err.code === 'KOMMO_PHONE_FIELD_MISSING';
      results.push(fail(N_FIELD, isMissing ? message(err) : kommoFailure(err, cfg), codeOf(err)));
    }
    if (usersR.status === 'fulfilled') {
      const problems = usersProblem(usersR.value, opts.config.pbx);
      const n = Object.keys(opts.config.pbx.extensions).length;
      if (problems.length) results.push(fail(N_USERS, `${problems.join('; ')} — fix pbx.extensions / pbx.default_user_id`));
      else results.push(ok(N_USERS, `${n} mapped user${n === 1 ? '' : 's'} active`));
    } else {
      const err: unknown = usersR.reason;
      const forbidden = err instanceof KommoError && err.code === 'KOMMO_FORBIDDEN';
      results.push(
        fail(
          N_USERS,
          forbidden ? 'the token cannot list users (403) — issue the token as an account administrator' : kommoFailure(err, cfg),
          codeOf(err),
        ),
      );
    }
    return results;
  } catch (err) {
    opts.logger.debug({ err }, 'check: Kommo token failed');
    return [fail(N_TOKEN, kommoFailure(err, cfg), codeOf(err)), skip(N_FIELD, 'the Kommo token check failed'), skip(N_USERS, 'the Kommo token check failed')];
  }
}

// --- customizations -------------------------------------------------------------------

async function checkHooks(hooks: Pick<HookRunner, 'check'> | undefined): Promise<CheckResult> {
  if (!hooks) return ok(N_HOOKS, 'not configured');
  try {
    const list = await hooks.check();
    const bad = list.filter((h) => !h.ok);
    if (bad.length) {
      const detail = bad.map((h) => `${h.hook} (${h.file}): ${h.error?.code ?? 'failed'} ${h.error?.message ?? ''}`.trim()).join('; ');
      return fail(N_HOOKS, `${detail} — fix or rename the file (a broken hook is skipped and the defaults are used)`, bad[0]?.error?.code);
    }
    return ok(N_HOOKS, list.length ? `${list.length} active: ${list.map((h) => h.hook).join(', ')}` : 'none active');
  } catch (err) {
    return fail(N_HOOKS, message(err), codeOf(err));
  }
}

export async function runChecks(opts: RunChecksOptions): Promise<CheckResult[]> {
  const [ami, kommo, hooks] = await Promise.all([checkAmis(opts), checkKommo(opts), checkHooks(opts.hooks)]);
  return [ok('Configuration', opts.configSource ? `valid: ${opts.configSource}` : 'valid'), ...ami, ...kommo, hooks];
}
