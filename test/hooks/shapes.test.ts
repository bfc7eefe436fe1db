import t from 'tap';
import { stripNulls, truncateName, validateHookData } from '../../lib/adapters/hooks/shapes.js';
import { classifyName } from '../../lib/adapters/hooks/scan.js';
import { HOOK_NAMES } from '../../lib/adapters/hooks/types.js';
import { sampleDefaults } from './fixtures/hooks.js';

t.test('truncateName', async (t) => {
  t.equal(truncateName('Short'), 'Short');
  t.equal(truncateName('Александра Константиновна'), 'Александра Константи', 'Cyrillic: 20 characters');
  t.equal(Buffer.byteLength(truncateName('Александра Константиновна')), 39, 'whole 2-byte characters only');
  t.equal(truncateName('Иван Петрович Сидоров'), 'Иван Петрович Сидоро');
  t.equal(truncateName('Ivan Petrovich Sidorov', 14), 'Ivan Petrovich');
  t.equal(truncateName('Ivan Petrovich Sidorov', 15), 'Ivan Petrovich', 'a trailing space left by the cut goes');
  // 19 letters then a flag (2 code points, 1 grapheme): the flag does not fit whole.
  t.equal(truncateName('ABCDEFGHIJKLMNOPQRS🇷🇺X'), 'ABCDEFGHIJKLMNOPQRS');
  // Decomposed й (и + U+0306) is composed first, so it counts as one character.
  t.equal(truncateName('Й'.normalize('NFD').repeat(25)), 'Й'.repeat(20));
  // A base letter plus a combining mark is never split.
  t.equal(truncateName(`${'a'.repeat(19)}e\u0301\u0302z`), 'a'.repeat(19));
  t.equal(truncateName('😀'.repeat(30)), '😀'.repeat(20), 'astral characters are one each');
});

t.test('stripNulls', async (t) => {
  t.same(stripNulls({ a: null, b: 1, c: { d: null, e: [{ f: null, g: 2 }] } }), { b: 1, c: { e: [{ g: 2 }] } });
});

t.test('wrong shapes name the path', async (t) => {
  const cases: Array<[(typeof HOOK_NAMES)[number], unknown, string]> = [
    ['need_registration', undefined, 'data'],
    ['need_registration', [], 'data'],
    ['need_registration', { result: 1 }, 'data.result'],
    ['process_client_phone', { phone: '' }, 'data.phone'],
    ['process_client_phone', { phone: '123\r\nAction: Logoff' }, 'data.phone'],
    ['process_call_params', { ...sampleDefaults().process_call_params, direction: 'sideways' }, 'data.direction'],
    ['process_call_params', { ...sampleDefaults().process_call_params, call_status: 9 }, 'data.call_status'],
    ['process_call_params', { ...sampleDefaults().process_call_params, phone: null }, 'data.phone'],
    ['process_contact_creation_params', { tags: ['ok', 3] }, 'data.tags[1]'],
    ['process_contact_creation_params', { custom_fields_values: [{ values: [] }] }, 'data.custom_fields_values[0]'],
    ['process_lead_creation_params', { _embedded: { tags: [{}] } }, 'data._embedded.tags[0]'],
    ['process_originate_params', { ...sampleDefaults().process_originate_params, context: 'x\nAction: Originate' }, 'data.context'],
    ['process_originate_params', { ...sampleDefaults().process_originate_params, priority: 0 }, 'data.priority'],
    ['process_record_file_path', { path: '' }, 'data.path'],
    ['process_record_file_path', { path: '/a.mp3', convert_to_mp3: 'no' }, 'data.convert_to_mp3'],
    ['process_task_creation_params', { ...sampleDefaults().process_task_creation_params, entity_type: 'deals' }, 'data.entity_type'],
    ['process_task_creation_params', { ...sampleDefaults().process_task_creation_params, complete_till: 1.5 }, 'data.complete_till'],
    ['process_autodistribution', { name: 'x' }, 'data.number'],
    ['process_autodistribution', { number: '101', name: 'a\nb' }, 'data.name'],
    ['post_registration', 'done', 'data'],
    ['process_contact_update_params', { responsible_user_id: '5' }, 'data.responsible_user_id'],
    ['process_unsorted_creation_params', { source_uid: 'u', source_name: 's' }, 'data.metadata'],
    [
      'process_unsorted_creation_params',
      { source_uid: 'u', source_name: 's', metadata: {}, _embedded: { contacts: [{ tags: [1] }] } },
      'data._embedded.contacts[0].tags[0]',
    ],
  ];
  for (const [hook, data, path] of cases) {
    const res = validateHookData(hook, data);
    t.equal(res.ok ? 'ok' : res.path, path, `${hook} ${JSON.stringify(data)}`);
  }
});

t.test('read-only and foreign fields are dropped where customizations/README.md says', async (t) => {
  const auto = validateHookData('process_autodistribution', {
    number: '101',
    name: 'Константин Константинопольский',
    from: '+79161234567',
    trunk: 't',
    request_data: { a: 1 },
    entity: { id: 1 },
    error: 'x',
  });
  t.same(auto.ok && auto.data, { number: '101', name: 'Константин Константи' });
  const orig = validateHookData('process_originate_params', { ...sampleDefaults().process_originate_params, request_data: {}, priority: 'start' });
  t.same(orig.ok && Object.keys(orig.data).sort(), ['caller_id', 'channel', 'context', 'extension', 'priority']);
  t.same(validateHookData('need_registration', { result: false, why: 'x' }), { ok: true, data: { result: false } });
  t.same(validateHookData('post_registration', undefined), { ok: true, data: {} }, 'hook 10 needs no data');
  const lead = validateHookData('process_lead_creation_params', { name: 'L', price: null, custom: { keep: true } });
  t.same(lead.ok && lead.data, { name: 'L', custom: { keep: true } }, 'nulls stripped, other fields kept');
});

t.test('file names', async (t) => {
  t.match(classifyName('need_registration.mjs'), { hook: 'need_registration', moduleKind: 'module' });
  t.match(classifyName('need_registration.ts'), { hook: 'need_registration', moduleKind: 'typescript' });
  t.match(classifyName('need_registration'), { hook: 'need_registration', moduleKind: undefined });
  t.match(classifyName('need_registration.py'), { hook: 'need_registration', moduleKind: undefined });
  t.equal(classifyName('need_registration.example.mjs'), 'ignored');
  t.equal(classifyName('process_client_phone.example.py'), 'ignored');
  t.equal(classifyName('need_registration.mjs.disabled'), 'ignored');
  t.equal(classifyName('.need_registration.ts.compiled.mjs'), 'ignored');
  t.equal(classifyName('need_registrationx.mjs'), 'unknown');
  t.equal(classifyName('helpers.mjs'), 'unknown');
});
