// Pure facts of a finished call: call_status mapping table, durations, who talked.
import t from 'tap';
import { NO_TIME } from '../../lib/domain/call/types.js';
import { callStatusOf, kommoDirection, rawClientNumber } from '../../lib/domain/registration/call-facts.js';
import {
  callDirection, isMissed, lastConversationDuration, lastRungConversation, parseCallTime, talkedConversation,
} from '../../lib/domain/call/facts.js';
import { classifyFailure } from '../../lib/domain/registration/retry-schedule.js';
import { KommoApiError, KommoAuthError } from '../../lib/adapters/kommo/errors.js';
import { makeCall, unreachable } from './helpers.js';

t.test('call_status mapping table', async (t) => {
  const table: Array<[string, Parameters<typeof makeCall>[0], number, string]> = [
    ['200 answered', { result: 200, legs: [{ ext: '101', answered: true }] }, 4, 'Answered'],
    ['480 no answer (incoming)', { result: 480, legs: [{ ext: '101' }] }, 6, 'Missed'],
    ['480 no answer (outgoing)', { direction: 'outgoing', result: 480, legs: [{ ext: '101' }] }, 6, 'No answer'],
    ['408 timeout', { result: 408, legs: [{ ext: '101' }] }, 6, 'Missed'],
    ['487 cancelled (incoming: caller hung up)', { result: 487, legs: [{ ext: '101' }] }, 6, 'Missed (caller hung up)'],
    ['487 cancelled (outgoing)', { direction: 'outgoing', result: 487, legs: [{ ext: '101' }] }, 6, 'Cancelled'],
    ['603 declined', { result: 603, legs: [{ ext: '101' }] }, 6, 'Declined'],
    ['486 busy', { result: 486, legs: [{ ext: '101' }] }, 7, 'Busy'],
    ['600 busy everywhere', { result: 600, legs: [{ ext: '101' }] }, 7, 'Busy'],
    ['404 wrong number', { direction: 'outgoing', result: 404, legs: [{ ext: '101' }] }, 5, 'Wrong number'],
    ['484 address incomplete', { direction: 'outgoing', result: 484, legs: [{ ext: '101' }] }, 5, 'Wrong number'],
    ['604 does not exist', { direction: 'outgoing', result: 604, legs: [{ ext: '101' }] }, 5, 'Wrong number'],
    ['503 unavailable', { direction: 'outgoing', result: 503, legs: [{ ext: '101' }] }, 3, 'Not available'],
    ['403 forbidden', { direction: 'outgoing', result: 403, legs: [{ ext: '101' }] }, 3, 'Not available'],
    ['200 but stuck in IVR', { result: 200, is_ivr: true, legs: [] }, 6, 'Missed in IVR'],
    ['0 unknown', { result: 0, legs: [{ ext: '101' }] }, 6, 'Missed'],
  ];
  for (const [name, spec, status, text] of table) {
    t.same(callStatusOf(makeCall(spec)), { call_status: status, call_result: text }, name);
  }
});

t.test('direction, client number, missed', async (t) => {
  const inc = makeCall({ client: '+79991234567' });
  t.equal(callDirection(inc), 'inbound');
  t.equal(rawClientNumber(inc), '+79991234567');
  const out = makeCall({ direction: 'outgoing', client: '89991234567' });
  t.equal(callDirection(out), 'outbound');
  const internal = makeCall({ direction: 'local', client: '102' });
  t.equal(callDirection(internal), 'internal', 'one implementation: the tracker says internal');
  t.equal(kommoDirection(internal), 'outbound', "Kommo knows only inbound/outbound");
  t.equal(rawClientNumber(internal), '102', 'an internal call registered with register_internal: the dialled extension');
  t.equal(rawClientNumber(out), '89991234567');
  t.equal(isMissed(makeCall({ legs: [{ ext: '101' }] })), true);
  t.equal(isMissed(makeCall({ legs: [{ ext: '101', answered: true }] })), false);
});

t.test('duration of the last answered conversation; who talked; who rang last', async (t) => {
  const call = makeCall({
    legs: [
      { ext: '101', answered: true, start: '2026-11-20 10:00:00', answer: '2026-11-20 10:00:05', end: '2026-11-20 10:00:20' },
      { ext: '102', answered: true, start: '2026-11-20 10:00:20', answer: '2026-11-20 10:00:22', end: '2026-11-20 10:02:22' },
    ],
  });
  t.equal(lastConversationDuration(call), 120, 'the transferred-to leg');
  t.equal(talkedConversation(call)?.user?.id, 5002);
  t.equal(lastRungConversation(call)?.user?.id, 5002);
  t.equal(lastConversationDuration(makeCall({ legs: [{ ext: '101' }] })), 0);
  const nobody = makeCall({ legs: [{ ext: '101', userId: null, answered: true }] });
  t.equal(talkedConversation(nobody), undefined, 'an unknown extension is nobody in Kommo');
  t.equal(parseCallTime(NO_TIME), null);
  t.equal(parseCallTime('garbage'), null);
  t.equal(parseCallTime('2026-11-20 10:00:00'), new Date(2026, 10, 20, 10, 0, 0).getTime());
});


t.test('failure classes', async (t) => {
  t.equal(classifyFailure(unreachable(true)), 'transient');
  t.equal(classifyFailure(new KommoApiError('KOMMO_RATE_LIMITED', '429', { status: 429, method: 'GET', path: '/' })), 'transient');
  t.equal(classifyFailure(new KommoAuthError('KOMMO_AUTH_FAILED', '401')), 'transient', 'a token problem waits, it does not fail calls');
  t.equal(classifyFailure(new KommoApiError('KOMMO_VALIDATION', '400', { status: 400, method: 'POST', path: '/' })), 'permanent');
  t.equal(classifyFailure(new TypeError('bug')), 'permanent');
});
