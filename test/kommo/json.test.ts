import t from 'tap';
import { embedded, encodeJson, parseBody, stripNulls } from '../../lib/adapters/kommo/json.js';

t.test('stripNulls drops null/undefined keys and array items, recursively', async (t) => {
  const input = {
    name: 'A', price: null, responsible_user_id: undefined, n: 0, f: false, s: '',
    custom_fields_values: [null, { field_code: 'PHONE', values: [{ value: '1', enum_code: null }, undefined] }],
    _embedded: { tags: null, contacts: [{ id: 1, is_main: null }] },
    nested: { deeper: { gone: null } },
  };
  t.same(stripNulls(input), {
    name: 'A', n: 0, f: false, s: '',
    custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '1' }] }],
    _embedded: { contacts: [{ id: 1 }] },
    nested: { deeper: {} },
  });
  t.same(input.price, null, 'the input is not mutated');
});

t.test('encodeJson never emits null', async (t) => {
  const out = encodeJson([{ a: null, b: [null, 1, undefined], c: { d: null } }]);
  t.notMatch(out, /null/);
  t.equal(out, '[{"b":[1],"c":{}}]');
  t.throws(() => encodeJson(null), { code: 'KOMMO_INVALID_ARGUMENT' });
  t.throws(() => encodeJson(undefined), { code: 'KOMMO_INVALID_ARGUMENT' });
});

t.test('non-finite numbers are a caller bug named by path', async (t) => {
  t.throws(() => encodeJson([{ duration: NaN }]), { code: 'KOMMO_INVALID_ARGUMENT', message: /\$\[0\]\.duration/ });
  t.throws(() => encodeJson({ a: [Infinity] }), { code: 'KOMMO_INVALID_ARGUMENT', path: '$.a[0]' });
  t.throws(() => encodeJson({ d: new Date(NaN) }), { code: 'KOMMO_INVALID_ARGUMENT' });
});

t.test('other values', async (t) => {
  t.same(stripNulls({ f: () => 1, s: Symbol('x'), big: 5n, d: new Date(0) }), { big: 5, d: '1970-01-01T00:00:00.000Z' });
});

t.test('parseBody copes with every kind of body', async (t) => {
  t.same(parseBody('', 'application/json'), { json: undefined, text: '', isJson: false });
  t.same(parseBody('  \n', undefined).isJson, false);
  t.same(parseBody('{"a":1}', 'application/problem+json').json, { a: 1 });
  t.same(parseBody('[1]', 'text/plain').json, [1], 'JSON without a JSON content type');
  const html = parseBody('<html><body>403 Forbidden</body></html>', 'text/html');
  t.equal(html.isJson, false);
  t.match(html.text, /403 Forbidden/);
  const broken = parseBody('{"a":', 'application/json');
  t.equal(broken.isJson, false);
  t.equal(broken.json, undefined);
  const long = parseBody('x'.repeat(5000), 'text/plain');
  t.ok(long.text.length < 2100, 'raw text is truncated');
});

t.test('embedded', async (t) => {
  t.same(embedded({ _embedded: { contacts: [{ id: 1 }] } }, 'contacts'), [{ id: 1 }]);
  t.equal(embedded({ _embedded: { contacts: {} } }, 'contacts'), undefined);
  t.equal(embedded(null, 'contacts'), undefined);
  t.equal(embedded([], 'contacts'), undefined);
});
