/**
 * Several Asterisk servers, one Kommo account (README, "Several Asterisk servers").
 * `ami` is one object (one server, named `pbx` unless told) or a non-empty list of
 * objects with unique names. Everything that talks to AMI asks `amiServers()`.
 */
import type { AmiConfig, DeepReadonly } from './types.js';

export type AmiServer = DeepReadonly<AmiConfig>;

/** A server name: it ends up in journal file names, log fields, metric labels and env names. */
export const AMI_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
export const AMI_NAME_EXPECT = 'a name of lowercase letters, digits, "-" and "_", starting with a letter (at most 32)';

/** The servers of a validated config, in configuration order (the object form is a list of one). */
export function amiServers(config: { readonly ami: AmiServer | readonly AmiServer[] }): readonly AmiServer[] {
  const ami = config.ami;
  return Array.isArray(ami) ? (ami as readonly AmiServer[]) : [ami as AmiServer];
}

/**
 * Whether journal ids (and Kommo `uniq`s) carry the server name: only with several
 * servers, so that a single-server deployment keeps the ids it always had.
 */
export function qualifiesCallIds(config: { readonly ami: AmiServer | readonly AmiServer[] }): boolean {
  return amiServers(config).length > 1;
}

/** The environment variable holding one server's AMI password when there are several: `AMI_SECRET_<NAME>`. */
export function amiSecretEnvName(name: string): string {
  return `AMI_SECRET_${name.toUpperCase().replace(/-/g, '_')}`;
}
