/**
 * `GET /metrics`: the status snapshot in Prometheus' text exposition format
 * (version 0.0.4). Counters end in `_total`; gauges are current values.
 */
import { overallStatus, uptimeSeconds, type StatusSnapshot, type StatusThresholds, DEFAULT_THRESHOLDS } from './status.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const P = 'kommo_asterisk_';

interface Sample {
  labels?: Record<string, string>;
  value: number;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function sanitizeLabelValue(value: string): string {
  return escapeLabel(value.slice(0, 100));
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function metric(out: string[], name: string, type: 'counter' | 'gauge', help: string, samples: Sample[] | number): void {
  out.push(`# HELP ${P}${name} ${help}`, `# TYPE ${P}${name} ${type}`);
  const list = typeof samples === 'number' ? [{ value: samples }] : samples;
  for (const s of list) {
    const labels = s.labels && Object.keys(s.labels).length > 0
      ? `{${Object.entries(s.labels).map(([k, v]) => `${k}="${sanitizeLabelValue(v)}"`).join(',')}}`
      : '';
    out.push(`${P}${name}${labels} ${formatValue(s.value)}`);
  }
}

const STATUS_VALUE = { Ok: 0, Warning: 1, Error: 2 } as const;

export function renderMetrics(s: StatusSnapshot, nowMs: number, thresholds: StatusThresholds = DEFAULT_THRESHOLDS): string {
  const out: string[] = [];
  const overall = overallStatus(s, nowMs, thresholds);
  metric(out, 'status', 'gauge', 'Overall status: 0 Ok, 1 Warning, 2 Error.', STATUS_VALUE[overall.app]);
  metric(out, 'uptime_seconds', 'gauge', 'Seconds since the connector started.', uptimeSeconds(s, nowMs));
  const servers = s.ami.servers ?? [];
  metric(out, 'ami_connected', 'gauge', 'AMI connection up (1) or down (0), by Asterisk server.',
    servers.length > 0 ? servers.map((x) => ({ labels: { server: x.name }, value: x.connected ? 1 : 0 })) : s.ami.connected ? 1 : 0);
  if (s.ami.reconnects_total !== undefined) metric(out, 'ami_reconnects_total', 'counter', 'AMI reconnections since start.', s.ami.reconnects_total);
  metric(out, 'kommo_reachable', 'gauge', 'Kommo answered the last request (1) or not (0).', s.kommo.reachable ? 1 : 0);
  metric(out, 'kommo_rate_used_ratio', 'gauge', 'Share of the Kommo rate limit in use, 0 to 1.', s.kommo.rate_used);
  metric(out, 'kommo_requests_total', 'counter', 'Requests sent to Kommo.', s.kommo.requests_total);
  metric(out, 'kommo_rate_limited_total', 'counter', 'Kommo 429 answers.', s.kommo.rate_limited_total);
  if (s.kommo.errors_total !== undefined) metric(out, 'kommo_errors_total', 'counter', 'Kommo requests that failed.', s.kommo.errors_total);
  metric(out, 'calls_pending', 'gauge', 'Calls stored and waiting to be registered.', s.registration.pending);
  metric(out, 'calls_failed', 'gauge', 'Calls given up and kept for re-processing.', s.registration.failed);
  metric(out, 'calls_registered_total', 'counter', 'Calls registered in Kommo.', s.registration.registered_total);
  metric(out, 'calls_failed_total', 'counter', 'Calls that failed to register.', s.registration.failed_total);
  const answers = Object.entries(s.agi.answers).sort(([a], [b]) => a.localeCompare(b));
  metric(out, 'agi_answers_total', 'counter', 'Autodistribution answers by status.', answers.map(([status, value]) => ({ labels: { status }, value })));
  if (s.agi.active_connections !== undefined) metric(out, 'agi_active_connections', 'gauge', 'FastAGI connections in progress.', s.agi.active_connections);
  if (s.notifications) {
    const n = s.notifications;
    metric(out, 'notifications_total', 'counter', 'Incoming-call popups by outcome: sent (Kommo accepted), failed, late (the phone stopped ringing first), dropped (too many under way).', [
      { labels: { outcome: 'sent' }, value: n.sent_total },
      { labels: { outcome: 'failed' }, value: n.failed_total },
      { labels: { outcome: 'late' }, value: n.late_total },
      { labels: { outcome: 'dropped' }, value: n.dropped_total },
    ]);
    metric(out, 'notification_latency_p99_ms', 'gauge', 'Ring to Kommo\'s answer of a popup, 99th percentile of the last 1000, ms.', n.latency_p99_ms);
  }
  metric(out, 'hooks_active', 'gauge', 'Customization hooks switched on.', s.hooks.active.length);
  if (s.hooks.errors_total !== undefined) metric(out, 'hook_errors_total', 'counter', 'Customization runs that failed.', s.hooks.errors_total);
  if (s.recordings) {
    metric(out, 'recordings_linked_total', 'counter', 'Recording links made.', s.recordings.linked_total);
    metric(out, 'recordings_converted_total', 'counter', 'Recordings converted to mp3.', s.recordings.converted_total);
    metric(out, 'recordings_conversion_failed_total', 'counter', 'Conversions that failed or timed out (original used).', s.recordings.conversion_failed_total);
    metric(out, 'recordings_missing_total', 'counter', 'Calls whose recording was not found.', s.recordings.missing_total);
  }
  const peer = Object.entries(s.peer_errors ?? {}).flatMap(([source, codes]) => Object.entries(codes).map(([code, value]) => ({ labels: { source, code }, value })));
  if (peer.length > 0) metric(out, 'peer_errors_total', 'counter', 'Errors caused by peers (malformed FastAGI sessions, refused connections, HTTP client errors), by source and code.', peer);
  return `${out.join('\n')}\n`;
}
