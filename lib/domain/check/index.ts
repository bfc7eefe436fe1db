export { runChecks, type RunChecksOptions, type CheckConfig, type CheckAmi, type CheckKommo } from './run.js';
export { formatChecks, formatCheck, exitCodeFor } from './format.js';
export { assertPhoneField, PHONE_FIELD_HOWTO } from './phone-field.js';
export type { CheckResult } from './types.js';
