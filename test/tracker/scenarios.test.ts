// Table-driven: AMI event sequences recorded from the real Asterisk 22
// (test/fixtures/ami) — hand-written ones (test/tracker/hand) only where no
// recording exists — replayed through the pure reducer.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAmiStream } from '../../lib/protocol/ami/parser.js';
import { normalizeEvent } from '../../lib/protocol/ami/events.js';
import type { ChannelType, CallFull } from '../../lib/domain/call/types.js';
import { callDirection, clientNumber, employeeConversation, isMissed, lastConversationDuration } from '../../lib/domain/call/facts.js';
import type { StageEffect } from '../../lib/domain/tracker/types.js';
import { loadScenario, RECORDED_DIR, recordedScenarios, replay, rewriteIds } from './replay.js';

interface Row {
  name: string;
  stages: string[];
  type: ChannelType;
  result: number;
  conversations: number;
  /** Extension of the employee who answered last, or null. */
  answeredBy: string | null;
  /** employeeConversation(): who talked last, else whose phone rang last. */
  employee: string | null;
  client: string;
  is_ivr: boolean;
  merged?: number;
  /** Kommo user id of the employee conversation's user; default: pbx.extensions' (1000 + ext - 100). */
  userId?: number;
  /** Ring-all: phones ringing (or hanging up) together may be reported in either order. */
  ringAll?: true;
}

const IN = '79991234567';
const OUT = '79990001122';
const ROWS: Row[] = [
  { name: 'inbound-answered', stages: ['requested 101', 'accepted 101', 'ended 101', 'call_ended'], type: 'incoming', result: 200, conversations: 1, answeredBy: '101', employee: '101', client: IN, is_ivr: false },
  { name: 'inbound-noanswer', stages: ['requested 101', 'ended 101', 'call_ended'], type: 'incoming', result: 480, conversations: 1, answeredBy: null, employee: '101', client: IN, is_ivr: false },
  { name: 'inbound-busy', stages: ['requested 101', 'ended 101', 'call_ended'], type: 'incoming', result: 486, conversations: 1, answeredBy: null, employee: '101', client: IN, is_ivr: false },
  { name: 'inbound-cancel', stages: ['requested 101', 'ended 101', 'call_ended'], type: 'incoming', result: 487, conversations: 1, answeredBy: null, employee: '101', client: IN, is_ivr: false },
  { name: 'ringgroup-answered', ringAll: true, stages: ['requested 102', 'requested 103', 'accepted 103', 'ended 102', 'ended 103', 'call_ended'], type: 'incoming', result: 200, conversations: 2, answeredBy: '103', employee: '103', client: IN, is_ivr: false },
  { name: 'queue-answered', ringAll: true, stages: ['requested 103', 'requested 102', 'accepted 103', 'ended 102', 'ended 103', 'call_ended'], type: 'incoming', result: 200, conversations: 2, answeredBy: '103', employee: '103', client: IN, is_ivr: false },
  { name: 'queue-abandoned', ringAll: true, stages: ['requested 102', 'requested 103', 'ended 102', 'ended 103', 'call_ended'], type: 'incoming', result: 487, conversations: 2, answeredBy: null, employee: '103', client: IN, is_ivr: false },
  { name: 'blind-transfer', stages: ['requested 101', 'accepted 101', 'ended 101', 'requested 102', 'accepted 102', 'ended 102', 'call_ended'], type: 'incoming', result: 200, conversations: 2, answeredBy: '102', employee: '102', client: IN, is_ivr: false },
  { name: 'attended-transfer', stages: ['requested 101', 'accepted 101', 'requested 102', 'accepted 102', 'ended 101', 'ended 102', 'call_ended'], type: 'incoming', result: 200, conversations: 2, answeredBy: '102', employee: '102', client: IN, is_ivr: false },
  { name: 'attended-transfer-merge', stages: ['requested 101', 'accepted 101', 'requested 102', 'accepted 102', 'ended 101', 'ended 102', 'call_ended'], type: 'incoming', result: 200, conversations: 2, answeredBy: '102', employee: '102', client: '79001112233', is_ivr: false, merged: 1 },
  { name: 'linkedid-change-merge', stages: ['requested 101', 'accepted 101', 'requested 102', 'accepted 102', 'ended 101', 'ended 102', 'call_ended'], type: 'incoming', result: 200, conversations: 2, answeredBy: '102', employee: '102', client: '79001112233', is_ivr: false, merged: 1 },
  { name: 'outbound-answered', stages: ['requested trunk', 'accepted trunk', 'ended trunk', 'call_ended'], type: 'outgoing', result: 200, conversations: 1, answeredBy: '101', employee: '101', client: OUT, is_ivr: false },
  { name: 'outbound-noanswer', stages: ['requested trunk', 'ended trunk', 'call_ended'], type: 'outgoing', result: 480, conversations: 1, answeredBy: null, employee: '101', client: OUT, is_ivr: false },
  { name: 'outbound-busy', stages: ['requested trunk', 'ended trunk', 'call_ended'], type: 'outgoing', result: 486, conversations: 1, answeredBy: null, employee: '101', client: OUT, is_ivr: false },
  { name: 'outbound-cancel', stages: ['requested trunk', 'ended trunk', 'call_ended'], type: 'outgoing', result: 487, conversations: 1, answeredBy: null, employee: '101', client: OUT, is_ivr: false },
  { name: 'outbound-bad-number', stages: ['requested trunk', 'ended trunk', 'call_ended'], type: 'outgoing', result: 404, conversations: 1, answeredBy: null, employee: '101', client: '79000000000', is_ivr: false },
  { name: 'internal-answered', stages: ['requested 102', 'accepted 102', 'ended 102', 'call_ended'], type: 'local', result: 200, conversations: 1, answeredBy: '102', employee: '102', client: '', is_ivr: false },
  { name: 'ivr-missed', stages: ['call_ended'], type: 'incoming', result: 487, conversations: 0, answeredBy: null, employee: null, client: IN, is_ivr: true },
  { name: 'ivr-timeout', stages: ['call_ended'], type: 'incoming', result: 487, conversations: 0, answeredBy: null, employee: null, client: IN, is_ivr: true },
  { name: 'autodistribution-found', stages: ['requested 102', 'accepted 102', 'ended 102', 'call_ended'], type: 'incoming', result: 200, conversations: 1, answeredBy: '102', employee: '102', client: IN, is_ivr: false },
  { name: 'autodistribution-agi-down', stages: ['requested 103', 'accepted 103', 'ended 103', 'call_ended'], type: 'incoming', result: 200, conversations: 1, answeredBy: '103', employee: '103', client: IN, is_ivr: false },
  // KOMMO_USER_ID=1234567 (the Kommo user who clicked) wins over 101's mapped 1001
  { name: 'click-to-call', stages: ['requested 101', 'accepted 101', 'requested trunk', 'accepted trunk', 'ended 101', 'ended trunk', 'call_ended'], type: 'outgoing', result: 200, conversations: 2, answeredBy: '101', employee: '101', client: OUT, is_ivr: false, userId: 1234567 },
  // hand-written: a click-to-call (linkedid ka-…) merged with 101's own consultation call to 102 (an Asterisk linkedid);
  // the client number is KOMMO_CLIENT_NUMBER (the trunk was dialled 8…); 102 talked last and keeps its mapped user
  { name: 'click-to-call-transfer-merge', stages: ['requested 101', 'accepted 101', 'requested trunk', 'accepted trunk', 'requested 102', 'accepted 102', 'ended 101', 'ended trunk', 'ended 102', 'call_ended'], type: 'outgoing', result: 200, conversations: 3, answeredBy: '102', employee: '102', client: '79001112233', is_ivr: false, merged: 1 },
];

/** Sort each run of consecutive same-stage labels (for ring-all rows). */
function runsSorted(labels: string[]): string[] {
  const out: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    out.push(...run.sort());
    run = [];
  };
  for (const l of labels) {
    if (run.length && run[0]!.split(' ')[0] !== l.split(' ')[0]) flush();
    run.push(l);
  }
  flush();
  return out;
}

function label(s: StageEffect): string {
  if (s.stage === 'call_ended') return 'call_ended';
  const conv = s.call.conversations[s.conversationId ?? ''];
  return `${s.stage.replace('conversation_', '')} ${String(conv?.channel.extra['endpoint'] ?? '?')}`;
}

function answeredBy(call: CallFull): string | null {
  const c = employeeConversation(call);
  return c && c.channel.was_answered ? (c.user?.extension ?? null) : null;
}

/** Each conversation: requested once, then at most one accepted, then ended once, in that order. */
function lifecycleOk(stages: StageEffect[]): boolean {
  const seen = new Map<string, string[]>();
  for (const s of stages) {
    if (!s.conversationId) continue;
    const list = seen.get(s.conversationId) ?? [];
    list.push(s.stage);
    seen.set(s.conversationId, list);
  }
  for (const list of seen.values()) {
    const ok = ['conversation_requested,conversation_ended', 'conversation_requested,conversation_accepted,conversation_ended'];
    if (!ok.includes(list.join(','))) return false;
  }
  return true;
}

const sources: Record<string, string> = {};

for (const row of ROWS) {
  t.test(row.name, async (t) => {
    const { events, source } = loadScenario(row.name);
    sources[row.name] = source;
    t.comment(`source: ${source}`);
    const r = replay(events);
    const labels = r.stages.map(label);
    t.same(row.ringAll ? runsSorted(labels) : labels, row.ringAll ? runsSorted(row.stages) : row.stages, 'stages in order');
    const ended = r.stages.filter((s) => s.stage === 'call_ended');
    t.equal(ended.length, 1, 'call_ended exactly once');
    t.equal(r.stages[r.stages.length - 1]?.stage, 'call_ended', 'call_ended is last');
    t.ok(lifecycleOk(r.stages), 'each conversation: requested → (accepted) → ended');
    t.equal(r.state.calls.size, 0, 'no call left in memory');
    t.equal(r.state.index.size, 0, 'no index entry left');
    t.equal(r.effects.filter((e) => e.type === 'merged').length, row.merged ?? 0, 'merges');
    const call = ended[0]!.call;
    t.equal(call.channel.type, row.type, 'type');
    t.equal(call.result, row.result, 'result');
    t.equal(Object.keys(call.conversations).length, row.conversations, 'conversations');
    t.equal(answeredBy(call), row.answeredBy, 'answering user');
    t.equal(employeeConversation(call)?.user?.extension ?? null, row.employee, 'employee conversation');
    t.equal(clientNumber(call), row.client, 'client number');
    t.equal(call.is_ivr, row.is_ivr, 'is_ivr');
    t.equal(isMissed(call), row.result !== 200, 'isMissed');
    t.equal(callDirection(call), { incoming: 'inbound', outgoing: 'outbound', local: 'internal', unknown: 'unknown' }[row.type]);
    t.equal(call.channel.state, 'ended');
    t.equal(call.active_conversation_id, '');
    if (row.result === 200) t.ok(lastConversationDuration(call) >= 1, 'a duration for an answered call');
    else t.equal(lastConversationDuration(call), 0);
    t.equal(call.channel.extra['internal'], row.type === 'local');
    t.ok(JSON.parse(JSON.stringify(call)), 'JSON-able');
    // the employee's Kommo id comes from pbx.extensions (or, for a click-to-call, KOMMO_USER_ID)
    const emp = employeeConversation(call);
    if (emp?.user) t.equal(emp.user.id, row.userId ?? 1000 + Number(emp.user.extension) - 100, 'employee user id');
  });
}

t.test('every recorded fixture has a row', async (t) => {
  const names = new Set(ROWS.map((r) => r.name));
  for (const name of recordedScenarios()) t.ok(names.has(name), `${name} is in the table`);
});

t.test('recorded fixtures parse the same through the wire parser', async (t) => {
  for (const name of recordedScenarios()) {
    const lines = readFileSync(join(RECORDED_DIR, `${name}.jsonl`), 'utf8').split('\n').filter((l) => l.trim());
    const objs = lines.map((l) => JSON.parse(l) as Record<string, string | string[]>);
    let wire = 'Asterisk Call Manager/9.0.0\r\n';
    for (const o of objs) {
      for (const [k, v] of Object.entries(o)) for (const one of Array.isArray(v) ? v : [v]) wire += `${k}: ${one}\r\n`;
      wire += '\r\n';
    }
    const direct = objs.map((o) => normalizeEvent(o)).filter((e) => e !== undefined);
    const viaWire = parseAmiStream(Buffer.from(wire, 'utf8')).map((m) => normalizeEvent(m)).filter((e) => e !== undefined);
    t.same(viaWire, direct, name);
  }
});

t.test('calls interleaved with each other give the same results as alone', async (t) => {
  const names = ROWS.map((r) => r.name);
  // every scenario, each a distinct copy, merged by timestamp (each shifted to start together)
  const tagged: { at: number; e: ReturnType<typeof loadScenario>['events'][number] }[] = [];
  names.forEach((name, i) => {
    const events = rewriteIds(loadScenario(name).events, i + 1);
    const t0 = Number(events.find((e) => typeof e['timestamp'] === 'string')?.['timestamp'] ?? 0);
    let last = 0;
    for (const e of events) {
      const ts = typeof e['timestamp'] === 'string' ? Number(e['timestamp']) - t0 : last;
      last = ts;
      tagged.push({ at: ts + i * 0.0001, e });
    }
  });
  tagged.sort((a, b) => a.at - b.at);
  const r = replay(tagged.map((x) => x.e));
  const ended = r.stages.filter((s) => s.stage === 'call_ended');
  t.equal(ended.length, names.length, 'one call_ended per call');
  t.equal(r.state.calls.size, 0);
  t.equal(r.state.index.size, 0);
  const byResult = ended.map((s) => `${s.call.channel.type}:${s.call.result}`).sort();
  const expected = ROWS.map((row) => `${row.type}:${row.result}`).sort();
  t.same(byResult, expected);
});
