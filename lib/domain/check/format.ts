/**
 * Printing `check` results, one line each, and the CLI's exit code:
 *
 *   ok    AMI login (127.0.0.1:5038 as kommo)
 *   FAIL  Kommo token: 401 Unauthorized — check kommo.long_lived_token
 *   skip  Kommo users: not checked (the Kommo token check failed)
 *   WARN  Transfers: no attended-transfer code in features.conf …
 */
import type { CheckResult } from './types.js';

const TAG_WIDTH = 6;

export function formatCheck(r: CheckResult): string {
  if (r.ok && r.warning) return `${'WARN'.padEnd(TAG_WIDTH)}${r.name}: ${r.detail}`;
  if (r.ok) return `${'ok'.padEnd(TAG_WIDTH)}${r.name}${r.detail ? ` (${r.detail})` : ''}`;
  const tag = r.skipped ? 'skip' : 'FAIL';
  return `${tag.padEnd(TAG_WIDTH)}${r.name}${r.detail ? `: ${r.detail}` : ''}`;
}

/** One line per check, newline-terminated. */
export function formatChecks(results: readonly CheckResult[]): string {
  return results.map((r) => `${formatCheck(r)}\n`).join('');
}

/** 0 when every check passed, 1 otherwise (a skipped check counts as not passed). */
export function exitCodeFor(results: readonly CheckResult[]): number {
  return results.every((r) => r.ok) ? 0 : 1;
}
