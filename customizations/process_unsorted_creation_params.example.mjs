// process_unsorted_creation_params — the incoming ("unsorted") lead for a new client.
// Activate: copy to process_unsorted_creation_params.mjs.
//
// Shows the line the client called in the "Incoming leads" column (source_name) and
// names the lead after it, so the sales team sees which advert rang.

const LINE_NAMES = {
  '74951234567': 'Metro posters',
  '74957654321': 'Website',
};

export default function processUnsortedCreationParams({ call_full, params }) {
  const trunk = call_full.channel.trunk;
  const line = LINE_NAMES[trunk.number] ?? trunk.name;
  if (!line) return { state: 'success', data: params };
  const embedded = params._embedded ?? {};
  const leads = (embedded.leads ?? [{}]).map((lead) => ({ ...lead, name: `${line}: ${call_full.channel.from.number}` }));
  return {
    state: 'success',
    data: { ...params, source_name: `${params.source_name} · ${line}`, _embedded: { ...embedded, leads } },
  };
}
