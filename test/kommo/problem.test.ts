import t from 'tap';
import { KommoApiError, KommoAuthError, KommoError, KommoUnreachableError, isMaybeApplied, isTransient } from '../../lib/adapters/kommo/errors.js';
import { parseBody } from '../../lib/adapters/kommo/json.js';
import { problemToError } from '../../lib/adapters/kommo/problem.js';
import { KaError } from '../../lib/platform/errors.js';

const ctx = { method: 'POST', path: '/api/v4/contacts', requestId: 'r1' };
const json = (v: unknown) => parseBody(JSON.stringify(v), 'application/problem+json');

t.test('validation errors keep status, title, detail and every item', async (t) => {
  const err = problemToError(400, json({
    title: 'Bad Request', type: 'https://httpstatus.es/400', status: 400, detail: 'Request validation failed',
    'validation-errors': [{ request_id: 'r1', errors: [{ code: 'NotNullable', path: 'price', detail: 'This value should not be null.' }] }],
  }), ctx);
  t.ok(err instanceof KommoApiError && err instanceof KommoError && err instanceof KaError);
  t.equal(err.code, 'KOMMO_VALIDATION');
  t.equal(err.status, 400);
  t.equal(err.title, 'Bad Request');
  t.equal(err.detail, 'Request validation failed');
  t.same(err.validationErrors, [{ request_id: 'r1', errors: [{ code: 'NotNullable', path: 'price', detail: 'This value should not be null.' }] }]);
  t.match(err.message, /price: NotNullable/);
  t.equal(isTransient(err), false);
  t.match(err.toJSON(), { code: 'KOMMO_VALIDATION', status: 400, requestId: 'r1' });
});

t.test('status → code', async (t) => {
  const cases: Array<[number, unknown, string]> = [
    [400, { title: 'Bad Request', detail: 'x' }, 'KOMMO_BAD_REQUEST'],
    [400, { errors: [{ title: 'Entity not found' }] }, 'KOMMO_ENTITY_NOT_FOUND'],
    [402, { title: 'Payment Required' }, 'KOMMO_PAYMENT_REQUIRED'],
    [403, { title: 'Forbidden', detail: 'admin only' }, 'KOMMO_FORBIDDEN'],
    [404, { title: 'Not Found' }, 'KOMMO_NOT_FOUND'],
    [405, { title: 'Method Not Allowed' }, 'KOMMO_REJECTED'],
    [422, { title: 'Unprocessable Entity' }, 'KOMMO_VALIDATION'],
    [429, { title: 'Too Many Requests', retry_after: 1 }, 'KOMMO_RATE_LIMITED'],
  ];
  for (const [status, body, code] of cases) t.equal(problemToError(status, json(body), ctx).code, code, `${status}`);
});

t.test('403 HTML page → KOMMO_BLOCKED with readable detail', async (t) => {
  const err = problemToError(403, parseBody('<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1></body></html>', 'text/html'), ctx);
  t.equal(err.code, 'KOMMO_BLOCKED');
  t.match(err.detail, /403 Forbidden/);
  t.notMatch(err.detail, /</);
  t.match(err.message, /blocked/);
});

t.test('calls API error list: title and the rest as detail', async (t) => {
  const err = problemToError(400, json({ errors: [{ title: 'Entity not found' }, { title: 'second' }] }), ctx);
  t.equal(err.title, 'Entity not found');
  t.equal(err.detail, 'second');
});

t.test('isTransient and isMaybeApplied', async (t) => {
  const unreachable = new KommoUnreachableError('KOMMO_UNREACHABLE', 'x', { method: 'POST', path: '/p', attempts: 1, maybeApplied: true });
  t.equal(isTransient(unreachable), true);
  t.equal(isMaybeApplied(unreachable), true);
  t.equal(isTransient(problemToError(429, json({}), ctx)), true);
  t.equal(isTransient(new KommoAuthError('KOMMO_REFRESH_FAILED', 'x', { transient: true })), true);
  t.equal(isTransient(new KommoAuthError('KOMMO_REFRESH_FAILED', 'x')), false);
  t.equal(isTransient(new KommoAuthError('KOMMO_AUTH_FAILED', 'x')), false);
  t.equal(isTransient(new KommoError('KOMMO_ABORTED', 'x')), true);
  t.equal(isTransient(new KommoError('KOMMO_PHONE_FIELD_MISSING', 'x')), false);
  t.equal(isTransient(new Error('x')), false);
  t.equal(isMaybeApplied(new Error('x')), false);
  t.equal(new KommoError('KOMMO_CLOSED', 'x').maybeApplied, false);
});
