// Several Asterisk servers: one bridge per server (fake AMIs fed the same recorded
// call, so both produce the SAME linkedids), one real journal. The server's name is in
// call_full.pbx and in every per-call log line; with server-qualified ids both calls
// are kept, without them the second would be taken for the first.
import { EventEmitter } from 'node:events';
import t from 'tap';
import type { AmiEvent } from '../../lib/protocol/ami/events.js';
import { createBridge, type BridgeAmi, type BridgeRegistrar } from '../../lib/domain/bridge/index.js';
import type { CallFull } from '../../lib/domain/call/types.js';
import { callKeyOf, openCallStore, recordIdOf } from '../../lib/domain/registration/store.js';
import { loadRecorded, testContext } from '../tracker/replay.js';
import { captureLogger, makeCall, silentLogger, tempDir } from '../registration/helpers.js';

class FakeAmi extends EventEmitter implements BridgeAmi {
  connected = false;
  async connect(): Promise<void> {
    this.connected = true;
    this.emit('connected');
  }
  isConnected(): boolean {
    return this.connected;
  }
  feed(events: AmiEvent[]): void {
    for (const e of events) this.emit('event', e);
  }
}

const config = { pbx: { extensions: { '101': 1001, '102': 1002 }, trunks: ['trunk'], extension_pattern: '^[0-9]{2,5}$' } };

async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
}

/** A registrar that journals what it is given in a real store, as the product's does first. */
function journalling(store: Awaited<ReturnType<typeof openCallStore>>): BridgeRegistrar & { created: boolean[]; seen: CallFull[]; stages: Array<string | undefined> } {
  const r = {
    created: [] as boolean[],
    seen: [] as CallFull[],
    stages: [] as Array<string | undefined>,
    async submit(call: CallFull) {
      r.created.push((await store.put(call)).created);
    },
    async shouldRegister() {
      return true;
    },
    async verdict(_stage: string, call: CallFull) {
      r.stages.push(call.pbx);
      return { register: true as const };
    },
    async close() {},
  };
  return r;
}

for (const qualify of [true, false]) {
  t.test(`two servers, the same linkedids, ${qualify ? 'server-qualified' : 'plain'} journal ids`, async (t) => {
    const store = await openCallStore({ dataDir: await tempDir('ka-multi-'), logger: silentLogger(), qualifyIds: qualify });
    const registrar = journalling(store);
    const { logger, lines } = captureLogger();
    const east = new FakeAmi();
    const west = new FakeAmi();
    const bridges = [
      createBridge({ config, ami: east, registrar, logger, pbx: 'east', trackerContext: testContext() }),
      createBridge({ config, ami: west, registrar, logger, pbx: 'west', trackerContext: testContext() }),
    ];
    await Promise.all(bridges.map((b) => b.start()));
    const events = loadRecorded('inbound-answered');
    east.feed(events);
    west.feed(events);
    await settle();
    await Promise.all(bridges.map((b) => b.close()));

    t.ok(registrar.stages.length >= 2 && registrar.stages.every((p) => p === 'east' || p === 'west'), 'hook 1 sees call_full.pbx at every conversation stage');
    t.ok(registrar.stages.includes('east') && registrar.stages.includes('west'));
    const linkedid = events.find((e) => e.event === 'newchannel')!['linkedid'] as string;
    if (qualify) {
      t.same(registrar.created, [true, true], 'both calls journalled');
      t.same((await store.listPending()).map((r) => [r.id, r.linkedid, r.call.pbx]).sort(), [
        [`east.${linkedid}`, `east.${linkedid}`, 'east'],
        [`west.${linkedid}`, `west.${linkedid}`, 'west'],
      ]);
    } else {
      t.same(registrar.created, [true, false], 'plain linkedids collide: the second call is taken for the first (why several servers qualify ids)');
    }

    const perCall = lines.filter((l) => l['linkedid'] !== undefined);
    t.ok(perCall.length >= 2, 'per-call log lines');
    t.ok(perCall.every((l) => l['pbx'] === 'east' || l['pbx'] === 'west'), 'every per-call log line names its server');
    t.ok(lines.every((l) => !Object.prototype.hasOwnProperty.call(l, 'pbx') || typeof l['pbx'] === 'string'));
    await store.close();
  });
}

t.test('callKeyOf / keyOf: plain for one server, <server>.<linkedid> for several; safe file ids', async (t) => {
  const call = { ...makeCall({ linkedid: '1700000000.7' }), pbx: 'branch-a' };
  t.equal(callKeyOf(call, false), '1700000000.7', 'one server keeps its existing journal ids');
  t.equal(callKeyOf(call, true), 'branch-a.1700000000.7');
  t.equal(callKeyOf({ ...call, pbx: undefined }, true), '1700000000.7', 'a call without a server (journalled before) keeps its id');
  t.equal(callKeyOf({ ...call, channel: { ...call.channel, id: '' } }, true), '');
  t.equal(recordIdOf(callKeyOf(call, true)), 'branch-a.1700000000.7', 'a safe file name');
  const store = await openCallStore({ dataDir: await tempDir('ka-multi-'), logger: silentLogger(), qualifyIds: true });
  t.equal(store.keyOf(call), 'branch-a.1700000000.7');
  const { record } = await store.put(call);
  t.equal(record.id, 'branch-a.1700000000.7');
  t.equal(record.linkedid, 'branch-a.1700000000.7', 'the key (also Kommo uniq) carries the server');
  t.equal((await store.put({ ...call, pbx: 'branch-b' })).created, true, 'the same linkedid on another server is another call');
  t.equal((await store.put(call)).created, false, 'the same call twice is one record');
  await store.close();
});
