import { recordedScenarios, loadRecorded, replay } from '/work/main/test/tracker/replay.js';
import { callDirection, clientNumber, employeeConversation, lastConversationDuration, isMissed } from '/work/main/lib/tracker/helpers.js';
const only = process.argv[2];
for (const name of recordedScenarios()) {
  if (only && name !== only) continue;
  const r = replay(loadRecorded(name));
  console.log('===', name, 'left calls', r.state.calls.size, 'index', r.state.index.size);
  for (const s of r.effects) {
    if (s.type !== 'stage') { console.log('  ', JSON.stringify(s)); continue; }
    const c = s.call;
    console.log('  ', s.stage, s.linkedid, s.conversationId ?? '', c.channel.type, c.result, Object.keys(c.conversations).length);
  }
  const end = r.stages.filter((s) => s.stage === 'call_ended');
  for (const e of end) {
    const c = e.call;
    console.log('   END', callDirection(c), 'client', clientNumber(c), 'emp', employeeConversation(c)?.user?.extension, 'dur', lastConversationDuration(c), 'missed', isMissed(c), 'ivr', c.is_ivr, 'from', JSON.stringify(c.channel.from), 'to', JSON.stringify(c.channel.to), 'trunk', JSON.stringify(c.channel.trunk));
    if (only) console.log(JSON.stringify(c, null, 1));
  }
}
