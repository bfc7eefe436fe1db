/** Companies: search by phone (as for contacts) and get by id. */
import { type EndpointContext, getOne, listAll, positiveId, type RequestOptions } from './endpoint.js';
import { filterByPhone, phoneQuery } from './phone-match.js';
import type { Company } from './types.js';

const PATH = '/api/v4/companies';

export async function findCompaniesByPhone(ctx: EndpointContext, phone: string, matchDigits: number, opts?: RequestOptions): Promise<Company[]> {
  const query = phoneQuery(phone, matchDigits);
  const found = await listAll<Company>(ctx, PATH, 'companies', { query, with: 'leads' }, opts, 4);
  return filterByPhone(found, phone, matchDigits);
}

export function getCompany(ctx: EndpointContext, id: number, opts?: RequestOptions): Promise<Company | null> {
  return getOne<Company>(ctx, `${PATH}/${positiveId(id, 'company id')}`, { with: 'leads' }, opts);
}
