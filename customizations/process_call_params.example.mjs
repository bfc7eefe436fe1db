// process_call_params — change the call record before it is written to Kommo.
// Activate: copy to process_call_params.mjs.
//
// Writes the line the call came in on into call_result ("Line: Sales +7 495 …"),
// and marks calls that were dropped while still in the IVR as "could not get through".

export default function processCallParams({ call_full, params }) {
  const trunk = call_full.channel.trunk;
  const line = trunk.name || trunk.number;
  const result = { ...params };
  if (line) result.call_result = [params.call_result, `Line: ${line}`].filter(Boolean).join(' · ');
  if (call_full.is_ivr) {
    result.call_status = 6; // could not get through
    result.call_result = `Missed in IVR${line ? ` · Line: ${line}` : ''}`;
  }
  return { state: 'success', data: result };
}
