/**
 * The one module that reads environment variables. Secrets (and a few
 * deployment settings) may come from the environment instead of the config
 * file; the environment wins over the file, command-line overrides win over
 * the environment. An empty variable counts as unset.
 */

import { amiSecretEnvName } from './ami.js';

/** The origins key under which an `AMI_SECRET` that fits no single server is recorded. */
export const AMBIGUOUS_AMI_SECRET = 'ami[].secret';

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvBinding {
  /** Environment variable name. */
  readonly name: string;
  /** Config keys it sets (dotted paths). */
  readonly keys: readonly string[];
  readonly description: string;
}

/** Every environment variable the connector reads. */
export const ENV_BINDINGS: readonly EnvBinding[] = [
  { name: 'KOMMO_LONG_LIVED_TOKEN', keys: ['kommo.long_lived_token'], description: 'Kommo long-lived token' },
  {
    name: 'KOMMO_CLIENT_SECRET',
    keys: ['kommo.oauth.client_secret', 'http.widget_secret'],
    description:
      'Kommo integration secret: sets kommo.oauth.client_secret when kommo.oauth is configured, and http.widget_secret when that is not set',
  },
  { name: 'KOMMO_REFRESH_TOKEN', keys: ['kommo.oauth.refresh_token'], description: 'seed OAuth refresh token' },
  {
    name: 'AMI_SECRET',
    keys: ['ami.secret'],
    description: 'AMI password of the one server (`ami` an object or a one-item list); with several servers use AMI_SECRET_<NAME>',
  },
  {
    name: 'AMI_SECRET_<NAME>',
    // Sets ami[i].secret of one listed server: documented with ami.secret (no reference row of its own).
    keys: [],
    description: 'AMI password of the server named <name> when `ami` lists several (the name upper-cased, "-" as "_", e.g. AMI_SECRET_BRANCH_A)',
  },
  { name: 'KA_HTTP_SECRET', keys: ['http.secret'], description: "shared secret of the connector's HTTP endpoints" },
  { name: 'KA_DATA_DIR', keys: ['data_dir'], description: 'data directory' },
  { name: 'KA_LOG_LEVEL', keys: ['log.level'], description: 'log level' },
];

/** The environment variable that can set a config key, if any. */
export function envVarFor(key: string): string | undefined {
  return ENV_BINDINGS.find((b) => b.keys.includes(key))?.name;
}

/**
 * AMI passwords: `AMI_SECRET` is the one server's (object form or a one-item list);
 * with several servers each takes `AMI_SECRET_<NAME>`, and `AMI_SECRET` is recorded
 * under AMBIGUOUS_AMI_SECRET so that validation reports it (never guessed).
 */
function applyAmiSecrets(
  config: Obj,
  env: Env,
  amiSecret: string | undefined,
  set: (obj: Obj, key: string, path: string, name: string, value: string) => void,
  origins: Map<string, string>,
): void {
  const ami = config['ami'];
  if (!Array.isArray(ami)) {
    if (amiSecret !== undefined) set(child(config, 'ami'), 'secret', 'ami.secret', 'AMI_SECRET', amiSecret);
    return;
  }
  if (ami.length === 1 && isObj(ami[0])) {
    if (amiSecret !== undefined) set(ami[0], 'secret', 'ami[0].secret', 'AMI_SECRET', amiSecret);
    return;
  }
  if (amiSecret !== undefined) origins.set(AMBIGUOUS_AMI_SECRET, 'AMI_SECRET');
  ami.forEach((server: unknown, i) => {
    if (!isObj(server) || typeof server['name'] !== 'string') return;
    const name = amiSecretEnvName(server['name']);
    const value = get(env, name);
    if (value !== undefined) set(server, 'secret', `ami[${i}].secret`, name, value);
  });
}

/** The process environment — the only place `process.env` is touched. */
export function processEnv(): Env {
  return process.env;
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(parent: Obj, key: string): Obj {
  const existing = parent[key];
  if (isObj(existing)) return existing;
  const created: Obj = {};
  parent[key] = created;
  return created;
}

function get(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Apply the environment to a merged (defaults + file) config object, in
 * place. Returns which config keys were set, and from which variable, so that
 * validation messages can say where a bad value came from.
 *
 * `KOMMO_REFRESH_TOKEN` creates `kommo.oauth` if needed (validation then asks
 * for the rest of the OAuth settings); `KOMMO_CLIENT_SECRET` sets
 * `kommo.oauth.client_secret` only when `kommo.oauth` exists, because the same
 * secret is also the widget secret of installations that use a long-lived token.
 */
export function applyEnv(config: Obj, env: Env): Map<string, string> {
  const origins = new Map<string, string>();
  const set = (obj: Obj, key: string, path: string, name: string, value: string): void => {
    obj[key] = value;
    origins.set(path, name);
  };

  const token = get(env, 'KOMMO_LONG_LIVED_TOKEN');
  const clientSecret = get(env, 'KOMMO_CLIENT_SECRET');
  const refreshToken = get(env, 'KOMMO_REFRESH_TOKEN');
  const amiSecret = get(env, 'AMI_SECRET');
  const httpSecret = get(env, 'KA_HTTP_SECRET');
  const dataDir = get(env, 'KA_DATA_DIR');
  const logLevel = get(env, 'KA_LOG_LEVEL');

  if (token !== undefined || clientSecret !== undefined || refreshToken !== undefined) {
    const kommo = child(config, 'kommo');
    if (token !== undefined) set(kommo, 'long_lived_token', 'kommo.long_lived_token', 'KOMMO_LONG_LIVED_TOKEN', token);
    if (refreshToken !== undefined) {
      set(child(kommo, 'oauth'), 'refresh_token', 'kommo.oauth.refresh_token', 'KOMMO_REFRESH_TOKEN', refreshToken);
    }
    if (clientSecret !== undefined) {
      if (isObj(kommo['oauth'])) {
        set(kommo['oauth'], 'client_secret', 'kommo.oauth.client_secret', 'KOMMO_CLIENT_SECRET', clientSecret);
      }
      const http = child(config, 'http');
      if (http['widget_secret'] === undefined || http['widget_secret'] === null || http['widget_secret'] === '') {
        set(http, 'widget_secret', 'http.widget_secret', 'KOMMO_CLIENT_SECRET', clientSecret);
      }
    }
  }
  applyAmiSecrets(config, env, amiSecret, set, origins);
  if (httpSecret !== undefined) set(child(config, 'http'), 'secret', 'http.secret', 'KA_HTTP_SECRET', httpSecret);
  if (dataDir !== undefined) set(config, 'data_dir', 'data_dir', 'KA_DATA_DIR', dataDir);
  if (logLevel !== undefined) set(child(config, 'log'), 'level', 'log.level', 'KA_LOG_LEVEL', logLevel);
  return origins;
}
