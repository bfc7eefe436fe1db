/**
 * Tokens of the simulated account: one long-lived Bearer token, OAuth access tokens
 * with a lifetime, and rotating single-use refresh tokens (`POST /oauth2/access_token`).
 * Token values never leave this module except in answers to the token endpoint and to
 * the test helpers `issueAccessToken()` / `currentRefreshToken()`.
 */
import { randomBytes } from 'node:crypto';
import { fail, type Reply } from './http.js';
import { isObj } from './validate.js';
import type { OAuthOptions } from './types.js';

export type AuthResult = { auth: 'ok' } | { auth: 'none' | 'bad'; detail: string };

interface AccessToken {
  expiresAt: number;
  revoked: boolean;
}

function b64(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

/** A JWT-looking opaque token (not verifiable: the simulator only compares strings). */
export function mintToken(accountId: number, ttlSeconds: number, nowMs: number, kind: string): string {
  const iat = Math.floor(nowMs / 1000);
  return [
    b64({ typ: 'JWT', alg: 'RS256' }),
    b64({ aud: 'kommo-simulator', jti: randomBytes(8).toString('hex'), iat, nbf: iat, exp: iat + ttlSeconds, sub: kind, account_id: accountId }),
    randomBytes(24).toString('base64url'),
  ].join('.');
}

export class AuthStore {
  readonly longLivedToken: string;
  readonly oauth: Required<OAuthOptions>;
  private readonly access = new Map<string, AccessToken>();
  /** refresh token → access token issued with it (undefined for the configured first one). */
  private readonly refresh = new Map<string, { access: string | undefined; used: boolean }>();
  private current: string | undefined;
  private codeUsed = false;

  constructor(longLivedToken: string, oauth: Required<OAuthOptions>,
    private readonly accountId: number, private readonly now: () => number) {
    this.longLivedToken = longLivedToken;
    this.oauth = oauth;
    this.refresh.set(oauth.refreshToken, { access: undefined, used: false });
    this.current = oauth.refreshToken;
  }

  check(header: string | undefined): AuthResult {
    if (header === undefined || header.trim() === '') return { auth: 'none', detail: 'Authorization header is missing' };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m?.[1]) return { auth: 'bad', detail: 'Authorization header must be "Bearer <token>"' };
    const token = m[1];
    if (token === this.longLivedToken) return { auth: 'ok' };
    const at = this.access.get(token);
    if (!at) return { auth: 'bad', detail: 'Token is invalid' };
    if (at.revoked) return { auth: 'bad', detail: 'Token has been revoked' };
    if (at.expiresAt <= this.now()) return { auth: 'bad', detail: 'Token has expired' };
    return { auth: 'ok' };
  }

  issueAccessToken(): string {
    const token = mintToken(this.accountId, this.oauth.accessTokenTtlSeconds, this.now(), 'access');
    this.access.set(token, { expiresAt: this.now() + this.oauth.accessTokenTtlSeconds * 1000, revoked: false });
    return token;
  }

  currentRefreshToken(): string | undefined {
    return this.current;
  }

  expireAccessTokens(): void {
    const now = this.now();
    for (const t of this.access.values()) t.expiresAt = Math.min(t.expiresAt, now);
  }

  /** `POST /oauth2/access_token`, body already parsed from JSON or a form. */
  tokenEndpoint(body: unknown): { reply: Reply; refreshed: boolean } {
    if (!isObj(body)) fail(400, 'The request is missing a required parameter', { hint: 'Check the `grant_type` parameter' });
    for (const key of ['client_id', 'client_secret', 'grant_type']) {
      if (typeof body[key] !== 'string' || body[key] === '') {
        fail(400, 'The request is missing a required parameter', { hint: `Check the \`${key}\` parameter` });
      }
    }
    if (body.client_id !== this.oauth.clientId || body.client_secret !== this.oauth.clientSecret) {
      fail(401, 'Client authentication failed', { hint: 'Check the client credentials' });
    }
    if (body.redirect_uri !== undefined && body.redirect_uri !== this.oauth.redirectUri) {
      fail(400, 'The redirect_uri does not match the integration', { hint: 'Check the `redirect_uri` parameter' });
    }
    if (body.grant_type === 'refresh_token') return { reply: this.refreshGrant(body.refresh_token), refreshed: true };
    if (body.grant_type === 'authorization_code') return { reply: this.codeGrant(body.code, body.redirect_uri), refreshed: false };
    return fail(400, 'The authorization grant type is not supported by the authorization server', { hint: 'Check the `grant_type` parameter' });
  }

  private refreshGrant(token: unknown): Reply {
    if (typeof token !== 'string' || token === '') {
      fail(400, 'The request is missing a required parameter', { hint: 'Check the `refresh_token` parameter' });
    }
    const entry = this.refresh.get(token);
    if (!entry) fail(400, 'The refresh token is invalid.', { hint: 'Cannot decrypt the refresh token' });
    if (entry.used) fail(400, 'The refresh token is invalid.', { hint: 'Token has been revoked' });
    entry.used = true;
    if (entry.access !== undefined && this.oauth.revokeOldAccessToken) {
      const old = this.access.get(entry.access);
      if (old) old.revoked = true;
    }
    return this.issuePair();
  }

  private codeGrant(code: unknown, redirectUri: unknown): Reply {
    if (typeof code !== 'string' || code === '') {
      fail(400, 'The request is missing a required parameter', { hint: 'Check the `code` parameter' });
    }
    if (redirectUri === undefined) {
      fail(400, 'The request is missing a required parameter', { hint: 'Check the `redirect_uri` parameter' });
    }
    if (code !== this.oauth.authorizationCode) fail(400, 'The authorization code is invalid.', { hint: 'Cannot decrypt the authorization code' });
    if (this.codeUsed) fail(400, 'The authorization code is invalid.', { hint: 'Authorization code has been revoked' });
    this.codeUsed = true;
    return this.issuePair();
  }

  private issuePair(): Reply {
    const access = this.issueAccessToken();
    const refresh = mintToken(this.accountId, 90 * 86400, this.now(), 'refresh');
    this.refresh.set(refresh, { access, used: false });
    this.current = refresh;
    return {
      status: 200,
      contentType: 'application/json',
      body: { token_type: 'Bearer', expires_in: this.oauth.accessTokenTtlSeconds, access_token: access, refresh_token: refresh },
    };
  }
}
