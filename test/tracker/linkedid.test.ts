// Which linkedid survives a merge: Asterisk uniqueids `<epoch s>.<seq>` and our
// Originate ids `ka-<epoch ms>-<hex>`, mixed; then start times, then string order.
import t from 'tap';
import { linkedidKey, olderLinkedid } from '../../lib/domain/tracker/linkedid.js';
import { olderLinkedid as fromReducer } from '../../lib/domain/tracker/reducer.js';
import { olderLinkedid as fromIndex } from '../../lib/domain/tracker/index.js';

t.test('keys of both forms', async (t) => {
  t.same(linkedidKey('1795504541.50'), { ms: 1795504541000, seq: 50, form: 'asterisk' });
  t.same(linkedidKey('pbx1-1795504541.50'), { ms: 1795504541000, seq: 50, form: 'asterisk' }, 'with a systemname prefix');
  t.same(linkedidKey('ka-1795505710000-0a1b2c3d'), { ms: 1795505710000, seq: -1, form: 'originate' });
  t.same(linkedidKey('ka-1795505710000-0a1b2c3d-2'), { ms: 1795505710000, seq: -1, form: 'originate' }, 'the OtherChannelId');
  for (const bad of ['', 'kommo-c2c-0001', 'ka--0a1b', 'ka-x-0a1b2c3d', '1700000100', '.5', 'abc.def']) {
    t.equal(linkedidKey(bad), undefined, JSON.stringify(bad));
  }
});

interface Row {
  name: string;
  a: string;
  b: string;
  startA?: number;
  startB?: number;
  older: string;
}

const KA_100 = 'ka-1700000100000-0a1b2c3d';
const ROWS: Row[] = [
  { name: 'asterisk: earlier second', a: '1700000110.3', b: '1700000100.1', older: '1700000100.1' },
  { name: 'asterisk: same second, numeric sequence (not string order)', a: '1700000100.10', b: '1700000100.9', older: '1700000100.9' },
  { name: 'asterisk: the sequence decides before start times', a: '1700000100.10', b: '1700000100.9', startA: 1, startB: 2, older: '1700000100.9' },
  { name: 'asterisk: systemname prefixes', a: 'pbx1-1700000100.5', b: 'pbx2-1700000099.9', older: 'pbx2-1700000099.9' },
  { name: 'mixed: ka- older by seconds', a: KA_100, b: '1700000110.3', older: KA_100 },
  { name: 'mixed: ka- older, other order', a: '1700000110.3', b: KA_100, older: KA_100 },
  { name: 'mixed: asterisk older by seconds', a: 'ka-1700000120000-ffffffff', b: '1700000110.3', older: '1700000110.3' },
  { name: 'mixed: ka- older although its string sorts last', a: 'ka-1600000000000-00000000', b: '1700000000.1', older: 'ka-1600000000000-00000000' },
  // same second: Asterisk's id says nothing finer than the second → start times
  { name: 'mixed, same second: start times decide (ka- first)', a: 'ka-1700000100500-0a1b2c3d', b: '1700000100.7', startA: 1700000100500, startB: 1700000100900, older: 'ka-1700000100500-0a1b2c3d' },
  { name: 'mixed, same second: start times decide (asterisk first)', a: 'ka-1700000100500-0a1b2c3d', b: '1700000100.7', startA: 1700000100500, startB: 1700000100100, older: '1700000100.7' },
  { name: 'mixed, same second, no start times: the Asterisk id', a: 'ka-1700000100500-0a1b2c3d', b: '1700000100.7', older: '1700000100.7' },
  { name: 'mixed, same second, no start times: the Asterisk id (not string order)', a: 'ka-1700000100500-0a1b2c3d', b: 'pbx9-1700000100.7', older: 'pbx9-1700000100.7' },
  { name: 'ka-: millisecond order', a: 'ka-1700000100500-aaaaaaaa', b: 'ka-1700000100400-bbbbbbbb', older: 'ka-1700000100400-bbbbbbbb' },
  { name: 'ka-: same millisecond, start times', a: 'ka-1700000100500-00000000', b: 'ka-1700000100500-ffffffff', startA: 9, startB: 5, older: 'ka-1700000100500-ffffffff' },
  { name: 'ka-: same millisecond, no start times: string order', a: 'ka-1700000100500-ffffffff', b: 'ka-1700000100500-00000000', older: 'ka-1700000100500-00000000' },
  { name: 'unknown form: string order', a: 'kommo-c2c-2', b: 'kommo-c2c-1', older: 'kommo-c2c-1' },
  { name: 'unknown form: start times first', a: 'kommo-c2c-2', b: 'kommo-c2c-1', startA: 5, startB: 9, older: 'kommo-c2c-2' },
  { name: 'unknown vs asterisk: start times', a: 'kommo-c2c-1', b: '1700000100.1', startA: 1, startB: 2, older: 'kommo-c2c-1' },
  { name: 'unknown vs asterisk, no start times: string order', a: 'kommo-c2c-1', b: '1700000100.1', older: '1700000100.1' },
  { name: 'one start time unknown (0): string order', a: 'kommo-c2c-2', b: 'kommo-c2c-1', startA: 5, startB: 0, older: 'kommo-c2c-1' },
  { name: 'NaN start times are unknown', a: 'kommo-c2c-2', b: 'kommo-c2c-1', startA: Number.NaN, startB: 3, older: 'kommo-c2c-1' },
  { name: 'the same id', a: KA_100, b: KA_100, older: KA_100 },
];

t.test('olderLinkedid: table', async (t) => {
  for (const r of ROWS) {
    t.equal(olderLinkedid(r.a, r.b, r.startA, r.startB), r.older, r.name);
    t.equal(olderLinkedid(r.b, r.a, r.startB, r.startA), r.older, `${r.name} (swapped)`);
  }
  t.equal(fromReducer, olderLinkedid, 're-exported by the reducer');
  t.equal(fromIndex, olderLinkedid, 'and by the tracker index');
});

t.test('olderLinkedid is total: every pair gets one of the two, the same both ways', async (t) => {
  const ids = [
    '1700000100.1',
    '1700000100.9',
    '1700000100.10',
    '1700000099.99',
    'pbx1-1700000100.2',
    KA_100,
    'ka-1700000100999-ffffffff',
    'ka-1700000099000-00000000',
    'kommo-c2c-0001',
    '',
    'x.y',
  ];
  let bad = 0;
  for (const a of ids) {
    for (const b of ids) {
      for (const [sa, sb] of [
        [0, 0],
        [1700000100100, 1700000100200],
        [1700000100200, 1700000100100],
      ] as const) {
        const ab = olderLinkedid(a, b, sa, sb);
        const ba = olderLinkedid(b, a, sb, sa);
        if ((ab !== a && ab !== b) || ab !== ba) bad++;
      }
    }
  }
  t.equal(bad, 0);
  // ids of the two known forms, without start times: a strict total order (transitive), so sorting is stable
  const known = ids.filter((id) => linkedidKey(id) !== undefined);
  const cmp = (x: string, y: string): number => (x === y ? 0 : olderLinkedid(x, y) === x ? -1 : 1);
  let intransitive = 0;
  for (const x of known) for (const y of known) for (const z of known) if (cmp(x, y) < 0 && cmp(y, z) < 0 && cmp(x, z) >= 0) intransitive++;
  t.equal(intransitive, 0, 'transitive');
  const sorted = [...known].sort(cmp);
  t.same([...known].reverse().sort(cmp), sorted);
  t.same(sorted, [
    '1700000099.99',
    'ka-1700000099000-00000000',
    '1700000100.1',
    'pbx1-1700000100.2',
    '1700000100.9',
    '1700000100.10',
    KA_100,
    'ka-1700000100999-ffffffff',
  ]);
});
