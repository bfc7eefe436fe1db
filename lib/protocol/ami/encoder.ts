/**
 * The strict AMI encoder. A CR or LF in a value would start a new protocol
 * line (header injection), so it is an error naming the field — checked
 * before anything reaches the package or the socket.
 */
import { AmiError } from './errors.js';

/** A value of an action field; an object becomes repeated `Key: name=value` lines (Originate `Variable`). */
export type AmiFieldValue = string | number | boolean | Readonly<Record<string, string | number | boolean>>;
export type AmiActionFields = { readonly action: string } & {
  readonly [key: string]: AmiFieldValue | undefined;
};

const BAD_VALUE = /[\r\n]/;
const BAD_KEY = /[\r\n:\s]/;

function checkValue(action: string, fieldName: string, value: string): void {
  if (BAD_VALUE.test(value)) {
    throw new AmiError('AMI_INVALID_FIELD', `AMI action ${action}: field ${fieldName} contains CR or LF`, {
      action,
      field: fieldName,
    });
  }
}

/** Throws AMI_INVALID_FIELD naming the first bad key or value. Never echoes the value (it may be a secret). */
export function validateActionFields(fields: Readonly<Record<string, unknown>>): void {
  const action = typeof fields['action'] === 'string' ? fields['action'] : '';
  if (!action) throw new AmiError('AMI_INVALID_FIELD', 'AMI action without an Action name', { field: 'action' });
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (key.length === 0 || BAD_KEY.test(key)) {
      throw new AmiError('AMI_INVALID_FIELD', `AMI action ${action}: invalid field name ${JSON.stringify(key)}`, {
        action,
        field: key,
      });
    }
    if (typeof value === 'string') checkValue(action, key, value);
    else if (typeof value === 'number' || typeof value === 'boolean') continue;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        const path = `${key}.${name}`;
        if (name.length === 0 || BAD_VALUE.test(name) || name.includes('=')) {
          throw new AmiError('AMI_INVALID_FIELD', `AMI action ${action}: invalid variable name in ${key}`, {
            action,
            field: path,
          });
        }
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          throw new AmiError('AMI_INVALID_FIELD', `AMI action ${action}: ${path} is not a string`, { action, field: path });
        }
        checkValue(action, path, String(v));
      }
    } else {
      throw new AmiError('AMI_INVALID_FIELD', `AMI action ${action}: field ${key} has an unsupported type`, {
        action,
        field: key,
      });
    }
  }
}

/**
 * Encode an action as AMI wire text (our own encoder, used by tests and tools;
 * the live adapter hands the validated fields to the package). Keys keep the
 * caller's spelling; an object value becomes one line per variable.
 */
export function encodeAction(fields: Readonly<Record<string, AmiFieldValue | undefined>>): string {
  validateActionFields(fields);
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (typeof value === 'object') {
      for (const [name, v] of Object.entries(value)) out += `${key}: ${name}=${String(v)}\r\n`;
    } else out += `${key}: ${String(value)}\r\n`;
  }
  return out + '\r\n';
}
