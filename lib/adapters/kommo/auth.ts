/**
 * Bearer tokens: a long-lived token, or OAuth 2.0 with rotating single-use refresh tokens.
 *
 * OAuth rules (Kommo's OAuth documentation):
 * - the pair lives in the token file; the seed refresh token from the config is used only
 *   when that file does not exist yet;
 * - refresh is single flight: any number of concurrent 401s (or an expiring token) cause
 *   exactly one `POST /oauth2/access_token`; everyone waits for it;
 * - the rotated pair is persisted atomically BEFORE it is handed out; if that write fails
 *   the pair is kept in memory (the old one is dead already) and the write is retried on
 *   the next call, but the pair is not used until it is on disk;
 * - before refreshing, and after Kommo refused a refresh, the file is read again: another
 *   process of the connector may have rotated the pair already.
 * Tokens are never logged.
 */
import type { Logger } from 'pino';
import { KommoAuthError, KommoError, isTransient } from './errors.js';
import { isRecord } from './json.js';
import type { StoredTokens, TokenStore } from './token-store.js';

export interface AuthProvider {
  readonly kind: 'long-lived' | 'oauth';
  /** The token to send now; refreshes first when needed. */
  token(signal?: AbortSignal): Promise<string>;
  /** The current usable token without waiting, or undefined. */
  peek(): string | undefined;
  /** A request carrying `used` was answered 401: refresh (single flight) unless already done. */
  unauthorized(used: string, signal?: AbortSignal): Promise<void>;
}

export function createLongLivedAuth(token: string): AuthProvider {
  return {
    kind: 'long-lived',
    token: async () => token,
    peek: () => token,
    async unauthorized() {
      throw new KommoAuthError('KOMMO_AUTH_FAILED',
        'Kommo rejected the long-lived token (expired or revoked): issue a new one in the integration settings and update kommo.long_lived_token');
    },
  };
}

/** Sends the refresh grant and returns Kommo's parsed answer (no auth, through the limiter). */
export type TokenExchange = (body: Record<string, string>) => Promise<unknown>;

export interface OAuthAuthOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  seedRefreshToken: string | undefined;
  store: TokenStore;
  exchange: TokenExchange;
  logger: Logger;
  now: () => number;
  /** Refresh this long before expiry (default 60 s). */
  skewMs?: number;
}

function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    return Promise.reject(new KommoError('KOMMO_ABORTED', 'aborted while waiting for a token refresh', { cause: signal.reason }));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new KommoError('KOMMO_ABORTED', 'aborted while waiting for a token refresh', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

export function createOAuthAuth(opts: OAuthAuthOptions): AuthProvider {
  const skewMs = opts.skewMs ?? 60_000;
  const log = opts.logger;
  /** undefined: not loaded yet; null: no file. */
  let current: StoredTokens | null | undefined;
  /** A refreshed pair that could not be written yet. */
  let unsaved: StoredTokens | undefined;
  let loading: Promise<void> | undefined;
  let refreshing: Promise<StoredTokens> | undefined;

  const usable = (t: StoredTokens | null | undefined): t is StoredTokens =>
    !!t && t.access_token !== '' && opts.now() < t.expires_at - skewMs;

  async function ensureLoaded(): Promise<void> {
    if (current !== undefined) return;
    loading ??= opts.store.load().then(
      (t) => { current = t; },
      (err: unknown) => { loading = undefined; throw err; },
    );
    await loading;
  }

  async function persist(t: StoredTokens): Promise<void> {
    unsaved = t;
    await opts.store.save(t);
    unsaved = undefined;
    current = t;
  }

  async function adoptFromDisk(): Promise<StoredTokens | undefined> {
    const onDisk = await opts.store.load().catch(() => null);
    if (onDisk && onDisk.refresh_token !== current?.refresh_token) {
      log.info({ path: opts.store.path }, 'kommo token pair rotated by another process; adopting it');
      current = onDisk;
      return onDisk;
    }
    return undefined;
  }

  async function doRefresh(): Promise<StoredTokens> {
    if (unsaved) {
      await persist(unsaved);
      return current as StoredTokens;
    }
    const adopted = await adoptFromDisk();
    if (adopted && usable(adopted)) return adopted;
    const refreshToken = current?.refresh_token ?? opts.seedRefreshToken;
    if (!refreshToken) {
      throw new KommoAuthError('KOMMO_NO_CREDENTIALS',
        `no OAuth token file at ${opts.store.path} and no kommo.oauth.refresh_token to seed it: authorize the integration first`,
        { path: opts.store.path });
    }
    log.info({ path: '/oauth2/access_token' }, 'refreshing the kommo access token');
    let answer: unknown;
    try {
      answer = await opts.exchange({
        client_id: opts.clientId,
        client_secret: opts.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        redirect_uri: opts.redirectUri,
      });
    } catch (err) {
      if (err instanceof KommoError && err.code === 'KOMMO_CLOSED') throw err;
      if (!isTransient(err)) {
        // Another process may have used our refresh token first.
        const rotated = await adoptFromDisk();
        if (rotated && usable(rotated)) return rotated;
      }
      const transient = isTransient(err);
      const status = (err as { status?: number }).status;
      log.error({ path: '/oauth2/access_token', status, code: (err as { code?: string }).code, transient },
        'kommo token refresh failed');
      throw new KommoAuthError('KOMMO_REFRESH_FAILED',
        transient
          ? 'could not reach Kommo to refresh the access token; will try again'
          : `Kommo refused the refresh token (${(err as Error).message}): it was revoked or already used; authorize the integration again to get a new pair into ${opts.store.path}`,
        { cause: err, transient, status });
    }
    if (!isRecord(answer) || typeof answer['access_token'] !== 'string' || typeof answer['refresh_token'] !== 'string') {
      throw new KommoAuthError('KOMMO_REFRESH_FAILED', 'Kommo answered the refresh without access_token/refresh_token');
    }
    const expiresIn = typeof answer['expires_in'] === 'number' ? answer['expires_in'] : 86_400;
    const now = opts.now();
    const pair: StoredTokens = {
      access_token: answer['access_token'],
      refresh_token: answer['refresh_token'],
      expires_at: now + expiresIn * 1000,
      token_type: typeof answer['token_type'] === 'string' ? answer['token_type'] : 'Bearer',
      updated_at: now,
    };
    await persist(pair);
    log.info({ path: opts.store.path, expiresIn }, 'kommo token pair rotated and saved');
    return pair;
  }

  function refreshOnce(): Promise<StoredTokens> {
    refreshing ??= doRefresh().finally(() => { refreshing = undefined; });
    return refreshing;
  }

  return {
    kind: 'oauth',
    async token(signal) {
      await waitFor(ensureLoaded(), signal);
      if (!refreshing && !unsaved && usable(current)) return current.access_token;
      return (await waitFor(refreshOnce(), signal)).access_token;
    },
    peek() {
      return !refreshing && !unsaved && usable(current) ? current.access_token : undefined;
    },
    async unauthorized(used, signal) {
      await waitFor(ensureLoaded(), signal);
      // Someone refreshed since this request left: just use the new token.
      if (!refreshing && !unsaved && current && current.access_token !== used && usable(current)) return;
      await waitFor(refreshOnce(), signal);
    },
  };
}
