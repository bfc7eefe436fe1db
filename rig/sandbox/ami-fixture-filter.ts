// What the AMI fixture recorders keep (test/fixtures/ami/README.md, "What was left
// out"): shared by scripts/record-ami-fixtures.ts and scripts/record-freepbx-fixtures.ts.
import { field, type AmiMessage } from './asterisk-ami.js';

const DROP_EVENTS = new Set([
  'CoreShowChannel', 'CoreShowChannelsComplete',
  'TestEvent', 'RTCPSent', 'RTCPReceived', 'DeviceStateChange', 'ExtensionStatus', 'PeerStatus',
  'ContactStatus', 'SuccessfulAuth', 'ChallengeSent', 'FullyBooted', 'Registry', 'PresenceStatus',
  'PresenceStateChange', 'LocalOptimizationBegin2',
]);
const KEEP_VARS = /^(DIALSTATUS|DIALEDPEERNUMBER|DIALEDPEERNAME|ANSWEREDTIME|DIALEDTIME|MIXMONITOR_FILENAME|KOMMO_.*|BRIDGEPEER|BRIDGEPVTCALLID|BLINDTRANSFER|ATTENDEDTRANSFER|TRANSFERERNAME|FORWARDERNAME|QUEUE.*|MEMBERINTERFACE|MEMBERNAME|AGISTATUS|HANGUPCAUSE|SIPCALLID)$/;
const NOISY_CONTEXTS = new Set(['kommo-default', 'kommo-defaults']);

export function keep(m: AmiMessage): boolean {
  const ev = field(m, 'Event') ?? '';
  if (DROP_EVENTS.has(ev)) return false;
  if (ev === 'VarSet') return KEEP_VARS.test(field(m, 'Variable') ?? '');
  if ((ev === 'Newexten') && NOISY_CONTEXTS.has(field(m, 'Context') ?? '')) return false;
  return true;
}
