import t from 'tap';
import { originMatcher, originMatchers } from '../../lib/adapters/http/cors.js';

t.test('wildcard origins match one subdomain label, nothing else', async (t) => {
  const m = originMatcher('https://*.kommo.com');
  t.ok(m.test('https://acme.kommo.com'));
  t.ok(m.test('https://ACME-2.kommo.com'), 'case-insensitive');
  t.notOk(m.test('https://kommo.com'), 'the label is required');
  t.notOk(m.test('https://a.b.kommo.com'), 'one label only');
  t.notOk(m.test('https://acme.kommo.com.evil.io'), 'anchored at the end');
  t.notOk(m.test('http://acme.kommo.com'), 'scheme is part of the origin');
  t.notOk(m.test('https://acmeXkommo.com'), 'the dot is literal');
  t.ok(originMatcher('https://crm.example.com/').test('https://crm.example.com'), 'a trailing slash is ignored');
  t.equal(originMatchers(['', ' https://a.example ']).length, 1, 'empty entries are dropped');
});
