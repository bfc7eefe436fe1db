// End-to-end smoke test of the test rig itself: a real Asterisk 22, one SIPp
// call from the trunk to DID 201, answered by extension 101.
// Needs the root from scripts/asterisk-root.sh and root privileges.
import t from 'tap';
import { startAsterisk } from '../../rig/sandbox/asterisk.js';
import { field, type AmiMessage } from '../../rig/sandbox/asterisk-ami.js';
import { displayName, header, sipp, startSipp } from '../../rig/sandbox/sipp.js';

t.test('trunk → 201 → extension 101, answered', async (t) => {
  const ast = await startAsterisk();
  t.teardown(() => ast.stop());
  const ami = await ast.ami();
  t.teardown(() => ami.close());
  const events: AmiMessage[] = [];
  ami.on('event', (m: AmiMessage) => events.push(m));

  const endpoints = await ast.cli('pjsip show endpoints');
  t.match(endpoints, /Endpoint:\s+trunk/, 'trunk endpoint loaded');
  t.match(endpoints, /Endpoint:\s+101/, 'extension 101 loaded');

  const phone = await sipp({ scenario: 'uas-answer', localIp: ast.phones['101']!, localPort: ast.phonePort, durationMs: 300 });
  const hangups = ami.waitForEvent(
    (m) => m.Event === 'Hangup' && field(m, 'Channel')?.startsWith('PJSIP/101-') === true,
    20000,
    'Hangup of PJSIP/101',
  );
  const trunk = await startSipp({
    scenario: 'uac',
    localIp: ast.trunkIp,
    localPort: ast.trunkPort,
    remote: `${ast.sipHost}:${ast.sipPort}`,
    service: '201',
    durationMs: 1000,
    keys: { caller_num: '79991234567', caller_name: 'Ivan Petrov' },
  });
  const [caller, callee] = await Promise.all([trunk.done, phone.done]);

  t.equal(caller.code, 0, `caller SIPp succeeded: ${caller.stderr.slice(-500)}`);
  t.equal(caller.finalStatus, 200, 'the call was answered');
  t.equal(callee.code, 0, `phone SIPp succeeded: ${callee.stderr.slice(-500)}`);

  const invite = callee.received.find((m) => m.method === 'INVITE');
  t.ok(invite, 'extension 101 received an INVITE');
  t.match(invite?.startLine ?? '', /^INVITE sip:101@127\.0\.0\.3:\d+ /, 'INVITE addressed to 101');
  t.equal(displayName(header(invite!, 'from')), 'Ivan Petrov', 'From display name is the caller name');
  t.match(header(invite!, 'from') ?? '', /sip:79991234567@/, 'From number is the caller number');
  t.ok(callee.received.some((m) => m.method === 'BYE'), 'extension 101 got the BYE');

  const hangup = await hangups;
  t.equal(field(hangup, 'Cause'), '16', 'normal clearing');
  const linkedid = field(hangup, 'Linkedid');
  t.ok(linkedid, 'Hangup has a Linkedid');
  const trunkNew = events.find((m) => m.Event === 'Newchannel' && field(m, 'Channel')?.startsWith('PJSIP/trunk-'));
  t.ok(trunkNew, 'AMI saw the trunk channel');
  t.equal(field(trunkNew!, 'Exten'), '201', 'dialled DID 201');
  t.equal(field(trunkNew!, 'Uniqueid'), linkedid, 'both legs share the trunk leg linkedid');
  const dialEnd = events.find((m) => m.Event === 'DialEnd');
  t.equal(dialEnd && field(dialEnd, 'DialStatus'), 'ANSWER', 'DialEnd ANSWER');
  t.ok(events.some((m) => m.Event === 'CEL' && field(m, 'EventName') === 'ANSWER'), 'CEL events arrive over AMI');
  t.ok(events.some((m) => m.Event === 'MixMonitorStart'), 'the bundled kommo-record started MixMonitor');
});
