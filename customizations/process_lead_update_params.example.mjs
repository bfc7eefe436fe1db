// process_lead_update_params — the update sent to the client's existing lead.
// Activate: copy to process_lead_update_params.mjs.
//
// When a client whose lead waits in "Waiting for the client" calls back, the lead
// moves to "Client called back". Set the ids of your account.

const WAITING_STATUS_ID = 70000021;
const CALLED_BACK_STATUS_ID = 70000022;

export default function processLeadUpdateParams({ call_full, params }) {
  const deal = call_full.deal;
  if (deal && deal.status_id === WAITING_STATUS_ID && call_full.channel.type === 'incoming') {
    return { state: 'success', data: { ...params, status_id: CALLED_BACK_STATUS_ID } };
  }
  return { state: 'success', data: params };
}
