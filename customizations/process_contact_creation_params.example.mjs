// process_contact_creation_params — the contact created for a new client.
// Activate: copy to process_contact_creation_params.mjs.
//
// Names new contacts "Client <phone>" (or the caller's CallerID name when the PBX
// knows one), and tags them with the direction of the first call.

export default function processContactCreationParams({ call_full, params }) {
  const channel = call_full.channel;
  const client = channel.type === 'outgoing' ? channel.to : channel.from;
  const callerName = client.name && !/^\+?\d+$/.test(client.name) ? client.name : '';
  const tags = [...(params.tags ?? [])];
  tags.push(channel.type === 'outgoing' ? 'outgoing call' : 'incoming call');
  return {
    state: 'success',
    data: {
      ...params,
      name: callerName || `Client ${client.number}`,
      tags: [...new Set(tags)],
    },
  };
}
