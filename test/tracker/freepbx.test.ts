// The FreePBX call shapes (test/fixtures/ami/freepbx/, recorded from the real Asterisk
// with rig/sandbox/freepbx-dialplan.ts by scripts/record-freepbx-fixtures.ts) through the
// pure tracker: one call each, its direction, result, the employee who talked, no
// missed losing legs, the dated recording noted.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { createTrackerContext } from '../../lib/domain/tracker/classify.js';
import { callDirection, clientNumber, isMissed, talkedConversation } from '../../lib/domain/call/facts.js';
import { parseJsonl, replay } from './replay.js';

const DIR = new URL('../fixtures/ami/freepbx/', import.meta.url).pathname;
const ctx = createTrackerContext(
  { extensions: { '101': 1001, '102': 1002, '103': 1003 }, trunks: ['trunk', 'trunk2'], extension_pattern: '^[0-9]{2,5}$' },
  { formatTime: (ms) => (ms ? new Date(ms).toISOString().slice(0, 19).replace('T', ' ') : '0001-01-01 00:00:00') },
);

interface Want {
  direction: 'inbound' | 'outbound';
  client: string;
  user: number;
  recording?: RegExp;
}

const WANT: Record<string, Want> = {
  'ringgroup-answered': { direction: 'inbound', client: '79991234567', user: 1003, recording: /\/monitor\/\d{4}\/\d{2}\/\d{2}\/in-301-79991234567-\d{8}-\d{6}-[0-9.]+\.wav$/ },
  'queue-answered': { direction: 'inbound', client: '79991234567', user: 1002, recording: /\/monitor\/\d{4}\/\d{2}\/\d{2}\/in-302-/ },
  'followme-mobile-answered': { direction: 'inbound', client: '79991234567', user: 1001, recording: /\/monitor\/\d{4}\/\d{2}\/\d{2}\/in-303-/ },
  'outbound-answered': { direction: 'outbound', client: '79990001122', user: 1001, recording: /\/monitor\/\d{4}\/\d{2}\/\d{2}\/out-79990001122-101-/ },
  pickup: { direction: 'inbound', client: '79991234567', user: 1001 },
  'parked-retrieved': { direction: 'inbound', client: '79991234567', user: 1003 },
};

const index = JSON.parse(readFileSync(`${DIR}index.json`, 'utf8')) as Array<{ name: string }>;
t.same(index.map((s) => s.name).sort(), Object.keys(WANT).sort(), 'every recorded FreePBX scenario has expectations');

for (const [name, want] of Object.entries(WANT)) {
  t.test(name, async (t) => {
    const r = replay(parseJsonl(readFileSync(`${DIR}${name}.jsonl`, 'utf8')), ctx);
    const ended = r.stages.filter((s) => s.stage === 'call_ended');
    t.equal(ended.length, 1, 'one call ended (one registration)');
    const call = ended[0]!.call;
    t.equal(callDirection(call), want.direction, 'direction');
    t.equal(clientNumber(call), want.client, 'client number');
    t.equal(call.result, 200, 'answered');
    t.notOk(isMissed(call), 'not missed');
    t.equal(talkedConversation(call)?.user?.id, want.user, 'the employee who talked');
    if (want.recording) t.match(String(call.channel.extra?.['recording_file'] ?? ''), want.recording, 'the dated recording');
    t.equal(r.state.calls.size, 0, 'nothing left in progress');
  });
}
