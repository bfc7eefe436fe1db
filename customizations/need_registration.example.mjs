// need_registration — register this call in Kommo or ignore it.
// Activate: copy to need_registration.mjs (same directory).
//
// Ignores calls from/to blacklisted client numbers (compared on the last 10 digits,
// so +7 916…, 8 916… and 916… are the same number) and calls through the fax trunk.

const BLACKLIST = ['79990000000', '+7 (495) 000-00-00'];
const IGNORED_TRUNKS = ['fax-line'];

const last10 = (value) => String(value ?? '').replace(/\D/g, '').slice(-10);
const blocked = new Set(BLACKLIST.map(last10));

export default function needRegistration({ call_full, call_stage }) {
  const channel = call_full.channel;
  const client = channel.type === 'outgoing' ? channel.to.number : channel.from.number;
  const ignore =
    (last10(client) !== '' && blocked.has(last10(client))) ||
    IGNORED_TRUNKS.includes(channel.trunk.number) ||
    IGNORED_TRUNKS.includes(channel.trunk.name);
  // call_stage is one of conversation_requested / conversation_accepted /
  // conversation_ended / call_ended; this rule is the same at every stage.
  void call_stage;
  return { state: 'success', data: { result: !ignore } };
}
