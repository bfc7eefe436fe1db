import t from 'tap';
import { renderMetrics } from '../../lib/adapters/http/metrics.js';
import { parseRange } from '../../lib/adapters/http/range.js';
import { overallStatus, uptimeSeconds } from '../../lib/adapters/http/status.js';
import { snapshot } from './fixtures/helpers.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

t.test('overallStatus', async (t) => {
  t.same(overallStatus(snapshot(), NOW), { app: 'Ok', reasons: [] });
  t.equal(overallStatus(snapshot({ ami: { connected: false } }), NOW).app, 'Error');
  t.equal(overallStatus(snapshot({ kommo: { ...snapshot().kommo, reachable: false } }), NOW).app, 'Error');
  t.equal(overallStatus(snapshot({ kommo: { ...snapshot().kommo, authorized: false } }), NOW).app, 'Error');
  t.equal(overallStatus(snapshot({ registration: { ...snapshot().registration, pending: 1000 } }), NOW).app, 'Error');
  t.equal(overallStatus(snapshot({ registration: { ...snapshot().registration, pending: 50 } }), NOW).app, 'Warning');
  t.equal(overallStatus(snapshot({ registration: { ...snapshot().registration, failed: 2 } }), NOW).app, 'Warning');
  t.equal(overallStatus(snapshot({ kommo: { ...snapshot().kommo, rate_used: 0.95 } }), NOW).app, 'Warning');
  const recent = { at: '2025-06-01T11:58:00Z', component: 'kommo', code: 'KOMMO_5XX', message: 'Kommo answered 502' };
  const old = { ...recent, at: '2025-06-01T10:00:00Z' };
  t.equal(overallStatus(snapshot({ last_errors: [recent] }), NOW).app, 'Warning');
  t.equal(overallStatus(snapshot({ last_errors: [old] }), NOW).app, 'Ok');
  const both = overallStatus(snapshot({ ami: { connected: false }, registration: { ...snapshot().registration, failed: 1 } }), NOW);
  t.equal(both.app, 'Error');
  t.same(both.reasons, ['AMI is not connected', '1 calls failed to register']);
});

t.test('uptime', async (t) => {
  t.equal(uptimeSeconds(snapshot(), NOW), 3600);
  t.equal(uptimeSeconds({ started_at: 'garbage' }, NOW), 0);
});

t.test('metrics: Prometheus text format', async (t) => {
  const text = renderMetrics(snapshot({ agi: { answers: { found: 10, 'we"ird\\': 1 } }, recordings: { linked_total: 3, converted_total: 2, conversion_failed_total: 1, missing_total: 0 } }), NOW);
  t.ok(text.endsWith('\n'));
  const lines = text.trim().split('\n');
  for (const line of lines) {
    t.match(line, /^(# (HELP|TYPE) kommo_asterisk_[a-z_]+ .+|kommo_asterisk_[a-z_]+(\{[a-z_]+="(?:[^"\\]|\\.)*"(,[a-z_]+="(?:[^"\\]|\\.)*")*\})? -?[0-9.e+]+)$/, line);
  }
  t.match(text, /^kommo_asterisk_status 0$/m);
  t.match(text, /^kommo_asterisk_uptime_seconds 3600$/m);
  t.match(text, /^kommo_asterisk_ami_connected 1$/m);
  t.match(text, /^# TYPE kommo_asterisk_kommo_rate_limited_total counter$/m);
  t.match(text, /^kommo_asterisk_kommo_rate_limited_total 1$/m);
  t.match(text, /^kommo_asterisk_calls_registered_total 40$/m);
  t.match(text, /^kommo_asterisk_calls_pending 0$/m);
  t.match(text, /^kommo_asterisk_agi_answers_total\{status="found"\} 10$/m);
  t.match(text, /^kommo_asterisk_agi_answers_total\{status="we\\"ird\\\\"\} 1$/m);
  t.match(text, /^kommo_asterisk_recordings_converted_total 2$/m);
  t.notMatch(text, /notifications/, 'no popup metrics without the bridge');
  const withPopups = renderMetrics(snapshot({ notifications: { sent_total: 12, failed_total: 1, late_total: 3, dropped_total: 0, latency_p99_ms: 41 } }), NOW);
  t.match(withPopups, /^# TYPE kommo_asterisk_notifications_total counter$/m);
  t.match(withPopups, /^kommo_asterisk_notifications_total\{outcome="sent"\} 12$/m);
  t.match(withPopups, /^kommo_asterisk_notifications_total\{outcome="failed"\} 1$/m);
  t.match(withPopups, /^kommo_asterisk_notifications_total\{outcome="late"\} 3$/m);
  t.match(withPopups, /^kommo_asterisk_notifications_total\{outcome="dropped"\} 0$/m);
  t.match(withPopups, /^kommo_asterisk_notification_latency_p99_ms 41$/m);
  const down = renderMetrics(snapshot({ ami: { connected: false } }), NOW);
  t.match(down, /^kommo_asterisk_ami_connected 0$/m);
  t.match(down, /^kommo_asterisk_status 2$/m);
});

t.test('parseRange', async (t) => {
  t.same(parseRange(undefined, 100), { kind: 'none' });
  t.same(parseRange('bytes=0-9', 100), { kind: 'range', start: 0, end: 9 });
  t.same(parseRange('bytes=90-', 100), { kind: 'range', start: 90, end: 99 });
  t.same(parseRange('bytes=-10', 100), { kind: 'range', start: 90, end: 99 });
  t.same(parseRange('bytes=-1000', 100), { kind: 'range', start: 0, end: 99 });
  t.same(parseRange('bytes=50-5000', 100), { kind: 'range', start: 50, end: 99 });
  t.same(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=9-1', 100), { kind: 'none' });
  t.same(parseRange('bytes=0-1,5-6', 100), { kind: 'none' });
  t.same(parseRange('items=0-1', 100), { kind: 'none' });
  t.same(parseRange('bytes=-', 100), { kind: 'none' });
});

t.test('several AMI servers: status names the one down, metrics carry a server label', async (t) => {
  const servers = [{ name: 'east', connected: true }, { name: 'west', connected: false }];
  const s = snapshot({ ami: { connected: false, servers } });
  t.same(overallStatus(s, NOW), { app: 'Error', reasons: ['AMI of server "west" is not connected'] });
  const text = renderMetrics(s, NOW);
  t.match(text, /^kommo_asterisk_ami_connected\{server="east"\} 1$/m);
  t.match(text, /^kommo_asterisk_ami_connected\{server="west"\} 0$/m);
  t.notMatch(text, /^kommo_asterisk_ami_connected 0$/m);
  const up = snapshot({ ami: { connected: true, servers: [{ name: 'pbx', connected: true }] } });
  t.same(overallStatus(up, NOW), { app: 'Ok', reasons: [] });
  t.match(renderMetrics(up, NOW), /^kommo_asterisk_ami_connected\{server="pbx"\} 1$/m);
  t.same(overallStatus(snapshot({ ami: { connected: true, servers: [{ name: 'pbx', connected: false }] } }), NOW).reasons, ['AMI is not connected'], 'one server: the message it always had');
});
