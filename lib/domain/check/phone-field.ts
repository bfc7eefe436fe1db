/**
 * The PHONE/WORK contact field: the connector finds and creates clients
 * through it, so `start` refuses to run without it.
 */
import { KommoError, type KommoClient, type PhoneField, type RequestOptions } from '../../adapters/kommo/index.js';

export const PHONE_FIELD_HOWTO =
  'create a phone field with code PHONE in Kommo → Settings → Contacts (the standard "Phone" field; ' +
  'restore it if it was deleted), with the value type set in kommo.phone_enum (default WORK)';

/**
 * Resolve the PHONE field or throw KOMMO_PHONE_FIELD_MISSING with the fix in
 * the message. Other failures (token, outage) are thrown unchanged: they are
 * not "the field is missing".
 */
export async function assertPhoneField(kommo: Pick<KommoClient, 'findPhoneField'>, opts?: RequestOptions): Promise<PhoneField> {
  try {
    return await kommo.findPhoneField(opts);
  } catch (err) {
    if (err instanceof KommoError && err.code === 'KOMMO_PHONE_FIELD_MISSING') {
      throw new KommoError('KOMMO_PHONE_FIELD_MISSING', `${err.message} — ${PHONE_FIELD_HOWTO}`, { cause: err });
    }
    throw err;
  }
}
