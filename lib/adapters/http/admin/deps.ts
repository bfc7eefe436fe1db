/**
 * What the admin panel needs, built in bin/ (compose) from the running parts. Every
 * member is read-only but the three actions (`retryFailed`, `reprocess`), which are
 * the same domain calls the `retry-failed` and `reprocess` commands make.
 */
import type { CallFull } from '../../../domain/call/types.js';
import type { CallRecord } from '../../../domain/registration/types.js';
import type { ReprocessSummary } from '../../../domain/reprocess/reprocess.js';
import type { StatusSnapshot } from '../status.js';

export interface KommoUserInfo {
  id: number;
  name: string;
  active: boolean;
}

export interface TokenInfo {
  kind: 'long-lived' | 'oauth';
  /** OAuth: when the stored pair was last rotated (Unix ms), when the access token expires. */
  rotatedAt?: number;
  expiresAt?: number;
  /** The token file could not be read (its message, never its content). */
  problem?: string;
}

export interface HookInfo {
  hook: string;
  active: boolean;
  /** The last failure of this hook seen by `check()` (code and message). */
  error?: { code: string; message: string };
}

export interface AdminDeps {
  status(): StatusSnapshot | Promise<StatusSnapshot>;
  /** Calls the tracker follows now, as call_full. */
  liveCalls(): CallFull[];
  journal: {
    /** Records whose call started in [from, to). */
    listByPeriod(from: number, to: number): Promise<CallRecord[]>;
    get(id: string): Promise<CallRecord | undefined>;
    /** Call start times (Unix ms) in [from, to), without reading the records (the chart). */
    startTimes(from: number, to: number): number[];
  };
  /** Failed record(s) back to pending (all without id); the ids queued. */
  retryFailed(id?: string): Promise<string[]>;
  /** Re-process [from, to) from the CDR file; dryRun lists only. */
  reprocess(opts: { from: number; to: number; dryRun: boolean }): Promise<ReprocessSummary>;
  /** Kommo's users (may throw when Kommo is unreachable). */
  kommoUsers(): Promise<KommoUserInfo[]>;
  token(): Promise<TokenInfo>;
  hooks(): Promise<HookInfo[]>;
  /** extension → Kommo user id. */
  extensions: Readonly<Record<string, number>>;
  /** The configuration, secrets already replaced (redact). */
  config: unknown;
  /** https://<subdomain>.kommo.com, for links to contacts and leads. */
  kommoBaseUrl: string;
}
