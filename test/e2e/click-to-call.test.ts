// End-to-end click-to-call: the product's AMI adapter and click-to-call
// service against a real Asterisk 22 with SIPp phones. The employee's phone
// (UAS 101) rings first; once it answers, [kommo-originate] dials the client
// through the trunk (UAS at 127.0.0.2). Needs the sid root and root privileges.
import t from 'tap';
import { pino } from 'pino';
import { createAmiClient } from '../../lib/protocol/ami/index.js';
import { field, type AmiEvent } from '../../lib/protocol/ami/events.js';
import { createClickToCall } from '../../lib/domain/originate/index.js';
import { normalizeClientPhone } from '../../lib/platform/phone.js';
import type { HookRunner } from '../../lib/adapters/hooks/loader.js';
import { defaults as configDefaults } from '../../lib/platform/config/defaults.js';
import { asteriskRootProblem, startAsterisk, type AsteriskInstance } from '../../rig/sandbox/asterisk.js';
import { displayName, header, sipp } from '../../rig/sandbox/sipp.js';

const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  const logger = pino({ level: process.env.KA_TEST_LOG ? 'debug' : 'silent' });
  const noHooks: Pick<HookRunner, 'run'> = {
    run: (async (_h: string, _i: unknown, defaults: unknown) => ({ data: defaults, applied: false })) as unknown as HookRunner['run'],
  };

  async function connect(ast: AsteriskInstance) {
    const ami = createAmiClient(
      {
        ...configDefaults.ami,
        host: ast.amiHost,
        port: ast.amiPort,
        username: ast.amiUser,
        secret: ast.amiSecret,
        action_timeout_ms: 5000,
        reconnect_min_ms: 200,
        reconnect_max_ms: 2000,
        max_queued_actions: 50,
      },
      { logger },
    );
    await ami.connect();
    return ami;
  }

  t.test('employee 101 rings first, then the client is dialled through the trunk', async (t) => {
    const ast = await startAsterisk();
    t.teardown(() => ast.stop());
    const ami = await connect(ast);
    t.teardown(() => ami.destroy());
    const events: AmiEvent[] = [];
    ami.on('event', (e) => events.push(e));

    const phone = await sipp({ scenario: 'uas-answer', localIp: ast.phones['101']!, localPort: ast.phonePort, durationMs: 500, timeoutMs: 30000 });
    const client = await sipp({ scenario: 'uas-answer', localIp: ast.trunkIp, localPort: ast.trunkPort, durationMs: 300, timeoutMs: 30000 });

    const c2c = createClickToCall({
      config: { pbx: { extensions: { '101': 5001 } }, originate: { ring_timeout_ms: 15000, response_timeout_ms: 20000 } },
      ami,
      hooks: noHooks,
      normalizePhone: (raw) => normalizeClientPhone(raw),
      logger,
    });
    const out = await c2c.clickToCall({ userId: 5001, phone: '+7 (999) 000-11-22' }, { wait: true });
    t.match(out, { state: 'answered', placed: true, response: 'Success', reason: 4, reasonText: 'answered', extension: '101', number: '79990001122' });
    t.match(out.channel ?? '', /^PJSIP\/101-/, 'OriginateResponse names the employee channel');

    // The client leg: wait until the trunk channel is up, then hang the call up.
    const deadline = Date.now() + 15000;
    while (!events.some((e) => e.event === 'newstate' && field(e, 'channel').startsWith('PJSIP/trunk-') && field(e, 'channelstate') === '6')) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await ami.action({ action: 'Hangup', Channel: out.channel ?? '' });
    const [emp, cli] = await Promise.all([phone.done, client.done]);

    const empInvite = emp.received.find((m) => m.method === 'INVITE');
    const cliInvite = cli.received.find((m) => m.method === 'INVITE');
    t.ok(empInvite, 'the employee phone received an INVITE');
    t.ok(cliInvite, 'the trunk received an INVITE for the client');
    t.match(empInvite?.startLine ?? '', /^INVITE sip:101@127\.0\.0\.3:\d+ /);
    t.equal(displayName(header(empInvite!, 'from')), 'Kommo', 'the employee sees the CallerID name');
    t.match(header(empInvite!, 'from') ?? '', /sip:79990001122@/, 'and the client number');
    t.match(cliInvite?.startLine ?? '', /^INVITE sip:79990001122@127\.0\.0\.2:\d+ /, 'the client number is dialled on the trunk');
    t.equal(emp.code, 0, `phone SIPp ok: ${emp.stderr.slice(-300)}`);
    t.equal(cli.code, 0, `trunk SIPp ok: ${cli.stderr.slice(-300)}`);

    // Order and identity, from AMI: our ChannelId is the employee channel's uniqueid and the call's linkedid;
    // the trunk channel appears only after the employee answered (OriginateResponse).
    const idx = (pred: (e: AmiEvent) => boolean): number => events.findIndex(pred);
    const empNew = idx((e) => e.event === 'newchannel' && field(e, 'channel').startsWith('PJSIP/101-'));
    const empUp = idx((e) => e.event === 'newstate' && field(e, 'channel').startsWith('PJSIP/101-') && field(e, 'channelstate') === '6');
    const resp = idx((e) => e.event === 'originateresponse');
    const trunkNew = idx((e) => e.event === 'newchannel' && field(e, 'channel').startsWith('PJSIP/trunk-'));
    t.ok(empNew >= 0 && empUp > empNew, 'employee channel created, then answered');
    t.ok(trunkNew > empUp && trunkNew > resp, 'the client is dialled only after the employee answered');
    t.equal(field(events[empNew]!, 'uniqueid'), out.channelId, 'our ChannelId is the uniqueid');
    t.equal(field(events[trunkNew]!, 'linkedid'), out.channelId, 'and the linkedid of the client leg');
    const varsets = events.filter((e) => e.event === 'varset' && field(e, 'uniqueid') === out.channelId);
    const vars = new Map(varsets.map((e) => [Object.keys(e['variable'] as Record<string, string>)[0] ?? '', field(e, 'value')]));
    t.equal(vars.get('KOMMO_CLICK_TO_CALL'), '1', 'KOMMO_CLICK_TO_CALL set on the channel');
    t.equal(vars.get('KOMMO_USER_ID'), '5001', 'KOMMO_USER_ID set on the channel');
    t.equal(vars.get('KOMMO_CLIENT_NUMBER'), '79990001122', 'KOMMO_CLIENT_NUMBER set on the channel');
  });

  t.test('the employee is busy: Failure, reason busy; an unknown endpoint: no channel', async (t) => {
    const ast = await startAsterisk();
    t.teardown(() => ast.stop());
    const ami = await connect(ast);
    t.teardown(() => ami.destroy());
    const c2c = createClickToCall({
      config: { pbx: { extensions: { '101': 5001 } }, originate: { ring_timeout_ms: 10000, response_timeout_ms: 15000 } },
      ami,
      hooks: noHooks,
      normalizePhone: (raw) => normalizeClientPhone(raw),
      logger,
    });
    const phone = await sipp({ scenario: 'uas-busy', localIp: ast.phones['101']!, localPort: ast.phonePort, timeoutMs: 20000 });
    const busy = await c2c.clickToCall({ extension: '101', phone: '79990001122' }, { wait: true });
    t.match(busy, { state: 'failed', placed: false, response: 'Failure', reasonText: 'busy', hangupCause: 17 });
    phone.kill();
    await phone.done;

    const none = await c2c.clickToCall({ extension: '999', phone: '79990001122' }, { wait: true });
    t.match(none, { state: 'failed', response: 'Failure', reason: 0, reasonText: 'no channel' });
  });
}
