/**
 * `POST /oauth2/access_token` (JSON or form body): refresh_token and
 * authorization_code grants, delegated to the AuthStore.
 */
import type { AuthStore } from '../auth.js';
import type { Route } from '../http.js';
import type { SimCounters } from '../types.js';

export function oauthRoutes(auth: AuthStore, counters: SimCounters): Route[] {
  return [{
    method: 'POST',
    pattern: '/oauth2/access_token',
    handler: (ctx) => {
      const { reply, refreshed } = auth.tokenEndpoint(ctx.body);
      if (refreshed) counters.refreshes += 1;
      return reply;
    },
  }];
}
