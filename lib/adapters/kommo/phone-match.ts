/**
 * Kommo's contact search is full-text: `query=9991234567` also finds a contact whose
 * comment or address merely contains those digits. These pure functions keep only the
 * entities whose PHONE field really holds the number (last `matchDigits` digits equal,
 * values reduced to digits first).
 */
import { KommoError } from './errors.js';
import { digitsOnly, lastDigits, phonesMatch } from '../../platform/phone.js';
import type { Company, Contact, CustomFieldValue } from './types.js';

export const PHONE_FIELD_CODE = 'PHONE';

/** The search query for a number: its last `matchDigits` digits. Throws when it has no digits. */
export function phoneQuery(phone: string, matchDigits: number): string {
  const q = lastDigits(phone, matchDigits);
  if (q === '') {
    throw new KommoError('KOMMO_INVALID_ARGUMENT', 'cannot search Kommo for a phone number without digits', { phone });
  }
  return q;
}

function isPhoneField(f: CustomFieldValue, phoneFieldId: number | undefined): boolean {
  return f.field_code === PHONE_FIELD_CODE || (phoneFieldId !== undefined && f.field_id === phoneFieldId);
}

/** Every value of the entity's PHONE field(s), as text. */
export function phoneValues(entity: Pick<Contact, 'custom_fields_values'>, phoneFieldId?: number): string[] {
  const fields = Array.isArray(entity.custom_fields_values) ? entity.custom_fields_values : [];
  const out: string[] = [];
  for (const f of fields) {
    if (!f || !isPhoneField(f, phoneFieldId) || !Array.isArray(f.values)) continue;
    for (const v of f.values) {
      if (v && (typeof v.value === 'string' || typeof v.value === 'number')) out.push(String(v.value));
    }
  }
  return out;
}

/** Does one of the entity's PHONE values denote `phone`? */
export function hasPhone(entity: Pick<Contact, 'custom_fields_values'>, phone: string, matchDigits: number, phoneFieldId?: number): boolean {
  if (digitsOnly(phone) === '') return false;
  return phoneValues(entity, phoneFieldId).some((v) => phonesMatch(v, phone, matchDigits));
}

export function filterByPhone<T extends Contact | Company>(entities: readonly T[], phone: string, matchDigits: number, phoneFieldId?: number): T[] {
  return entities.filter((e) => hasPhone(e, phone, matchDigits, phoneFieldId));
}
