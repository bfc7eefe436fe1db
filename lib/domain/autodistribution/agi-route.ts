/**
 * The `autodistribution` FastAGI route: turns the AGI request into an
 * autodistribution request, and the answer into the channel variables the
 * bundled dialplan (dialplan/kommo-asterisk.conf) acts on:
 *
 *   KOMMO_STATUS         found | not_found | timeout | error
 *   KOMMO_EXTENSION      the manager's extension ("" unless found)
 *   KOMMO_CALLERID_NAME  CallerID name, at most 20 characters ("" when none)
 *
 * A failure here never drops the caller: the variables are set before any
 * other work can fail, and AGISTATUS lets the dialplan fall back anyway.
 */
import { performance } from 'node:perf_hooks';
import type { AgiHandler } from '../../../agi/server.js';
import type { Autodistribution } from './service.js';

/** `PJSIP/trunk-00000001` → `trunk`; '' when the channel has no technology prefix. */
export function endpointOfChannel(channel: string): string {
  const slash = channel.indexOf('/');
  if (slash === -1) return '';
  const rest = channel.slice(slash + 1);
  const dash = rest.lastIndexOf('-');
  return dash === -1 ? rest : rest.slice(0, dash);
}

/**
 * Part of the budget kept for the three SET VARIABLE round trips that carry the
 * answer: the budget runs from the connection to the reply, so the decision is taken
 * this much earlier (at most a quarter of the budget). 100 ms covers a burst of 200
 * sessions answering at the same moment on a 2-core machine (bench/agi.ts, row d).
 */
export const REPLY_RESERVE_MS = 100;

export function autodistributionRoute(service: Autodistribution, budgetMs: number): AgiHandler {
  const reserve = Math.min(REPLY_RESERVE_MS, budgetMs / 4);
  return async (session, { logger, acceptedAt }) => {
    const req = session.request;
    const requestData: Record<string, string> = { ...req.raw };
    for (const [key, value] of Object.entries(req.params)) requestData[`param_${key}`] = value;
    const answer = await service.handle(
      {
        callerNumber: req.callerId ?? '',
        callerName: req.callerIdName ?? '',
        trunk: req.params.trunk ?? endpointOfChannel(req.channel),
        requestData,
        spentMs: performance.now() - acceptedAt + reserve,
      },
      logger,
    );
    // Status last: the dialplan reads KOMMO_STATUS first, so the others must already be set.
    await session.setVariable('KOMMO_EXTENSION', answer.extension);
    await session.setVariable('KOMMO_CALLERID_NAME', answer.name);
    await session.setVariable('KOMMO_STATUS', answer.status);
  };
}
