/** `GET /api/v4/leads/pipelines` — with their statuses in `_embedded.statuses` (142 won, 143 lost). */
import { type EndpointContext, listAll, type RequestOptions } from './endpoint.js';
import type { Pipeline } from './types.js';

export function listPipelines(ctx: EndpointContext, opts?: RequestOptions): Promise<Pipeline[]> {
  return listAll<Pipeline>(ctx, '/api/v4/leads/pipelines', 'pipelines', undefined, opts, 1);
}
