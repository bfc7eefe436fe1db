/**
 * Contact custom fields, and the PHONE field the connector writes numbers into: field code
 * `PHONE` with the configured enum (`kommo.phone_enum`, default `WORK`). Without it the
 * connector cannot run, so its absence is a clear, coded error.
 */
import { KommoError } from './errors.js';
import { type EndpointContext, listAll, type RequestOptions } from './endpoint.js';
import { PHONE_FIELD_CODE } from './phone-match.js';
import type { CustomField, PhoneField } from './types.js';

export function getContactFields(ctx: EndpointContext, opts?: RequestOptions): Promise<CustomField[]> {
  return listAll<CustomField>(ctx, '/api/v4/contacts/custom_fields', 'custom_fields', undefined, opts);
}

/** Pure: pick the PHONE field and its enum out of the contact fields. */
export function pickPhoneField(fields: readonly CustomField[], enumCode: string): PhoneField {
  const field = fields.find((f) => f.code === PHONE_FIELD_CODE);
  if (!field) {
    throw new KommoError('KOMMO_PHONE_FIELD_MISSING',
      'the Kommo account has no contact field with code PHONE: restore the standard "Phone" contact field ' +
      '(Settings → Contacts fields) — the connector cannot find or create clients without it');
  }
  const wanted = enumCode.toUpperCase();
  const en = (field.enums ?? []).find((e) => e.value.toUpperCase() === wanted);
  if (!en) {
    const have = (field.enums ?? []).map((e) => e.value).join(', ') || 'none';
    throw new KommoError('KOMMO_PHONE_FIELD_MISSING',
      `the PHONE contact field (id ${field.id}) has no enum ${wanted} (it has: ${have}): set kommo.phone_enum to one of them`,
      { fieldId: field.id });
  }
  return { fieldId: field.id, enumId: en.id, enumCode: en.value };
}

export async function findPhoneField(ctx: EndpointContext, enumCode: string, opts?: RequestOptions): Promise<PhoneField> {
  return pickPhoneField(await getContactFields(ctx, opts), enumCode);
}
