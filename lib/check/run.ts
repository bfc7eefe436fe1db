/**
 * `check` (SPEC section 7): verifies what the connector needs before it runs —
 * AMI login, every mapped extension known to Asterisk, the Kommo token, the
 * PHONE/WORK contact field, every mapped Kommo user present and active, and
 * the customizations loading — and says what is wrong and how to fix it.
 * The configuration itself was validated when it was loaded (its problems
 * never get this far). AMI and Kommo are checked at the same time; results
 * come back in a fixed order. Every check has a deadline; nothing here throws.
 */
import type { Logger } from 'pino';
import type { AmiClient } from '../ami/client.js';
import { isAmiError } from '../ami/errors.js';
import { field } from '../ami/events.js';
import type { AmiConfig, DeepReadonly, KommoConfig, PbxConfig } from '../config/types.js';
import type { HookRunner } from '../hooks/loader.js';
import { KommoAuthError, KommoError, KommoUnreachableError, type KommoClient, type User } from '../kommo/index.js';
import { assertPhoneField } from './phone-field.js';
import type { CheckResult } from './types.js';

export type CheckAmi = Pick<AmiClient, 'connect' | 'actionList' | 'close' | 'destroy'>;
export type CheckKommo = Pick<KommoClient, 'getAccount' | 'listUsers' | 'findPhoneField'>;

export interface CheckConfig {
  readonly ami: DeepReadonly<AmiConfig>;
  readonly kommo: DeepReadonly<Pick<KommoConfig, 'base_url' | 'long_lived_token' | 'oauth' | 'phone_enum'>>;
  readonly pbx: DeepReadonly<Pick<PbxConfig, 'extensions' | 'default_user_id'>>;
  /** Technology of the employees' phones (suggested key `originate.channel_tech`, default PJSIP). */
  readonly originate?: { readonly channel_tech?: string };
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

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function codeOf(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

// --- AMI -------------------------------------------------------------------------

function amiFailure(err: unknown, c: DeepReadonly<AmiConfig>): string {
  const where = `${c.host}:${c.port}`;
  if (isAmiError(err, 'AMI_LOGIN_FAILED')) {
    return `Asterisk refused user "${c.username}" at ${where} — check ami.username and ami.secret (env AMI_SECRET) against manager.conf, and the user's permit/deny`;
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

async function checkAmi(opts: RunChecksOptions): Promise<CheckResult[]> {
  const c = opts.config.ami;
  let ami: CheckAmi;
  try {
    ami = opts.amiFactory(c);
  } catch (err) {
    return [fail(N_AMI, message(err), codeOf(err)), skip(N_EXT, 'no AMI')];
  }
  try {
    try {
      await ami.connect();
    } catch (err) {
      opts.logger.debug({ err }, 'check: AMI login failed');
      return [fail(N_AMI, amiFailure(err, c), codeOf(err)), skip(N_EXT, 'the AMI login failed')];
    }
    const results = [ok(N_AMI, `${c.host}:${c.port} as ${c.username}`)];
    const mapped = Object.keys(opts.config.pbx.extensions).sort();
    const tech = opts.config.originate?.channel_tech ?? 'PJSIP';
    if (mapped.length === 0) {
      results.push(fail(N_EXT, 'pbx.extensions is empty — map each extension to its Kommo user id, e.g. {"101": 5001}'));
      return results;
    }
    const known = await listEndpoints(ami, tech);
    if (typeof known === 'string') {
      results.push(fail(N_EXT, known));
      return results;
    }
    const missing = mapped.filter((ext) => !known.has(ext));
    if (missing.length) {
      results.push(
        fail(
          N_EXT,
          `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not ${tech} endpoint${missing.length === 1 ? '' : 's'} in Asterisk — ` +
            `fix pbx.extensions or the ${tech === 'PJSIP' ? 'pjsip.conf' : 'sip.conf'} endpoints (the endpoint name must be the extension)`,
        ),
      );
    } else results.push(ok(N_EXT, `${mapped.length} mapped: ${mapped.join(', ')}`));
    return results;
  } finally {
    ami.destroy();
  }
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
  const [ami, kommo, hooks] = await Promise.all([checkAmi(opts), checkKommo(opts), checkHooks(opts.hooks)]);
  return [ok('Configuration', opts.configSource ? `valid: ${opts.configSource}` : 'valid'), ...ami, ...kommo, hooks];
}
