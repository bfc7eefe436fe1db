/** The configuration subsystem: load once at the root, pass the frozen result down. */
export { buildConfig, deepFreeze, formatConfigError, loadConfig, mergeDeep } from './load.js';
export type { BuildConfigOptions, ConfigOverrides, LoadConfigOptions } from './load.js';
export { ENV_BINDINGS, envVarFor } from './env.js';
export type { Env, EnvBinding } from './env.js';
export {
  HOOK_NAMES, LOG_LEVELS, configReference, describeValue, renderConfigReference, schema, validateConfig,
} from './validate.js';
export type { ConfigReferenceEntry, HookName, SchemaNode } from './validate.js';
export { DEFAULT_CONFIG_PATH, defaults } from './defaults.js';
export type * from './types.js';
export { AMI_NAME_PATTERN, amiSecretEnvName, amiServers, qualifiesCallIds, type AmiServer } from './ami.js';
