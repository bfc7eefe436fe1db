import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { pino } from 'pino';
import type { CallFull } from '../../lib/domain/call/types.js';
import { openCallStore } from '../../lib/domain/registration/store.js';
import { callFromRows, formatSummary, groupByLinkedid, parseCdrText, reprocess } from '../../lib/domain/reprocess/index.js';
import { formatUtcTime } from '../../lib/domain/tracker/index.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = path.join(dir, 'kommo-cdr.csv');
const malformed = path.join(dir, 'malformed.csv');
const logger = pino({ level: 'silent' });
const pbx = { extensions: { '101': 5001, '102': 5002, '103': 5003 }, trunks: ['trunk'], extension_pattern: '^[0-9]{2,5}$' };
const FROM = Date.UTC(2026, 10, 24, 0, 0, 0);
const TO = Date.UTC(2026, 10, 25, 0, 0, 0);
const NOW = () => Date.UTC(2026, 10, 25, 12, 0, 0);

function calls(): Map<string, CallFull> {
  const { rows } = parseCdrText(readFileSync(fixture, 'utf8'));
  const out = new Map<string, CallFull>();
  for (const c of groupByLinkedid(rows)) out.set(c.linkedid, callFromRows(c, { pbx, formatTime: formatUtcTime }));
  return out;
}

t.test('grouping: one call per linkedid, in start order', async (t) => {
  const { rows } = parseCdrText(readFileSync(fixture, 'utf8'));
  const groups = groupByLinkedid(rows);
  t.same(groups.map((g) => [g.linkedid, g.rows.length]), [
    ['1795505694.0', 1],
    ['1795505696.3', 2],
    ['1795505698.8', 4],
    ['1795505700.19', 1],
    ['1795505701.21', 1],
    ['1795505702.24', 1],
    ['ka-1795505710000-0a1b2c3d', 1],
  ]);
  t.same(groups[2]!.rows.map((r) => r.sequence), [6, 8, 10, 12], 'rows in Asterisk order');
});

t.test('inbound answered: direction, numbers, user, times, result', async (t) => {
  const c = calls().get('1795505694.0')!;
  t.equal(c.channel.id, '1795505694.0', 'primary = linkedid');
  t.equal(c.channel.type, 'incoming');
  t.same(c.channel.from, { number: '79991234567', name: 'Иван Петров' });
  t.equal(c.channel.to.number, '201');
  t.equal(c.result, 200);
  t.equal(c.is_ivr, false);
  t.equal(c.channel.start_time, '2026-11-24 07:34:54');
  t.equal(c.channel.end_time, '2026-11-24 07:34:56');
  t.equal(c.channel.state, 'ended');
  const convs = Object.values(c.conversations);
  t.equal(convs.length, 1);
  t.match(convs[0], { user: { id: 5001, extension: '101' }, channel: { name: 'PJSIP/101-00000001', type: 'incoming', was_answered: true } });
  t.equal(c.channel.extra['source'], 'cdr');
});

t.test('ring group: two conversations, 103 answered', async (t) => {
  const c = calls().get('1795505696.3')!;
  const convs = Object.values(c.conversations);
  t.same(convs.map((x) => [x.user?.id, x.channel.was_answered]), [[5002, false], [5003, true]]);
  t.equal(c.result, 200);
});

t.test('queue via Local channels: the phones are the conversations', async (t) => {
  const c = calls().get('1795505698.8')!;
  t.equal(c.channel.type, 'incoming');
  const convs = Object.values(c.conversations);
  t.same(convs.map((x) => x.channel.name).sort(), ['PJSIP/102-00000006', 'PJSIP/103-00000007']);
  t.equal(c.result, 200);
  t.equal(c.channel.extra['queue'], 'sales');
  const answered = convs.find((x) => x.channel.was_answered);
  t.equal(answered?.user?.id, 5003);
});

t.test('IVR only: missed in the IVR; busy: 486', async (t) => {
  const ivr = calls().get('1795505700.19')!;
  t.equal(ivr.is_ivr, true);
  t.not(ivr.result, 200);
  t.same(ivr.conversations, {});
  const busy = calls().get('1795505701.21')!;
  t.equal(busy.result, 486);
  t.equal(busy.is_ivr, false);
});

t.test('outbound and click-to-call: outgoing, the dialled number', async (t) => {
  const out = calls().get('1795505702.24')!;
  t.equal(out.channel.type, 'outgoing');
  t.equal(out.channel.from.number, '101');
  t.equal(out.channel.to.number, '79990001122');
  t.equal(out.result, 200);
  const c2c = calls().get('ka-1795505710000-0a1b2c3d')!;
  t.equal(c2c.channel.id, 'ka-1795505710000-0a1b2c3d');
  t.equal(c2c.channel.type, 'outgoing');
  t.equal(c2c.channel.to.number, '79990001122');
  t.equal(c2c.result, 200);
  const conv = Object.values(c2c.conversations)[0]!;
  t.equal(conv.user?.id, 5001, 'the employee who clicked');
  t.equal(conv.channel.answer_time, '2026-11-24 07:35:12');
});

async function setup(t: Test, qualifyIds = false) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ka-reproc-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const store = await openCallStore({ dataDir, logger, qualifyIds });
  t.teardown(() => store.close());
  const submitted: CallFull[] = [];
  const registrar = {
    submit: async (call: CallFull) => {
      submitted.push(call);
      await store.put(call);
    },
  };
  return { dataDir, store, registrar, submitted };
}

t.test('reprocess: submits new calls once, never twice', async (t) => {
  const { store, registrar, submitted } = await setup(t);
  // one call was registered live, one is still pending
  const known = calls();
  const done = await store.put(known.get('1795505694.0')!);
  await store.update(done.record.id, (r) => {
    r.status = 'done';
  });
  await store.put(known.get('1795505696.3')!);

  const s1 = await reprocess({ from: FROM, to: TO, source: fixture, registrar, store, pbx, logger, now: NOW });
  t.match(s1, { found: 7, submitted: 5, unparseable: 0, errors: 0, already: { done: 1, pending: 1, failed: 0, skipped: 0 } });
  t.same(submitted.map((c) => c.channel.id).sort(), ['1795505698.8', '1795505700.19', '1795505701.21', '1795505702.24', 'ka-1795505710000-0a1b2c3d']);
  const s2 = await reprocess({ from: FROM, to: TO, source: fixture, registrar, store, pbx, logger, now: NOW });
  t.match(s2, { found: 7, submitted: 0, already: { pending: 6, done: 1 } });
  t.equal(submitted.length, 5, 'nothing submitted twice');
  const text = formatSummary(s1);
  t.match(text, /^found         7 calls$/m);
  t.match(text, /^already       2 \(registered 1, pending 1, failed 0, skipped 0\)$/m);
  t.match(text, /^submitted     5$/m);
  t.match(text, /^unparseable   0 lines$/m);
});

t.test('reprocess: the period filters by call start; dry run submits nothing', async (t) => {
  const { store, registrar, submitted } = await setup(t);
  // 1795505700 = 2026-11-24T07:35:00Z: only the calls from then on
  const s = await reprocess({ from: 1795505700_000, to: 1795505705_000, source: fixture, registrar, store, pbx, logger, now: NOW, dryRun: true });
  t.match(s, { found: 3, submitted: 0, dryRun: true });
  t.same(s.linkedids, ['1795505700.19', '1795505701.21', '1795505702.24']);
  t.equal(submitted.length, 0);
  t.match(formatSummary(s), /^would submit  3$/m);
});

t.test('reprocess: malformed lines are counted and reported, good ones used', async (t) => {
  const { store, registrar } = await setup(t);
  const s = await reprocess({ from: FROM, to: TO, source: malformed, registrar, store, pbx, logger, now: NOW });
  t.equal(s.unparseable, 8);
  t.equal(s.found, 3);
  t.equal(s.submitted, 3);
  t.same(s.bad.map((b) => b.line), [3, 4, 5, 6, 7, 9, 10, 11]);
  t.match(formatSummary(s), /unparseable   8 lines: line 3 \(unterminated quoted field\); line 4/);
});

t.test('reprocess: errors', async (t) => {
  const { store, registrar } = await setup(t);
  const base = { registrar, store, pbx, logger, now: NOW };
  await t.rejects(reprocess({ ...base, from: TO, to: FROM, source: fixture }), { code: 'REPROCESS_PERIOD' });
  await t.rejects(reprocess({ ...base, from: FROM - 30 * 86_400_000, to: TO, source: fixture }), { code: 'REPROCESS_TOO_OLD' });
  const forced = await reprocess({ ...base, from: FROM - 30 * 86_400_000, to: TO, source: fixture, force: true, dryRun: true });
  t.equal(forced.found, 7);
  await t.rejects(reprocess({ ...base, from: FROM, to: TO, source: '/nonexistent/kommo-cdr.csv' }), { code: 'REPROCESS_SOURCE', message: /cdr_custom\.conf\.sample/ });
  const failing = { submit: async () => { throw new Error('disk full'); } };
  const s = await reprocess({ ...base, registrar: failing, from: FROM, to: TO, source: fixture });
  t.match(s, { submitted: 0, errors: 7 });
  t.match(formatSummary(s), /errors        7/);
});

t.test('reprocess: an empty file', async (t) => {
  const { store, registrar, dataDir } = await setup(t);
  const empty = path.join(dataDir, 'empty.csv');
  await writeFile(empty, '');
  const s = await reprocess({ from: FROM, to: TO, source: empty, registrar, store, pbx, logger, now: NOW });
  t.match(s, { lines: 0, found: 0, submitted: 0 });
});

t.test('reprocess with several servers: the server in call_full.pbx and the journal key; a call journalled before (plain id) is not submitted again', async (t) => {
  const { store, registrar, submitted } = await setup(t, true);
  const known = calls();
  await store.put({ ...known.get('1795505696.3')!, pbx: 'west' }); // the same linkedid on another server: not this call
  const before = await store.put(known.get('1795505694.0')!); // journalled while one server was followed: plain id
  t.equal(before.record.id, '1795505694.0');
  const s = await reprocess({ from: FROM, to: TO, source: fixture, registrar, store, pbx, server: 'east', logger, now: NOW });
  t.match(s, { found: 7, submitted: 6, already: { pending: 1 } });
  t.ok(submitted.every((c) => c.pbx === 'east'), 'call_full.pbx is the server');
  t.ok(submitted.some((c) => c.channel.id === '1795505696.3'), 'the west record with the same linkedid does not hide the east call');
  t.ok(await store.get('east.1795505696.3'), 'journalled as <server>.<linkedid>');
  const again = await reprocess({ from: FROM, to: TO, source: fixture, registrar, store, pbx, server: 'east', logger, now: NOW });
  t.match(again, { submitted: 0, already: { pending: 7 } }, 'never twice');
});
