import t from 'tap';
import { encodeCommand, parseEnv, parseReply, quoteArgument, MAX_COMMAND_BYTES } from '../../agi/codec.js';
import { AgiFramer, type AgiFrame } from '../../agi/framer.js';
import { AgiError } from '../../agi/errors.js';
import { asteriskParseArgs, envBlock } from './fixtures/fake-asterisk.js';

function envFrom(text: string, chunk = 0): readonly string[] {
  const frames: AgiFrame[] = [];
  const framer = new AgiFramer({ onFrame: (f) => frames.push(f) });
  const bytes = Buffer.from(text, 'utf8');
  if (chunk === 0) framer.push(bytes);
  else for (let i = 0; i < bytes.length; i += chunk) framer.push(bytes.subarray(i, i + chunk));
  const env = frames[0];
  if (env?.kind !== 'env') throw new Error('no env frame');
  return env.lines;
}

t.test('parseEnv: a full block, through the framer whole and byte by byte', async (t) => {
  const text = envBlock({
    script: 'autodistribution?x=1&line=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0&x=2',
    host: '127.0.0.1:4573',
    calleridname: 'Иван «Ёжик» Петров',
    args: ['sip:101@127.0.0.3:5070', '', 'Ёлка: ёж'],
  });
  for (const chunk of [0, 1, 5]) {
    const req = parseEnv(envFrom(text, chunk));
    t.equal(req.script, 'autodistribution', `script (chunk ${chunk})`);
    t.same(req.params, { x: '2', line: 'Москва' }, 'query params, last one wins, percent-decoded');
    t.equal(req.request, 'agi://127.0.0.1:4573/autodistribution?x=1&line=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0&x=2',
      'agi_request keeps every colon');
    t.equal(req.network, true);
    t.equal(req.callerId, '79161234567');
    t.equal(req.callerIdName, 'Иван «Ёжик» Петров');
    t.equal(req.rdnis, null, 'unknown → null');
    t.equal(req.dnid, '74950000000');
    t.equal(req.uniqueId, '1700000000.1');
    t.equal(req.context, 'from-trunk');
    t.equal(req.priority, '2');
    t.equal(req.enhanced, false);
    t.equal(req.accountCode, '', 'empty value after ": "');
    t.same(req.args, ['sip:101@127.0.0.3:5070', '', 'Ёлка: ёж'], 'arguments split at the first ": " only');
    t.equal(req.raw.agi_version, '22.10.1');
  }
});

t.test('parseEnv: unknown and empty caller values become null', async (t) => {
  const req = parseEnv([
    'agi_network_script: x',
    'agi_callerid: unknown',
    'agi_calleridname: UNKNOWN',
    'agi_dnid: ',
  ]);
  t.equal(req.callerId, null);
  t.equal(req.callerIdName, null);
  t.equal(req.dnid, null);
  t.equal(req.rdnis, null, 'missing → null');
  t.equal(req.channel, '', 'missing plain value → empty string');
});

t.test('parseEnv: script path forms', async (t) => {
  t.equal(parseEnv(['agi_network_script: /autodistribution/']).script, 'autodistribution', 'slashes trimmed');
  t.equal(parseEnv(['agi_network_script: a/b?c=d']).script, 'a/b', 'nested path kept');
  t.equal(
    parseEnv(['agi_request: agi://pbx.example:4573/fallback?q=1']).script,
    'fallback',
    'from agi_request when agi_network_script is missing',
  );
  t.same(parseEnv(['agi_request: agi://pbx.example:4573/fallback?q=a:b']).params, { q: 'a:b' });
  t.equal(parseEnv(['agi_request: /var/lib/asterisk/agi-bin/x.sh']).script, '', 'not an AGI URL → empty');
});

t.test('parseEnv: argument gaps read as empty', async (t) => {
  t.same(parseEnv(['agi_network_script: x', 'agi_arg_3: c', 'agi_arg_1: a']).args, ['a', '', 'c']);
});

t.test('parseEnv: malformed blocks', async (t) => {
  const bad: [string[], string][] = [
    [['agi_network_script: x', 'agi_channel:PJSIP/1'], 'no ": "'],
    [['agi_network_script: x', 'garbage line'], 'no separator at all'],
    [['agi_network_script: x', ': value'], 'empty key'],
    [['agi_network_script: x', 'Host: example'], 'not an agi_ key'],
    [['GET / HTTP/1.1'], 'an HTTP request'],
    [['agi_channel: PJSIP/1'], 'neither agi_network_script nor agi_request'],
    [[], 'empty block'],
    [['agi_network_script: x', 'agi_arg_200: y'], 'too many arguments'],
  ];
  for (const [lines, why] of bad) {
    t.throws(() => parseEnv(lines), { code: 'AGI_MALFORMED_ENV' }, why);
  }
  const err = (() => {
    try {
      parseEnv(['agi_x' + 'y'.repeat(500)]);
    } catch (e) {
      return e as AgiError;
    }
    return null;
  })();
  t.type(err, AgiError);
  t.ok(err && typeof err.line === 'string' && err.line.length <= 121, 'the offending line is cut for logs');
});

t.test('parseReply: 200 forms', async (t) => {
  t.match(parseReply(['200 result=1 (Иван Петров)']), { code: 200, result: 1, data: 'Иван Петров', endpos: null, extra: '' });
  t.match(parseReply(['200 result=0']), { code: 200, result: 0, data: null });
  t.match(parseReply(['200 result=-1']), { code: 200, result: -1 });
  t.match(parseReply(['200 result=1 ()']), { data: '' }, 'empty value');
  t.match(parseReply(['200 result=1 (a (b) c)']), { data: 'a (b) c' }, 'parentheses inside the value');
  t.match(parseReply(['200 result=1 (x: y)']), { data: 'x: y' });
  t.match(parseReply(['200 result=0 endpos=12345']), { result: 0, data: null, endpos: 12345 });
  t.match(parseReply(['200 result=49 (timeout) endpos=800']), { result: 49, data: 'timeout', endpos: 800 });
  t.match(parseReply(['200 result=1 something else']), { data: null, extra: 'something else' });
});

t.test('parseReply: 510, 511, 520', async (t) => {
  t.same(parseReply(['510 Invalid or unknown command']), {
    code: 510,
    message: 'Invalid or unknown command',
    usage: [],
    raw: '510 Invalid or unknown command',
  });
  t.match(parseReply(['511 Command Not Permitted on a dead channel or intercepted channel']), {
    code: 511,
    message: 'Command Not Permitted on a dead channel or intercepted channel',
  });
  t.match(parseReply(['520 Invalid command syntax.  Proper usage not available.']), { code: 520, usage: [] });
  const multi = parseReply([
    '520-Invalid command syntax.  Proper usage follows:',
    ' Usage: GET VARIABLE <variablename>',
    '',
    ' Returns 0 if not set.',
    '520 End of proper usage.',
  ]);
  t.match(multi, {
    code: 520,
    message: 'Invalid command syntax.  Proper usage follows:',
    usage: [' Usage: GET VARIABLE <variablename>', '', ' Returns 0 if not set.'],
  });
});

t.test('parseReply: malformed', async (t) => {
  for (const lines of [['200 result=abc'], ['200 ok'], ['HTTP/1.1 200 OK'], [''], ['5100 x'], ['200 result=1', 'x']]) {
    t.throws(() => parseReply(lines), { code: 'AGI_MALFORMED_REPLY' }, JSON.stringify(lines));
  }
});

t.test('encodeCommand: quoting and escaping', async (t) => {
  t.equal(encodeCommand('GET VARIABLE', ['CALLERID(name)']), 'GET VARIABLE "CALLERID(name)"\n');
  t.equal(encodeCommand('ANSWER'), 'ANSWER\n');
  t.equal(
    encodeCommand('SET VARIABLE', [{ name: 'name', value: 'CALLERID(name)' }, { name: 'value', value: 'Иван "Ёж" \\ Петров' }]),
    'SET VARIABLE "CALLERID(name)" "Иван \\"Ёж\\" \\\\ Петров"\n',
  );
  t.equal(encodeCommand('VERBOSE', ['msg', 3]), 'VERBOSE "msg" "3"\n', 'numbers are quoted too');
  t.equal(encodeCommand('EXEC', ['NoOp', '']), 'EXEC "NoOp" ""\n', 'empty argument kept');
  t.equal(quoteArgument('a"b\\c'), '"a\\"b\\\\c"');
});

t.test('encodeCommand: Asterisk parses back exactly what was sent', async (t) => {
  const tricky = [
    'plain',
    '',
    ' ',
    'two words',
    'tab\there',
    '"',
    '\\',
    '\\"',
    '"\\',
    'ends with backslash\\',
    '\\\\double',
    'quote " in the middle',
    'Иван "Ёж" Петров',
    'a:b: c',
    '{"json": [1, "two"]}',
    '(parens) $ { } ; , |',
    "single 'quotes'",
  ];
  for (const value of tricky) {
    const line = encodeCommand('SET VARIABLE', ['NAME', value]);
    t.same(asteriskParseArgs(line.slice(0, -1)), ['SET', 'VARIABLE', 'NAME', value], JSON.stringify(value));
  }
});

t.test('encodeCommand: CR, LF and NUL are errors naming the argument', async (t) => {
  for (const bad of ['a\nSET VARIABLE "X" "1"', 'a\r', '\0', 'line1\r\nline2']) {
    t.throws(
      () => encodeCommand('SET VARIABLE', [{ name: 'name', value: 'X' }, { name: 'value', value: bad }]),
      { code: 'AGI_INVALID_ARGUMENT', argument: 'value', command: 'SET VARIABLE', message: /"value"/ },
      JSON.stringify(bad),
    );
  }
  t.throws(() => encodeCommand('GET VARIABLE', ['ok', 'bad\n']), { code: 'AGI_INVALID_ARGUMENT', argument: 'arg2' });
  t.throws(() => encodeCommand('VERBOSE', ['x', Number.NaN]), { code: 'AGI_INVALID_ARGUMENT', argument: 'arg2' });
  t.throws(() => encodeCommand('VERBOSE', ['x', Infinity]), { code: 'AGI_INVALID_ARGUMENT' });
});

t.test('encodeCommand: command names and length', async (t) => {
  for (const bad of ['', 'GET  VARIABLE', 'GET VARIABLE\n', 'EXEC "x"', ' ANSWER', 'ANSWER ']) {
    t.throws(() => encodeCommand(bad), { code: 'AGI_INVALID_COMMAND' }, JSON.stringify(bad));
  }
  // "VERBOSE " + quotes + "\n" = 11 bytes of framing
  const fits = 'x'.repeat(MAX_COMMAND_BYTES - 11);
  t.equal(Buffer.byteLength(encodeCommand('VERBOSE', [fits])), MAX_COMMAND_BYTES);
  t.throws(() => encodeCommand('VERBOSE', [`${fits}x`]), { code: 'AGI_COMMAND_TOO_LONG' });
  // multi-byte characters count in bytes, not UTF-16 units
  t.throws(() => encodeCommand('VERBOSE', ['Ж'.repeat(1100)]), { code: 'AGI_COMMAND_TOO_LONG' });
});
