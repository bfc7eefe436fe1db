/**
 * The status page's data: a snapshot of every component, assembled at the
 * composition root (bin/) from the AMI client, the Kommo client, the registration
 * store, the AGI server and the hook runner, and the pure `overallStatus` that turns
 * it into `Ok | Warning | Error` with the reasons. `GET /api/v1/status` answers
 * `{ app, reasons, uptime_seconds, ...snapshot }`; `GET /metrics` renders the same
 * snapshot for Prometheus (./metrics.ts).
 */

export type AppStatus = 'Ok' | 'Warning' | 'Error';

export interface ComponentError {
  /** ISO time. */
  at: string;
  /** `ami`, `kommo`, `registration`, `agi`, `hooks`, `recordings` … */
  component: string;
  code: string;
  message: string;
}

export interface StatusSnapshot {
  /** ISO time the process started. */
  started_at: string;
  version?: string;
  ami: {
    /** Every AMI server is connected. */
    connected: boolean;
    /** ISO time of the last (dis)connection. */
    since?: string;
    reconnects_total?: number;
    /** Each Asterisk server's connection (`ami[].name`), in configuration order. */
    servers?: Array<{ name: string; connected: boolean }>;
  };
  kommo: {
    /** The last request reached Kommo (any HTTP answer counts; a network error does not). */
    reachable: boolean;
    /** False when Kommo refuses the token (401 after a refresh, 402, 403 block). */
    authorized?: boolean;
    /** Share of the rate limit used over the last second or so, 0 … 1. */
    rate_used: number;
    requests_total: number;
    /** 429 answers. */
    rate_limited_total: number;
    errors_total?: number;
  };
  registration: {
    /** Calls stored and waiting to be (re)sent. */
    pending: number;
    /** Calls given up after their attempts (kept in the store for re-processing). */
    failed: number;
    registered_total: number;
    failed_total: number;
  };
  agi: {
    /** Answers by status: found, not_found, timeout, error … */
    answers: Record<string, number>;
    active_connections?: number;
  };
  /** Incoming-call popups (`POST /api/v2/events`), when the bridge runs. */
  notifications?: {
    sent_total: number;
    failed_total: number;
    /** Given up because the phone stopped ringing first. */
    late_total: number;
    dropped_total: number;
    /** Ring → Kommo's answer, 99th percentile of the last 1000, ms. */
    latency_p99_ms: number;
  };
  hooks: {
    /** Hooks whose file exists, in hook-number order. */
    active: string[];
    /** Hook runs that failed (throw, timeout, bad data), since start. */
    errors_total?: number;
  };
  recordings?: {
    linked_total: number;
    converted_total: number;
    conversion_failed_total: number;
    missing_total: number;
  };
  /** The most recent errors, newest first (a few). */
  last_errors: ComponentError[];
  /** Errors caused by peers (malformed FastAGI sessions, HTTP clients' mistakes …): source → code → count since start. */
  peer_errors?: Record<string, Readonly<Record<string, number>>>;
}

export interface StatusThresholds {
  /** Pending registrations at or above this → Warning (default 50). */
  pendingWarning: number;
  /** … and at or above this → Error (default 1000). */
  pendingError: number;
  /** Rate-limit use at or above this → Warning (default 0.9). */
  rateWarning: number;
  /** An error younger than this (ms) → Warning (default 5 minutes). */
  recentErrorMs: number;
}

export const DEFAULT_THRESHOLDS: StatusThresholds = {
  pendingWarning: 50,
  pendingError: 1000,
  rateWarning: 0.9,
  recentErrorMs: 5 * 60_000,
};

export interface OverallStatus {
  app: AppStatus;
  /** Why the status is not Ok, one short sentence each. */
  reasons: string[];
}

/**
 * Error: AMI disconnected, Kommo unreachable or refusing the token, or the pending
 * queue past `pendingError` — calls are not being registered.
 * Warning: failed registrations, a growing queue, the rate limit nearly used, a
 * recent error — the connector works, someone should look.
 */
export function overallStatus(snapshot: StatusSnapshot, nowMs: number, thresholds: StatusThresholds = DEFAULT_THRESHOLDS): OverallStatus {
  const errors: string[] = [];
  const warnings: string[] = [];
  const servers = snapshot.ami.servers ?? [];
  const down = servers.filter((x) => !x.connected);
  if (servers.length > 1) {
    for (const x of down) errors.push(`AMI of server "${x.name}" is not connected`);
  } else if (!snapshot.ami.connected || down.length > 0) {
    errors.push('AMI is not connected');
  }
  if (!snapshot.kommo.reachable) errors.push('Kommo is not reachable');
  if (snapshot.kommo.authorized === false) errors.push('Kommo refuses the token');
  const { pending, failed } = snapshot.registration;
  if (pending >= thresholds.pendingError) errors.push(`${pending} calls are waiting to be registered`);
  else if (pending >= thresholds.pendingWarning) warnings.push(`${pending} calls are waiting to be registered`);
  if (failed > 0) warnings.push(`${failed} calls failed to register`);
  if (snapshot.kommo.rate_used >= thresholds.rateWarning) warnings.push(`Kommo rate limit ${Math.round(snapshot.kommo.rate_used * 100)}% used`);
  const recent = snapshot.last_errors.filter((e) => {
    const at = Date.parse(e.at);
    return Number.isFinite(at) && nowMs - at < thresholds.recentErrorMs;
  });
  if (recent.length > 0) warnings.push(`${recent.length} error(s) in the last ${Math.round(thresholds.recentErrorMs / 60_000)} min`);
  if (errors.length > 0) return { app: 'Error', reasons: [...errors, ...warnings] };
  if (warnings.length > 0) return { app: 'Warning', reasons: warnings };
  return { app: 'Ok', reasons: [] };
}

/** Seconds since `started_at` (0 when it cannot be read). */
export function uptimeSeconds(snapshot: Pick<StatusSnapshot, 'started_at'>, nowMs: number): number {
  const started = Date.parse(snapshot.started_at);
  return Number.isFinite(started) ? Math.max(0, Math.floor((nowMs - started) / 1000)) : 0;
}
