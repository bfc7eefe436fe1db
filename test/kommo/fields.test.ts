import t from 'tap';
import { pickPhoneField } from '../../lib/adapters/kommo/fields.js';
import { taskFilterQuery } from '../../lib/adapters/kommo/tasks.js';
import type { CustomField } from '../../lib/adapters/kommo/types.js';

const phone: CustomField = {
  id: 1001, name: 'Phone', type: 'multitext', code: 'PHONE',
  enums: [{ id: 2001, value: 'WORK' }, { id: 2003, value: 'MOB' }],
};

t.test('finds PHONE + WORK, or the configured enum', async (t) => {
  t.same(pickPhoneField([phone], 'WORK'), { fieldId: 1001, enumId: 2001, enumCode: 'WORK' });
  t.same(pickPhoneField([phone], 'mob'), { fieldId: 1001, enumId: 2003, enumCode: 'MOB' });
});

t.test('missing field or enum → KOMMO_PHONE_FIELD_MISSING with how to fix', async (t) => {
  t.throws(() => pickPhoneField([], 'WORK'), { code: 'KOMMO_PHONE_FIELD_MISSING', message: /restore the standard "Phone"/ });
  t.throws(() => pickPhoneField([{ ...phone, code: null }], 'WORK'), { code: 'KOMMO_PHONE_FIELD_MISSING' });
  t.throws(() => pickPhoneField([phone], 'FAX'), { code: 'KOMMO_PHONE_FIELD_MISSING', message: /kommo\.phone_enum.*WORK, MOB|WORK, MOB.*kommo\.phone_enum/ });
  t.throws(() => pickPhoneField([{ ...phone, enums: null }], 'WORK'), { code: 'KOMMO_PHONE_FIELD_MISSING', message: /none/ });
});

t.test('task filter query', async (t) => {
  t.same(taskFilterQuery({ entityType: 'leads', entityId: 5, isCompleted: false }), {
    'filter[entity_type]': 'leads', 'filter[entity_id]': 5, 'filter[is_completed]': 0,
  });
  t.same(taskFilterQuery({ entityId: [1, 2], responsibleUserId: 7, taskTypeId: 1, isCompleted: true }), {
    'filter[entity_id][0]': 1, 'filter[entity_id][1]': 2, 'filter[is_completed]': 1,
    'filter[responsible_user_id]': 7, 'filter[task_type]': 1,
  });
});
