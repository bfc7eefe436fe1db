import t from 'tap';
import { AmiParser, parseAmiStream, type RawAmiMessage } from '../../lib/protocol/ami/parser.js';
import { normalizeEvent, normalizeMessage, eventTimeMs } from '../../lib/protocol/ami/events.js';
import { encodeAction, validateActionFields } from '../../lib/protocol/ami/encoder.js';
import { AmiError } from '../../lib/protocol/ami/errors.js';

const STREAM = [
  'Asterisk Call Manager/9.0.0\r\n',
  'Response: Success\r\nActionID: ka-1\r\nMessage: Authentication accepted\r\n\r\n',
  'Event: Newchannel\r\nPrivilege: call,all\r\nTimestamp: 1700000000.250000\r\nChannel: PJSIP/trunk-00000001\r\n' +
    'ChannelState: 4\r\nCallerIDNum: 79001234567\r\nCallerIDName: Иван Петров «ООО Ромашка»\r\n' +
    'Uniqueid: 1700000000.1\r\nLinkedid: 1700000000.1\r\nExten: 201\r\n\r\n',
  // Variable lines → object; a repeated plain key → array; a value with ": " and "="
  'Event: UserEvent\r\nUserEvent: Test\r\nVariable: KA_NAME=Жанна = Ж\r\nVariable: KA_EMPTY=\r\n' +
    'Note: a: b: c\r\nNote: second\r\nNoColonLine\r\n\r\n',
  // bare LF line endings are accepted too
  'Event: Hangup\nUniqueid: 1700000000.1\nCause: 16\nCause-txt: Normal Clearing\n\n',
  'Response: Follows\r\nPrivilege: Command\r\nActionID: ka-2\r\ncore show uptime\r\n--END COMMAND--\r\n\r\n',
  'Event: DialBegin\r\nDestChanVariable: A=1\r\nDestChanVariable: B=2\r\nDestCallerIDName: 李小龍\r\n\r\n',
].join('');

const EXPECTED: RawAmiMessage[] = [
  { response: 'Success', actionid: 'ka-1', message: 'Authentication accepted' },
  {
    event: 'Newchannel',
    privilege: 'call,all',
    timestamp: '1700000000.250000',
    channel: 'PJSIP/trunk-00000001',
    channelstate: '4',
    calleridnum: '79001234567',
    calleridname: 'Иван Петров «ООО Ромашка»',
    uniqueid: '1700000000.1',
    linkedid: '1700000000.1',
    exten: '201',
  },
  {
    event: 'UserEvent',
    userevent: 'Test',
    variable: { KA_NAME: 'Жанна = Ж', KA_EMPTY: '' },
    note: ['a: b: c', 'second'],
    nocolonline: '',
  },
  { event: 'Hangup', uniqueid: '1700000000.1', cause: '16', 'cause-txt': 'Normal Clearing' },
  {
    response: 'follows',
    content: 'Response: Follows\nPrivilege: Command\nActionID: ka-2\ncore show uptime',
    actionid: 'ka-2',
  },
  { event: 'DialBegin', destchanvariable: ['A=1', 'B=2'], destcalleridname: '李小龍' },
];

function feed(bytes: Buffer, chunkSize: number): RawAmiMessage[] {
  const out: RawAmiMessage[] = [];
  const p = new AmiParser({ onMessage: (m) => out.push(m) });
  for (let i = 0; i < bytes.length; i += chunkSize) p.push(bytes.subarray(i, i + chunkSize));
  p.end();
  return out;
}

t.test('whole, byte by byte, odd chunks, glued: the same messages (UTF-8 split anywhere)', async (t) => {
  const bytes = Buffer.from(STREAM, 'utf8');
  t.same(parseAmiStream(bytes), EXPECTED, 'whole');
  t.same(feed(bytes, 1), EXPECTED, 'byte by byte');
  t.same(feed(bytes, 7), EXPECTED, 'odd chunks');
  const glued = Buffer.concat([bytes, Buffer.from(STREAM.replace('Asterisk Call Manager/9.0.0\r\n', ''), 'utf8')]);
  t.same(parseAmiStream(glued), [...EXPECTED, ...EXPECTED], 'two streams glued');
  t.same(parseAmiStream(STREAM), EXPECTED, 'a string works too');
});

t.test('an over-long message stops the parser with an error', async (t) => {
  const errors: Error[] = [];
  const out: RawAmiMessage[] = [];
  const p = new AmiParser({ onMessage: (m) => out.push(m), onError: (e) => errors.push(e), maxMessageChars: 64 });
  p.push('Event: X\r\n' + 'Y: ' + 'z'.repeat(100) + '\r\n');
  p.push('\r\n');
  t.equal(errors.length, 1);
  t.same(out, []);
  const p2 = new AmiParser({ onMessage: () => {}, onError: (e) => errors.push(e), maxMessageChars: 64 });
  p2.push('Event: X\r\nY: ' + 'z'.repeat(100));
  t.equal(errors.length, 2, 'an unterminated line counts too');
});

t.test('the whole recorded stream parses to the expected messages', async (t) => {
  t.same(parseAmiStream(STREAM), EXPECTED);
});

t.test('normalisation: lowercased keys and event, variables as objects, first of repeated values', async (t) => {
  // a fixture line in Asterisk's own case, repeated keys as arrays (the recorder's format)
  const fixture = {
    Event: 'Newchannel',
    Timestamp: '1700000000.250000',
    Channel: 'PJSIP/101-00000002',
    Uniqueid: '1700000000.2',
    LinkedID: '1700000000.1',
    ChanVariable: ['MIXMONITOR_FILENAME=/var/spool/a=b.wav', 'X='],
    Note: ['first', 'second'],
  };
  const e = normalizeEvent(fixture);
  t.same(e, {
    event: 'newchannel',
    timestamp: '1700000000.250000',
    channel: 'PJSIP/101-00000002',
    uniqueid: '1700000000.2',
    linkedid: '1700000000.1',
    chanvariable: { MIXMONITOR_FILENAME: '/var/spool/a=b.wav', X: '' },
    note: 'first',
  });
  t.equal(eventTimeMs(e!), 1700000000250);
  t.equal(eventTimeMs({ timestamp: 'x' }), undefined);
  t.equal(normalizeEvent({ Response: 'Success' }), undefined);
  const fromParser = parseAmiStream(STREAM).map((m) => normalizeMessage(m));
  t.same(fromParser[2], {
    event: 'userevent',
    userevent: 'Test',
    variable: { KA_NAME: 'Жанна = Ж', KA_EMPTY: '' },
    note: 'a: b: c',
    nocolonline: '',
  });
});

t.test('strict encoder', async (t) => {
  t.equal(
    encodeAction({ Action: 'Originate', action: 'Originate', Channel: 'Local/101@ctx', Variable: { A: 'Ёж', B: 2 } }),
    'Action: Originate\r\naction: Originate\r\nChannel: Local/101@ctx\r\nVariable: A=Ёж\r\nVariable: B=2\r\n\r\n',
  );
  t.throws(() => validateActionFields({ action: 'Ping', x: 'a\r\nAction: Hangup' }), { code: 'AMI_INVALID_FIELD', field: 'x' });
  t.throws(() => validateActionFields({ action: '' }), AmiError);
  t.throws(() => validateActionFields({ action: 'Originate', variable: { 'A=B': '1' } }), { code: 'AMI_INVALID_FIELD', field: 'variable.A=B' });
  t.throws(() => validateActionFields({ action: 'Originate', variable: { A: {} } }), { code: 'AMI_INVALID_FIELD', field: 'variable.A' });
  t.throws(() => validateActionFields({ action: 'Originate', list: ['a'] }), { code: 'AMI_INVALID_FIELD', field: 'list' });
  t.throws(() => validateActionFields({ action: 'Originate', 'a:b': 'x' }), { code: 'AMI_INVALID_FIELD', field: 'a:b' });
  t.doesNotThrow(() => validateActionFields({ action: 'Originate', timeout: 30000, async: true, skipped: undefined }));
});
