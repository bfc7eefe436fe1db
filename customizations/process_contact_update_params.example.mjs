// process_contact_update_params — the update sent to an existing contact.
// Activate: copy to process_contact_update_params.mjs.
//
// Contacts still carrying the automatic name ("Contact <phone>" / "Client <phone>")
// get the caller's CallerID name once the PBX knows it. Returning {} sends nothing.

const AUTOMATIC_NAME = /^(Contact|Client) \+?[\d\s()-]+$/;

export default function processContactUpdateParams({ call_full, params }) {
  const channel = call_full.channel;
  const callerName = channel.type === 'incoming' ? channel.from.name : '';
  const currentName = call_full.entity?.name ?? '';
  if (callerName && !/^\+?\d+$/.test(callerName) && AUTOMATIC_NAME.test(currentName)) {
    return { state: 'success', data: { ...params, name: callerName } };
  }
  return { state: 'success', data: params };
}
