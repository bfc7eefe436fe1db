/** `GET /api/v4/users` (admin tokens only; others get 403 → KOMMO_FORBIDDEN), all pages. */
import { type EndpointContext, listAll, type RequestOptions } from './endpoint.js';
import type { User } from './types.js';

export function listUsers(ctx: EndpointContext, opts?: RequestOptions): Promise<User[]> {
  return listAll<User>(ctx, '/api/v4/users', 'users', undefined, opts);
}
