// End-to-end: several Asterisk servers, one Kommo account. Two real Asterisk 22
// instances (their own AMI and SIP ports), one connector (bin/compose.ts startBridge)
// following both (`ami` a list: "east" and "west"), one journal, one Kommo client,
// the strict simulator. SIPp places real calls on both servers.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { asteriskRootProblem, startAsterisk, type AsteriskInstance } from '../../rig/sandbox/asterisk.js';
import { startSipp } from '../../rig/sandbox/sipp.js';
import { buildOriginateAction } from '../../lib/domain/originate/index.js';
import { startHttp, statusSnapshot } from '../../bin/compose.js';
import type { HttpServer } from '../../lib/adapters/http/index.js';
import { freeTcpPort } from '../../rig/sandbox/ports.js';
import { overallStatus } from '../../lib/adapters/http/status.js';
import type { CallRecord } from '../../lib/domain/registration/types.js';
import { callsFor, placeCall, startRig, U, waitFor, waitNoChannels, waitRegistered, type Rig } from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  const HTTP_SECRET = 'multi-ami-http-secret-0123456789';
  let west: AsteriskInstance;
  let rig: Rig;
  let http: HttpServer | undefined;
  let base = '';
  /** The same rig, with the west server's Asterisk for placeCall. */
  let rigWest: Rig;

  t.before(async () => {
    west = await startAsterisk({ dialTimeout: 6 });
    try {
      rig = await startRig({
        config: { http: { enabled: true, host: '127.0.0.1', port: await freeTcpPort(), secret: HTTP_SECRET } },
        deferConfig: (file) => {
          const east = file['ami'] as Record<string, unknown>;
          file['ami'] = [
            { ...east, name: 'east', extensions: ['101'] },
            { ...east, name: 'west', host: west.amiHost, port: west.amiPort, username: west.amiUser, secret: west.amiSecret, extensions: ['102'] },
          ];
        },
      });
    } catch (err) {
      await west.stop();
      throw err;
    }
    rigWest = { ...rig, ast: west };
    await waitFor('both AMI connections', () => rig.bridge!.servers.every((s) => s.ami.isConnected()), 15_000);
    http = await startHttp(rig.core!, { bridge: rig.bridge!, startedAt: new Date() });
    const a = http!.address()!;
    base = `http://${a.host}:${a.port}`;
  });
  t.teardown(async () => {
    await http?.close();
    await rig?.close();
    await west?.stop().catch(() => undefined);
  });

  async function journal(): Promise<CallRecord[]> {
    const dir = path.join(rig.dataDir, 'calls');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as CallRecord));
  }

  t.test('one connector follows both servers: one journal, one registrar, the server names in order', async (t) => {
    t.same(rig.bridge!.servers.map((s) => s.name), ['east', 'west']);
    t.not(rig.bridge!.servers[0]!.ami, rig.bridge!.servers[1]!.ami, 'an AMI client per server');
    t.not(rig.ast.amiPort, west.amiPort, 'two Asterisk instances on different ports');
    const snap = statusSnapshot(new Date(), { core: rig.core!, bridge: rig.bridge! });
    t.same(snap.ami, { connected: true, servers: [{ name: 'east', connected: true }, { name: 'west', connected: true }] });
  });

  t.test('inbound calls on both servers at once: each registered exactly once, the server in call_full.pbx and in uniq', async (t) => {
    const onEast = '79995551001';
    const onWest = '79995551002';
    const [a, b] = await Promise.all([
      placeCall(rig, { from: 'trunk', service: '201', caller: onEast, durationMs: 2000, uas: [{ at: '101', scenario: 'uas-answer', durationMs: 500 }] }),
      placeCall(rigWest, { from: 'trunk', service: '201', caller: onWest, durationMs: 2000, uas: [{ at: '101', scenario: 'uas-answer', durationMs: 500 }] }),
    ]);
    t.equal(a.caller.finalStatus, 200, 'east answered');
    t.equal(b.caller.finalStatus, 200, 'west answered');
    await waitRegistered(rig, onEast);
    await waitRegistered(rig, onWest);
    const east = callsFor(rig.sim, onEast);
    const westCalls = callsFor(rig.sim, onWest);
    t.equal(east.length, 1, 'one call record for the east call');
    t.equal(westCalls.length, 1, 'one call record for the west call');
    t.match(east[0]!.body, { direction: 'inbound', call_status: 4, responsible_user_id: U.ivan, uniq: /^east\.\d+\.\d+$/ });
    t.match(westCalls[0]!.body, { direction: 'inbound', call_status: 4, responsible_user_id: U.ivan, uniq: /^west\.\d+\.\d+$/ });

    const records = await journal();
    const rEast = records.find((r) => r.linkedid === east[0]!.body['uniq']);
    const rWest = records.find((r) => r.linkedid === westCalls[0]!.body['uniq']);
    t.equal(rEast?.call.pbx, 'east', 'call_full.pbx of the east call');
    t.equal(rWest?.call.pbx, 'west', 'call_full.pbx of the west call');
    t.equal(rEast?.status, 'done');
    t.equal(rWest?.status, 'done');
    t.equal(rEast?.id, rEast?.linkedid, 'the journal id is <server>.<linkedid>');
    t.equal(`east.${rEast?.call.channel.id}`, rEast?.linkedid);
  });

  t.test('the same linkedid on both servers (Originate with one ChannelId): two calls, two records, registered once each', async (t) => {
    const linkedid = `ka-same-${Date.now()}`;
    const numbers = { east: '79995552001', west: '79995552002' } as const;
    const legs = [];
    for (const [i, ast] of [rig.ast, west].entries()) {
      const employee = await startSipp({ scenario: 'uas-answer', localIp: ast.phones['102']!, localPort: ast.phonePort, durationMs: 300, timeoutMs: 40_000 });
      const client = await startSipp({ scenario: 'uas-answer-bye', localIp: ast.trunkIp, localPort: ast.trunkPort, durationMs: 300, timeoutMs: 40_000 });
      await Promise.all([employee.ready, client.ready]);
      legs.push({ employee, client, server: rig.bridge!.servers[i]! });
    }
    await Promise.all(legs.map(({ server }) => {
      const number = numbers[server.name as keyof typeof numbers];
      return server.ami.action(buildOriginateAction({
        params: { caller_id: `"Kommo" <${number}>`, channel: 'PJSIP/102', context: 'kommo-originate', extension: number, priority: 1 },
        ids: { channelId: linkedid, otherChannelId: `${linkedid}-2` },
        ringTimeoutMs: 15_000,
        variables: { KOMMO_CLICK_TO_CALL: '1', KOMMO_CLIENT_NUMBER: number, KOMMO_CALLER_EXTENSION: '102' },
      }));
    }));
    const sipps = await Promise.all(legs.flatMap((l) => [l.employee.done, l.client.done]));
    t.ok(sipps.every((r) => r.received.some((m) => m.method === 'INVITE')), 'every phone and trunk got its INVITE');
    await Promise.all([waitNoChannels(rig), waitNoChannels(rigWest)]);

    await waitRegistered(rig, numbers.east);
    await waitRegistered(rig, numbers.west);
    const east = callsFor(rig.sim, numbers.east);
    const westCalls = callsFor(rig.sim, numbers.west);
    t.equal(east.length, 1, 'the east call registered once');
    t.equal(westCalls.length, 1, 'the west call registered once (not taken for the east call)');
    t.equal(east[0]!.body['uniq'], `east.${linkedid}`);
    t.equal(westCalls[0]!.body['uniq'], `west.${linkedid}`);
    t.match(east[0]!.body, { direction: 'outbound', responsible_user_id: U.maria });
    t.match(westCalls[0]!.body, { direction: 'outbound', responsible_user_id: U.maria });

    const same = (await journal()).filter((r) => r.call.channel.id === linkedid);
    t.same(same.map((r) => [r.id, r.call.pbx, r.status]).sort(), [[`east.${linkedid}`, 'east', 'done'], [`west.${linkedid}`, 'west', 'done']]);
  });

  t.test('click-to-call over HTTP goes to the server that lists the extension (Maria, 102 → west); status shows both servers', async (t) => {
    const auth = { authorization: `Bearer ${HTTP_SECRET}` };
    const status = (await (await fetch(`${base}/api/v1/status`, { headers: auth })).json()) as { app: string; ami: unknown };
    t.same(status.ami, { connected: true, servers: [{ name: 'east', connected: true }, { name: 'west', connected: true }] });
    const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    t.match(metrics, /^kommo_asterisk_ami_connected\{server="west"\} 1$/m);

    const number = '79995554001';
    // Phones on both servers: only west's 102 may ring.
    const westPhone = await startSipp({ scenario: 'uas-answer', localIp: west.phones['102']!, localPort: west.phonePort, durationMs: 300, timeoutMs: 40_000 });
    const westTrunk = await startSipp({ scenario: 'uas-answer-bye', localIp: west.trunkIp, localPort: west.trunkPort, durationMs: 300, timeoutMs: 40_000 });
    const eastPhone = await startSipp({ scenario: 'uas-answer', localIp: rig.ast.phones['102']!, localPort: rig.ast.phonePort, durationMs: 300, timeoutMs: 12_000 });
    await Promise.all([westPhone.ready, westTrunk.ready, eastPhone.ready]);
    const res = await fetch(`${base}/api/v1/click-to-call`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: U.maria, phone: `+${number}` }),
    });
    const body = (await res.json()) as { placed: boolean; extension: string; channelId: string };
    t.equal(res.status, 200, JSON.stringify(body));
    t.match(body, { placed: true, extension: '102' });
    const [phone, trunk] = await Promise.all([westPhone.done, westTrunk.done]);
    eastPhone.kill(); // the west call is over: east's 102 had its chance to ring
    const other = await eastPhone.done;
    t.ok(phone.received.some((m) => m.method === 'INVITE'), "west's 102 rang");
    t.ok(trunk.received.some((m) => m.method === 'INVITE'), "west's trunk dialled the client");
    t.notOk(other.received.some((m) => m.method === 'INVITE'), "east's 102 did not ring");
    await waitNoChannels(rigWest);
    await waitRegistered(rig, number);
    const calls = callsFor(rig.sim, number);
    t.equal(calls.length, 1, 'registered once');
    t.equal(calls[0]!.body['uniq'], `west.${body.channelId}`, 'from the west server');
  });

  t.test('one server down does not stop the other: its calls are still registered; status names the server', async (t) => {
    await west.stop();
    await waitFor('the west AMI link down', () => !rig.bridge!.servers[1]!.ami.isConnected(), 15_000);
    const phone = '79995553001';
    await placeCall(rig, { from: 'trunk', service: '201', caller: phone, durationMs: 1500, uas: [{ at: '101', scenario: 'uas-answer', durationMs: 300 }] });
    await waitRegistered(rig, phone);
    t.equal(callsFor(rig.sim, phone).length, 1, 'the east call is registered');
    t.match(callsFor(rig.sim, phone)[0]!.body, { uniq: /^east\./ });
    t.ok(rig.bridge!.servers[0]!.ami.isConnected(), 'east still connected');
    const snap = statusSnapshot(new Date(), { core: rig.core!, bridge: rig.bridge! });
    t.same(snap.ami.servers, [{ name: 'east', connected: true }, { name: 'west', connected: false }]);
    t.same(overallStatus(snap, Date.now()).reasons, ['AMI of server "west" is not connected']);
  });
}
