// process_lead_creation_params — the lead created for a new client.
// Activate: copy to process_lead_creation_params.mjs.
//
// Calls to the advertising line go to the "Advertising" pipeline with a tag naming the
// campaign; every other lead keeps the configured pipeline. Set the ids of your account.

const CAMPAIGNS = {
  // trunk (number or name) → where the lead goes
  '74951234567': { pipeline_id: 7000001, status_id: 70000011, tag: 'Ad: metro posters' },
};

export default function processLeadCreationParams({ call_full, params }) {
  const trunk = call_full.channel.trunk;
  const campaign = CAMPAIGNS[trunk.number] ?? CAMPAIGNS[trunk.name];
  if (!campaign) return { state: 'success', data: params };
  const embedded = params._embedded ?? {};
  return {
    state: 'success',
    data: {
      ...params,
      pipeline_id: campaign.pipeline_id,
      status_id: campaign.status_id,
      _embedded: { ...embedded, tags: [...(embedded.tags ?? []), { name: campaign.tag }] },
    },
  };
}
