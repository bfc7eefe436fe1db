/**
 * Loading: read one JSON file, merge it over the defaults, apply the
 * environment, apply overrides, validate once, freeze.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { DEFAULT_CONFIG_PATH, defaults } from './defaults.js';
import { applyEnv, processEnv, type Env } from './env.js';
import type { Config, FrozenConfig } from './types.js';
import { validateConfig } from './validate.js';

/** A deep partial of the config, for overrides (CLI flags, tests). */
export type ConfigOverrides = { [K in keyof Config]?: DeepPartial<Config[K]> };
type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface LoadConfigOptions {
  /** The JSON file. Default `DEFAULT_CONFIG_PATH`. */
  path?: string;
  /** Environment to read secrets from. Default `process.env`. */
  env?: Env;
  /** Merged last, over file and environment. */
  overrides?: ConfigOverrides;
  /** False for a process that never connects to AMI (`agi`): ami.secret may then be unset. Default true. */
  amiRequired?: boolean;
}

export interface BuildConfigOptions {
  env?: Env;
  overrides?: ConfigOverrides;
  amiRequired?: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Deep-merge `source` into `target` (mutating and returning `target`): plain
 * objects merge key by key, everything else — arrays included — replaces.
 * `undefined` in `source` leaves the target alone.
 */
export function mergeDeep(target: Obj, source: Obj): Obj {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const current = target[key];
    if (isObj(value) && isObj(current)) mergeDeep(current, value);
    else target[key] = isObj(value) || Array.isArray(value) ? structuredClone(value) : value;
  }
  return target;
}

/** Freeze an object graph; returns it typed as read-only. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** JSON.parse with a message that names the line and column but never quotes the file. */
function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const message = (err as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    if (position === undefined && /end of (JSON )?input/i.test(message)) {
      throw new ConfigError([`config file "${path}" is not valid JSON (unexpected end of file)`]);
    }
    let where = '';
    if (position !== undefined) {
      const before = text.slice(0, Number(position));
      where = ` at line ${before.split('\n').length}, column ${Number(position) - before.lastIndexOf('\n')}`;
    }
    // The engine's message may quote the file's text (and a secret in it): keep only its first clause.
    const reason = (message.split(/[,"]/)[0] ?? '').replace(/ in JSON at position \d+.*/, '').trim() || 'syntax error';
    throw new ConfigError([`config file "${path}" is not valid JSON${where} (${reason})`]);
  }
}

function readConfigFile(path: string): Obj {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM' ? 'is not readable (permission denied)'
      : code === 'EISDIR' ? 'is a directory'
      : `cannot be read (${code ?? (err as Error).message})`;
    throw new ConfigError([`config file "${path}" ${why}`]);
  }
  const parsed = parseJson(text, path);
  if (!isObj(parsed)) throw new ConfigError([`config file "${path}" must contain a JSON object`]);
  return parsed;
}

/**
 * Build a validated, frozen config from an already-parsed file object: merge
 * over the defaults (deep, arrays replaced), apply the environment, then the
 * overrides, validate and deep-freeze. Throws `ConfigError` with every problem.
 */
export function buildConfig(file: Obj, { env = processEnv(), overrides, amiRequired = true }: BuildConfigOptions = {}): FrozenConfig {
  const merged = mergeDeep(structuredClone(defaults) as unknown as Obj, file);
  const origins = applyEnv(merged, env);
  if (overrides) {
    mergeDeep(merged, overrides as Obj);
    for (const key of origins.keys()) if (overridden(overrides as Obj, key)) origins.delete(key);
  }
  const { config, problems } = validateConfig(merged, origins, { amiRequired });
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function overridden(overrides: Obj, dotted: string): boolean {
  let cur: unknown = overrides;
  for (const part of dotted.split('.')) cur = isObj(cur) ? cur[part] : undefined;
  return cur !== undefined;
}

/**
 * Load the configuration: one JSON file (default `DEFAULT_CONFIG_PATH`), the
 * defaults, secrets from the environment, then `overrides`. Throws a
 * `ConfigError` listing every problem; a missing, unreadable or malformed
 * file is a single problem naming the path.
 */
export function loadConfig({ path = DEFAULT_CONFIG_PATH, env, overrides, amiRequired }: LoadConfigOptions = {}): FrozenConfig {
  return buildConfig(readConfigFile(path), { ...(env ? { env } : {}), ...(overrides ? { overrides } : {}), ...(amiRequired === undefined ? {} : { amiRequired }) });
}

/** For the CLI: a header and one line per problem, no stack. */
export function formatConfigError(err: unknown): string {
  if (err instanceof ConfigError) {
    const n = err.problems.length;
    return [`configuration is invalid (${n} problem${n === 1 ? '' : 's'}):`, ...err.problems.map((p) => `  - ${p}`)].join('\n');
  }
  return `configuration could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
}
