/**
 * Authentication of the connector's endpoints. Two credentials exist:
 *
 * - `secret`: `Authorization: Bearer <http.secret>`, for the connector's own tools
 *   (monitoring, CLI, a proxy in front of Kommo). Compared in constant time over
 *   SHA-256 digests, so neither content nor length leaks through timing.
 * - `widget`: Kommo's `X-Auth-Token` JWT (HS256 with `http.widget_secret`, see
 *   ./jwt.ts); the Kommo user is the token's `user_id`.
 *
 * A credential that is present but wrong is refused (401) even when the other kind
 * would be allowed: nothing falls through. No credential at all → 401 as well.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { HttpConfig } from '../../platform/config/types.js';
import type { DeepReadonly } from '../../platform/config/types.js';
import { HttpError } from './errors.js';
import { JwtError, verifyWidgetToken, type WidgetClaims } from './jwt.js';

export type AuthKind = 'secret' | 'widget';

export type AuthContext = { kind: 'secret' } | { kind: 'widget'; claims: WidgetClaims };

export interface AuthOptions {
  config: DeepReadonly<HttpConfig>;
  /** Unix seconds, for tests; default the wall clock. */
  now?: () => number;
  /** Clock skew allowed on JWT times, seconds (default 30). */
  skewSeconds?: number;
}

const WWW_AUTH = { 'www-authenticate': 'Bearer realm="kommo-asterisk"' };

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time string comparison (both sides hashed first: equal lengths always). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Authenticate a request for a route that accepts `allowed`; throws a 401 HttpError. */
export function authenticate(req: IncomingMessage, allowed: readonly AuthKind[], options: AuthOptions): AuthContext {
  const { config } = options;
  const authorization = header(req, 'authorization');
  const widgetToken = header(req, 'x-auth-token');

  if (authorization !== undefined) {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    const presented = m?.[1];
    // An empty configured secret never matches anything.
    if (allowed.includes('secret') && presented !== undefined && config.secret.length > 0 && safeEqual(presented, config.secret)) {
      return { kind: 'secret' };
    }
    throw HttpError.of('HTTP_AUTH_INVALID', 'invalid credentials', { headers: WWW_AUTH });
  }

  if (widgetToken !== undefined) {
    if (!allowed.includes('widget') || !config.widget_secret) {
      throw HttpError.of('HTTP_AUTH_INVALID', 'invalid credentials', { headers: WWW_AUTH });
    }
    try {
      const claims = verifyWidgetToken(widgetToken.trim(), {
        secret: config.widget_secret,
        accountId: config.account_id,
        ...(options.now ? { now: options.now() } : {}),
        ...(options.skewSeconds !== undefined ? { skewSeconds: options.skewSeconds } : {}),
      });
      return { kind: 'widget', claims };
    } catch (err) {
      if (err instanceof JwtError) {
        throw HttpError.of('HTTP_AUTH_INVALID', `invalid widget token (${err.code})`, { headers: WWW_AUTH, reason: err.code });
      }
      throw err;
    }
  }

  throw HttpError.of('HTTP_AUTH_REQUIRED', 'authentication required', { headers: WWW_AUTH });
}
