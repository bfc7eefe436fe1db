import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { clidName, parseCdrLine, parseCdrText, splitCsv, CDR_COLUMNS } from '../../lib/domain/reprocess/index.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const good = readFileSync(path.join(dir, 'kommo-cdr.csv'), 'utf8');
const malformed = readFileSync(path.join(dir, 'malformed.csv'), 'utf8');

t.test('the real Asterisk 22 output parses whole', async (t) => {
  const { rows, bad } = parseCdrText(good);
  t.equal(rows.length, 11);
  t.same(bad, []);
  t.match(rows[0], {
    line: 1,
    linkedid: '1795505694.0',
    uniqueid: '1795505694.0',
    sequence: 0,
    channel: 'PJSIP/trunk-00000000',
    dstchannel: 'PJSIP/101-00000001',
    src: '79991234567',
    clid: '"Иван Петров" <79991234567>',
    dst: '201',
    dcontext: 'from-trunk',
    lastapp: 'Dial',
    lastdata: 'PJSIP/101,3,tT',
    start: 1795505694967,
    answer: 1795505695274,
    end: 1795505696078,
    duration: 1,
    billsec: 0,
    disposition: 'ANSWERED',
    userfield: '',
  });
  t.equal(rows[1]!.answer, 0, '0.000000 = not answered');
  t.equal(rows[1]!.disposition, 'NO ANSWER');
  t.equal(rows[7]!.dstchannel, '', 'IVR: no party B');
  t.equal(rows[10]!.linkedid, 'ka-1795505710000-0a1b2c3d', 'click-to-call ids');
});

t.test('malformed lines are reported with their numbers, good ones kept', async (t) => {
  const { rows, bad } = parseCdrText(malformed);
  t.same(rows.map((r) => r.line), [1, 8, 12]);
  t.equal(rows[0]!.clid, '"Ivan, "the" Terrible" <79991234567>', 'doubled quotes and commas inside quotes');
  t.equal(rows[0]!.userfield, 'note, with comma');
  t.equal(rows[1]!.clid, 'Мария <79997654321>', 'unquoted fields (another mapping style) and Cyrillic');
  t.equal(rows[1]!.disposition, 'NO ANSWER');
  t.equal(rows[2]!.userfield, '', 'CRLF line ending');
  t.same(bad.map((b) => b.line), [3, 4, 5, 6, 7, 9, 10, 11], 'line 2 is blank, not bad');
  t.match(bad[0]!.reason, /unterminated/);
  t.match(bad[1]!.reason, /expected 19 columns, found 3/);
  t.match(bad[2]!.reason, /not a ka1 record/);
  t.match(bad[3]!.reason, /epoch/);
  t.match(bad[4]!.reason, /after a quoted field/);
  t.match(bad[5]!.reason, /stray quote|unterminated/);
  t.match(bad[6]!.reason, /empty linkedid/);
  t.match(bad[7]!.reason, /integers/);
});

t.test('byte-level robustness: every prefix of a line is either a row or a bad line, never a throw', async (t) => {
  const line = good.split('\n')[0]!;
  const rowsAt: number[] = [];
  for (let i = 0; i <= line.length; i++) {
    const p = parseCdrLine(line.slice(0, i), 1);
    if ('row' in p) rowsAt.push(i);
  }
  // `...,"ANSWERED",` is a complete record too (an unquoted empty last field)
  t.same(rowsAt, [line.length - 2, line.length], 'only a complete record is a record');
  for (const s of ['"', '""', ',,,', '"a"b', 'a"b', '\u0000', '"ka1"'.repeat(30)]) t.doesNotThrow(() => parseCdrLine(s, 1));
});

t.test('splitCsv and clidName', async (t) => {
  t.same(splitCsv('a,"b,c","d""e",'), { fields: ['a', 'b,c', 'd"e', ''] });
  t.same(splitCsv(''), { fields: [''] });
  t.same(splitCsv('"x"'), { fields: ['x'] });
  t.equal(clidName('"Иван Петров" <79991234567>'), 'Иван Петров');
  t.equal(clidName('Alice <101>'), 'Alice');
  t.equal(clidName('<101>'), '');
  t.equal(clidName(''), '');
  t.equal(CDR_COLUMNS.length, 19);
});

t.test('the sample mapping has the columns in the parser order', async (t) => {
  const sample = readFileSync(path.join(dir, '..', '..', '..', 'dialplan', 'cdr_custom.conf.sample'), 'utf8');
  const mapping = sample.split('\n').find((l) => l.startsWith('kommo-cdr.csv =>')) ?? '';
  const cols = ['version', ...[...mapping.matchAll(/CDR\((\w+)/g)].map((m) => m[1])];
  t.same(cols, [...CDR_COLUMNS]);
});
