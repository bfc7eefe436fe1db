// process_originate_params — click-to-call: change the AMI Originate.
// Activate: copy to process_originate_params.mjs.
//
// Dials clients in the local 8-format through the context that selects the cheaper
// trunk, and shows "CRM" on the employee's phone so they know the call is theirs.

export default function processOriginateParams(input) {
  const digits = input.extension.replace(/\D/g, '');
  const extension = digits.length === 11 && digits.startsWith('7') ? `8${digits.slice(1)}` : digits || input.extension;
  return {
    state: 'success',
    data: {
      caller_id: `"CRM" <${extension}>`,
      channel: input.channel,
      context: 'from-crm-cheap-trunk',
      extension,
      priority: input.priority,
    },
  };
}
