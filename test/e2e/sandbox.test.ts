/**
 * The README's first command, `npm run sandbox`, run in-process: real Asterisk,
 * simulator, connector, four SIP calls. Asserts what landed in the simulated
 * Kommo through the printed report (what a newcomer sees).
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { runSandbox } from '../../bin/sandbox.js';

t.test('the sandbox places four calls and every one lands in Kommo', async (t) => {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  const code = await runSandbox({ stay: false, out });
  t.equal(code, 0, `sandbox exit code (output:\n${text})`);
  t.match(text, /HTTP 200 placed/, 'click-to-call accepted by the HTTP endpoint');
  const calls = /^Calls \((\d+)\)$/m.exec(text);
  t.equal(calls?.[1], '4', 'four call records');
  t.match(text, /^\d+\s+inbound\s+79991234567\s+4 had a conversation\s+\d+ s\s+Maria Garcia \(5002\)/m, 'the known client reached their manager');
  t.match(text, /^\d+\s+inbound\s+79990000001\s+4 had a conversation/m, 'the unknown caller was answered on the normal route');
  t.match(text, /^\d+\s+inbound\s+79990000002\s+6 could not get through/m, 'the missed call');
  t.match(text, /^\d+\s+outbound\s+79995554433\s+4 had a conversation\s+\d+ s\s+Иван Петров \(5001\)/m, 'click-to-call registered as outbound for the clicking user');
  t.match(text, /^Tasks \(1\)$/m, 'one call-back task');
  t.match(text, /Call back Contact 79990000002 on a missed call/, 'the task is for the missed call');
  t.match(text, /Range bytes=0-15 → 206 audio\/mpeg bytes 0-15\/\d+ \(16 bytes\)/, 'a recording link serves an mp3 with Range');
  t.match(text, /Kommo requests: \d+ in all, 0 answered 429/, 'no 429 from the simulator');
  t.match(text, /^popup shown to Maria Garcia for \+7 999 123-45-67: Kommo opens contact "Константин Константинопольский"/m, 'the known client\'s call popped up for Maria while 102 rang');
  t.match(text, /^popup shown to Ольга Smirnova for \+7 999 000-00-01: an unknown number/m, 'the unknown caller popped up for Olga (extension 103)');
  t.match(text, /^popup shown to Иван Петров for \+7 999 000-00-02/m, 'the missed call popped up for Ivan while 101 rang');
  t.match(text, /^Popups while phones rang \(3\)$/m, 'no popup for the click-to-call (outbound)');
});
