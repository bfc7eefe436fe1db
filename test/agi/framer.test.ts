import t from 'tap';
import { AgiFramer, type AgiFrame } from '../../agi/framer.js';
import { AgiError } from '../../agi/errors.js';
import { envBlock } from './fixtures/fake-asterisk.js';

type Feed = 'whole' | 'byte by byte' | 'odd chunks';

function feed(input: Buffer, mode: Feed, options: { maxHeaderBytes?: number; maxReplyBytes?: number } = {}): AgiFrame[] {
  const frames: AgiFrame[] = [];
  const framer = new AgiFramer({ onFrame: (f) => frames.push(f), ...options });
  if (mode === 'whole') framer.push(input);
  else if (mode === 'byte by byte') for (let i = 0; i < input.length; i++) framer.push(input.subarray(i, i + 1));
  else for (let i = 0; i < input.length; i += 7) framer.push(input.subarray(i, i + 7));
  return frames;
}

const MODES: Feed[] = ['whole', 'byte by byte', 'odd chunks'];

const ENV = envBlock({
  calleridname: 'Иван Петров',
  args: ['a:b', 'Ёлка: ёж'],
  extra: { agi_request: 'agi://127.0.0.1:4573/autodistribution?x=1' },
});
const USAGE = [
  '520-Invalid command syntax.  Proper usage follows:',
  ' Usage: DATABASE GET <family> <key>',
  '',
  '  Retrieves an entry: 200 result=1 (value)',
  '520 End of proper usage.',
];

t.test('environment block then replies, every way of chunking', async (t) => {
  const stream = Buffer.from(
    ENV +
      '200 result=1 (Мария «Ромашка»)\n' +
      'HANGUP\n' +
      '\n' +
      USAGE.join('\n') +
      '\n' +
      '510 Invalid or unknown command\r\n' +
      '200 result=0\n',
    'utf8',
  );
  const expectedEnvLines = ENV.trimEnd().split('\n');
  for (const mode of MODES) {
    const frames = feed(stream, mode);
    t.same(
      frames,
      [
        { kind: 'env', lines: expectedEnvLines },
        { kind: 'reply', lines: ['200 result=1 (Мария «Ромашка»)'] },
        { kind: 'hangup' },
        { kind: 'reply', lines: USAGE },
        { kind: 'reply', lines: ['510 Invalid or unknown command'] },
        { kind: 'reply', lines: ['200 result=0'] },
      ],
      mode,
    );
  }
});

t.test('a multi-byte character split between two chunks is not torn', async (t) => {
  const frames: AgiFrame[] = [];
  const framer = new AgiFramer({ onFrame: (f) => frames.push(f) });
  const bytes = Buffer.from('agi_calleridname: Ж\n\n', 'utf8');
  const cut = bytes.indexOf(Buffer.from('Ж', 'utf8')) + 1; // inside the two-byte Ж
  framer.push(bytes.subarray(0, cut));
  t.equal(frames.length, 0, 'nothing before the blank line');
  t.ok(framer.bufferedBytes > 0, 'the partial line is held');
  framer.push(bytes.subarray(cut));
  t.same(frames, [{ kind: 'env', lines: ['agi_calleridname: Ж'] }]);
  t.equal(framer.phase, 'replies');
  t.ok(framer.idle, 'nothing buffered at a frame boundary');
});

t.test('several messages glued into one chunk come out in order', async (t) => {
  const frames = feed(Buffer.from(`${ENV}200 result=1\n200 result=1\n200 result=1\nHANGUP\nHANGUP\n`), 'whole');
  t.same(
    frames.map((f) => f.kind),
    ['env', 'reply', 'reply', 'reply', 'hangup', 'hangup'],
  );
});

t.test('CRLF line ends are accepted in both phases', async (t) => {
  const frames = feed(Buffer.from('agi_network: yes\r\nagi_network_script: x\r\n\r\n200 result=1 (a)\r\n'), 'byte by byte');
  t.same(frames, [
    { kind: 'env', lines: ['agi_network: yes', 'agi_network_script: x'] },
    { kind: 'reply', lines: ['200 result=1 (a)'] },
  ]);
});

t.test('a 520 block whose closing line lost its EOL still ends', async (t) => {
  const frames = feed(Buffer.from(`\n520-Invalid command syntax.\n Usage: X520 End of proper usage.\n200 result=1\n`), 'whole');
  t.same(frames, [
    { kind: 'env', lines: [] },
    { kind: 'reply', lines: ['520-Invalid command syntax.', ' Usage: X520 End of proper usage.'] },
    { kind: 'reply', lines: ['200 result=1'] },
  ]);
});

t.test('single-line 520 is one reply', async (t) => {
  const frames = feed(Buffer.from(`\n520 Invalid command syntax.  Proper usage not available.\n`), 'whole');
  t.same(frames[1], { kind: 'reply', lines: ['520 Invalid command syntax.  Proper usage not available.'] });
});

t.test('an oversize environment block is an error, also without any newline', async (t) => {
  for (const mode of MODES) {
    t.throws(
      () => feed(Buffer.from(`agi_x: ${'y'.repeat(300)}\n`), mode, { maxHeaderBytes: 256 }),
      { code: 'AGI_HEADER_TOO_LARGE', limit: 256 },
      `${mode}: one long line`,
    );
    t.throws(
      () => feed(Buffer.alloc(1000, 0x41), mode, { maxHeaderBytes: 256 }),
      { code: 'AGI_HEADER_TOO_LARGE' },
      `${mode}: garbage with no newline`,
    );
    t.throws(
      () => feed(Buffer.from('agi_a: b\n'.repeat(40)), mode, { maxHeaderBytes: 256 }),
      { code: 'AGI_HEADER_TOO_LARGE' },
      `${mode}: many short lines`,
    );
  }
  // exactly at the limit is fine
  const exact = 'agi_a: b\n\n';
  t.equal(feed(Buffer.from(exact), 'whole', { maxHeaderBytes: exact.length }).length, 1);
});

t.test('an oversize reply or 520 block is an error', async (t) => {
  for (const mode of MODES) {
    t.throws(() => feed(Buffer.from(`\n200 result=1 (${'x'.repeat(200)})\n`), mode, { maxReplyBytes: 100 }), {
      code: 'AGI_LINE_TOO_LONG',
    });
    t.throws(
      () => feed(Buffer.from(`\n520-Invalid\n${' usage line\n'.repeat(20)}`), mode, { maxReplyBytes: 100 }),
      { code: 'AGI_LINE_TOO_LONG' },
      `${mode}: a 520 block that never ends`,
    );
  }
  // long replies one after another are each within the bound
  const ok = feed(Buffer.from(`\n${`200 result=1 (${'x'.repeat(80)})\n`.repeat(5)}`), 'odd chunks', { maxReplyBytes: 100 });
  t.equal(ok.length, 6);
});

t.test('after an error the framer stays failed', async (t) => {
  const framer = new AgiFramer({ onFrame: () => undefined, maxHeaderBytes: 10 });
  let first: unknown;
  try {
    framer.push(Buffer.from('agi_abcdefghijkl'));
  } catch (err) {
    first = err;
  }
  t.type(first, AgiError);
  t.equal(framer.phase, 'failed');
  t.throws(() => framer.push(Buffer.from('\n\n')), first as Error, 'the same error again');
});
