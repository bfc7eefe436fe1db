import t from 'tap';
import { filterByPhone, hasPhone, phoneQuery, phoneValues } from '../../lib/adapters/kommo/phone-match.js';
import type { Contact } from '../../lib/adapters/kommo/types.js';

function contact(id: number, fields: Contact['custom_fields_values']): Contact {
  return { id, name: `c${id}`, responsible_user_id: 1, custom_fields_values: fields };
}

const real = contact(1, [{ field_id: 1001, field_code: 'PHONE', values: [{ value: '+7 (999) 123-45-67', enum_code: 'WORK' }] }]);
const mobileSecond = contact(2, [{ field_id: 1001, field_code: 'PHONE', values: [{ value: '12345', enum_code: 'WORK' }, { value: '8 999 1234567', enum_code: 'MOB' }] }]);
const digitsInComment = contact(3, [
  { field_id: 1004, field_code: null, values: [{ value: 'call back 9991234567 tomorrow' }] },
  { field_id: 1001, field_code: 'PHONE', values: [{ value: '+7 495 000-00-00' }] },
]);
const digitsInPosition = contact(4, [{ field_id: 1003, field_code: 'POSITION', values: [{ value: '79991234567' }] }]);
const noFields = contact(5, null);
const longerTail = contact(6, [{ field_code: 'PHONE', values: [{ value: '19991234567' }] }]);

t.test('phoneQuery: the last 10 digits', async (t) => {
  t.equal(phoneQuery('+7 (999) 123-45-67', 10), '9991234567');
  t.equal(phoneQuery('12345', 10), '12345');
  t.throws(() => phoneQuery('+-()', 10), { code: 'KOMMO_INVALID_ARGUMENT' });
});

t.test('phoneValues reads only the PHONE field', async (t) => {
  t.same(phoneValues(mobileSecond), ['12345', '8 999 1234567']);
  t.same(phoneValues(digitsInComment), ['+7 495 000-00-00']);
  t.same(phoneValues(noFields), []);
  t.same(phoneValues(contact(7, [{ field_id: 42, values: [{ value: '1' }] }]), 42), ['1'], 'by field id too');
});

t.test('a contact whose other fields merely contain the digits is ignored', async (t) => {
  const all = [real, mobileSecond, digitsInComment, digitsInPosition, noFields, longerTail];
  t.same(filterByPhone(all, '89991234567', 10).map((c) => c.id), [1, 2, 6]);
  t.equal(hasPhone(digitsInComment, '+79991234567', 10), false);
  t.equal(hasPhone(digitsInPosition, '+79991234567', 10), false);
  t.equal(hasPhone(real, '', 10), false, 'no digits never match');
});

t.test('short numbers must match whole', async (t) => {
  t.equal(hasPhone(mobileSecond, '12345', 10), true);
  t.equal(hasPhone(mobileSecond, '2345', 10), false);
});
