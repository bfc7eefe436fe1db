/** `GET /api/v4/account` — also the cheapest token check. */
import { KommoError } from './errors.js';
import { callOptions, type EndpointContext, type RequestOptions } from './endpoint.js';
import { isRecord } from './json.js';
import type { Account } from './types.js';

export async function getAccount(ctx: EndpointContext, opts?: RequestOptions & { with?: string[] }): Promise<Account> {
  const query = opts?.with && opts.with.length > 0 ? { with: opts.with.join(',') } : undefined;
  const res = await ctx.http.send({ method: 'GET', path: '/api/v4/account', query, idempotent: true, ...callOptions(opts) });
  if (!isRecord(res.body) || typeof res.body['id'] !== 'number') {
    throw new KommoError('KOMMO_BAD_RESPONSE', "Kommo's answer to /api/v4/account lacks an id", { path: '/api/v4/account' });
  }
  return res.body as Account;
}
