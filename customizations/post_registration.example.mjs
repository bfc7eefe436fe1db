// post_registration — after the call has been registered: follow-up actions.
// Activate: copy to post_registration.mjs.
//
// Posts what was registered to your own webhook (set KA_POST_REGISTRATION_URL in the
// connector's environment), e.g. to notify a chat. Without the variable it does nothing.
// The request is cancelled when the hook's time limit is reached (context.signal), and
// what happened is logged through the connector's logger (context.logger).

export default async function postRegistration({ call_full, registered }, context) {
  const url = process.env.KA_POST_REGISTRATION_URL;
  if (!url) return { state: 'success', data: {} };
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      linkedid: call_full.channel.id,
      from: call_full.channel.from.number,
      to: call_full.channel.to.number,
      result: call_full.result,
      ...registered,
    }),
    signal: context.signal,
  });
  context.logger.info({ status: response.status }, 'post_registration webhook answered');
  return { state: 'success', data: { webhook_status: response.status } };
}
