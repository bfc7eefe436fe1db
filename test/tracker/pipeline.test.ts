// Component: a recorded call streamed by the fake AMI server over TCP, through
// our AMI connection and client, into the reducer.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createAmiClient } from '../../lib/protocol/ami/client.js';
import { defaults } from '../../lib/platform/config/defaults.js';
import type { AmiEvent } from '../../lib/protocol/ami/events.js';
import { initialState, reduce, resync } from '../../lib/domain/tracker/reducer.js';
import { withNow } from '../../lib/domain/tracker/classify.js';
import type { StageEffect } from '../../lib/domain/tracker/types.js';
import { encode, FakeAmi } from '../ami/fake-ami-server.js';
import { RECORDED_DIR, testContext } from './replay.js';

t.test('fixture over TCP → AMI connection → client events → reducer', async (t) => {
  const fake = new FakeAmi({ channels: [] });
  const port = await fake.listen();
  const client = createAmiClient(
    { ...defaults.ami, host: '127.0.0.1', port, username: 'kommo', secret: 'sesame', action_timeout_ms: 1000, reconnect_min_ms: 20, reconnect_max_ms: 50, max_queued_actions: 10 },
    { logger: pino({ level: 'silent' }) },
  );
  t.teardown(async () => {
    client.destroy();
    await fake.close();
  });
  const ctx = testContext();
  let state = initialState();
  const stages: StageEffect[] = [];
  const done = new Promise<void>((resolve) => {
    client.on('event', (e: AmiEvent) => {
      const r = reduce(state, e, withNow(ctx, Date.now()));
      state = r.state;
      for (const x of r.effects) if (x.type === 'stage') stages.push(x);
      if (stages.some((s) => s.stage === 'call_ended')) resolve();
    });
  });
  client.on('resync', (channels) => {
    state = resync(state, channels, withNow(ctx, Date.now())).state;
  });
  await client.connect();
  const lines = readFileSync(join(RECORDED_DIR, 'ringgroup-answered.jsonl'), 'utf8').split('\n').filter(Boolean);
  let wire = '';
  for (const l of lines) wire += encode(JSON.parse(l) as Record<string, string>);
  for (const c of fake.conns) c.socket.write(wire);
  await done;
  t.same(
    stages.map((s) => s.stage),
    ['conversation_requested', 'conversation_requested', 'conversation_accepted', 'conversation_ended', 'conversation_ended', 'call_ended'],
  );
  const call = stages.at(-1)!.call;
  t.equal(call.result, 200);
  t.equal(call.channel.from.number, '79991234567');
  t.equal(Object.keys(call.conversations).length, 2);
  t.equal(state.calls.size, 0);
});
