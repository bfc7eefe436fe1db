import t from 'tap';
import {
  compileRewriteRule, createPhoneRewriter, digitsOnly, isInternalNumber, lastDigits, normalizeClientPhone, noRewrite, phonesMatch,
} from '../../lib/platform/phone.js';

const RU_RULES = [
  { match: '^9(\\d{11})$', replace: '$1' }, // strip a trunk prefix 9
  { match: '^8(\\d{10})$', replace: '7$1' }, // 8 → country code 7
  { match: '^(\\d{10})$', replace: '7$1' }, // add a missing country code
];

t.test('digitsOnly', async (t) => {
  const table: Array<[string | number | null | undefined, string]> = [
    ['+7 (999) 123-45-67', '79991234567'],
    ['8 999 123 45 67', '89991234567'],
    ['8-999-123-45-67 доб. 12', '8999123456712'],
    ['тел: +7 999 1234567', '79991234567'],
    ['Иван Петров', ''],
    ['<unknown>', ''],
    ['', ''],
    [null, ''],
    [undefined, ''],
    [79991234567, '79991234567'],
    ['＋７ ９９９ １２３', '7999123'], // full-width (NFKC)
    ['٠١٢٣٤٥٦٧٨٩', '0123456789'], // Arabic-Indic
    ['۰۹۱۲', '0912'], // Persian
    ['\u200e+52 55 1234 5678\u200f', '525512345678'], // bidi marks
    ['Ⅻ①²', '12'], // NFKC: Roman numeral XII stays a letter-like char; ① → 1; ² → 2
  ];
  for (const [raw, want] of table) t.equal(digitsOnly(raw), want, JSON.stringify(raw));
});

t.test('createPhoneRewriter', async (t) => {
  const rewrite = createPhoneRewriter(RU_RULES);
  const table: Array<[string, string]> = [
    ['8 999 123 45 67', '79991234567'],
    ['+7 (999) 123-45-67', '79991234567'],
    ['999 123 45 67', '79991234567'],
    ['98 999 123 45 67', '79991234567'], // trunk prefix then 8 → 7 (rules chain in order)
    ['101', '101'], // no rule matches the whole number
    ['8 999 123 45 6', '78999123456'], // 10 digits starting with 8: only the third rule applies
    ['889991234567', '889991234567'], // 12 digits: nothing matches the whole number
    ['', ''],
  ];
  for (const [raw, want] of table) t.equal(rewrite(raw), want, raw);
  t.equal(createPhoneRewriter([])('+1 (555) 010-9999'), '15550109999', 'no rules: digits only');
  t.equal(noRewrite('+1 555'), '1555');
});

t.test('rules match the whole number only', async (t) => {
  const rewrite = createPhoneRewriter([{ match: '8(\\d{3})', replace: '7$1' }]);
  t.equal(rewrite('8123'), '7123', 'whole match');
  t.equal(rewrite('88123'), '88123', 'a partial match does not apply');
  t.equal(rewrite('81234'), '81234');
  t.equal(compileRewriteRule({ match: '^1$', replace: '2' }).regex.source, '^(?:^1$)$', 'anchors inside are harmless');
  t.equal(createPhoneRewriter([{ match: '^1$', replace: '2' }])('1'), '2');
});

t.test('alternation is anchored as a whole', async (t) => {
  const rewrite = createPhoneRewriter([{ match: '8|9', replace: '0' }]);
  t.equal(rewrite('8'), '0');
  t.equal(rewrite('89'), '89', 'without the group wrap, "8|9" would match a part');
});

t.test('replacement non-digits are dropped', async (t) => {
  t.equal(createPhoneRewriter([{ match: '^(\\d{10})$', replace: '+7 $1' }])('9991234567'), '79991234567');
});

t.test('invalid regex throws at compile time', async (t) => {
  t.throws(() => createPhoneRewriter([{ match: '(', replace: '' }]), SyntaxError);
});

t.test('lastDigits', async (t) => {
  t.equal(lastDigits('+7 (999) 123-45-67'), '9991234567');
  t.equal(lastDigits('8 999 123 45 67'), '9991234567');
  t.equal(lastDigits('101'), '101');
  t.equal(lastDigits('+7 (999) 123-45-67', 7), '1234567');
  t.equal(lastDigits(''), '');
});

t.test('phonesMatch', async (t) => {
  const table: Array<[string, string, boolean, number?]> = [
    ['+7 (999) 123-45-67', '8 999 123 45 67', true],
    ['+7 (999) 123-45-67', '9991234567', true],
    ['79991234567', '79991234568', false],
    ['101', '101', true],
    ['101', '7999123101', false], // short numbers compare whole
    ['1234567', '71234567', false],
    ['', '', false],
    ['<unknown>', '<unknown>', false],
    ['+1 555 010 9999', '15550109999', true],
    ['+7 999 123 45 67', '8 999 123 45 67', true, 11 - 1],
    ['+7 999 123 45 67', '8 999 123 45 67', false, 11],
  ];
  for (const [a, b, want, n] of table) t.equal(phonesMatch(a, b, n), want, `${a} ~ ${b} (${n ?? 10})`);
});

t.test('isInternalNumber', async (t) => {
  t.equal(isInternalNumber('101', 5), true);
  t.equal(isInternalNumber('10101', 5), true);
  t.equal(isInternalNumber('101010', 5), false);
  t.equal(isInternalNumber('79991234567', 5), false);
  t.equal(isInternalNumber('', 5), false);
  t.equal(isInternalNumber('s', 5), false);
  t.equal(isInternalNumber('*97', 5), false);
});

t.test('normalizeClientPhone', async (t) => {
  const rewrite = createPhoneRewriter(RU_RULES);
  const table: Array<[string | null | undefined, string | null]> = [
    ['+7 (999) 123-45-67', '79991234567'],
    ['8 999 123 45 67', '79991234567'],
    ['  9991234567 ', '79991234567'],
    ['<unknown>', null],
    ['unknown', null],
    ['Unknown', null],
    ['anonymous', null],
    ['Anonymous', null],
    ['restricted', null],
    ['', null],
    ['   ', null],
    [null, null],
    [undefined, null],
    ['Неизвестный', null],
    ['ÿþ–—', null],
    ['номер 8(999)123-45-67', '79991234567'],
  ];
  for (const [raw, want] of table) t.equal(normalizeClientPhone(raw, rewrite), want, JSON.stringify(raw));
  t.equal(normalizeClientPhone('+7 (999) 123-45-67'), '79991234567', 'default: no rewriting');
  t.equal(normalizeClientPhone('00', createPhoneRewriter([{ match: '^0+$', replace: '' }])), null, 'rewritten to nothing');
});
