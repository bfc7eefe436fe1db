/**
 * The panel's sessions: a random 256-bit id in an HttpOnly, SameSite=Strict cookie
 * scoped to /admin (Secure when `http.public_url` is https), kept in memory by its
 * SHA-256 (a leaked memory dump holds no usable cookie). A session ends after
 * `idleMs` without a request or `maxAgeMs` after sign-in, whichever comes first, and
 * at sign-out. Each session has its own CSRF token, required in every form.
 * Restarting the connector signs everyone out.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { safeEqual } from '../auth.js';

export const SESSION_COOKIE = 'ka_admin';
/** The sign-in form's own CSRF token (double submit: cookie and hidden field). */
export const LOGIN_COOKIE = 'ka_admin_login';

export interface Session {
  csrf: string;
  createdAt: number;
  seenAt: number;
  expiresAt: number;
  address: string;
}

export interface SessionOptions {
  idleMs?: number;
  maxAgeMs?: number;
  /** At most this many sessions (the oldest is dropped; default 1000). */
  maxSessions?: number;
  now?: () => number;
}

export interface SessionStore {
  create(address: string): { id: string; session: Session };
  /** The live session of this cookie value (refreshes its idle time), or undefined. */
  get(id: string | undefined): Session | undefined;
  destroy(id: string | undefined): void;
  readonly idleMs: number;
  readonly maxAgeMs: number;
  size(): number;
}

const key = (id: string): string => createHash('sha256').update(id).digest('hex');
export const newToken = (): string => randomBytes(32).toString('base64url');

export function createSessionStore(options: SessionOptions = {}): SessionStore {
  const idleMs = options.idleMs ?? 30 * 60_000;
  const maxAgeMs = options.maxAgeMs ?? 8 * 3600_000;
  const maxSessions = options.maxSessions ?? 1000;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Session>();

  const sweep = (t: number): void => {
    for (const [k, s] of sessions) if (s.expiresAt <= t || t - s.seenAt >= idleMs) sessions.delete(k);
  };

  return {
    idleMs,
    maxAgeMs,
    create(address) {
      const t = now();
      sweep(t);
      const id = newToken();
      const session: Session = { csrf: newToken(), createdAt: t, seenAt: t, expiresAt: t + maxAgeMs, address };
      sessions.set(key(id), session);
      while (sessions.size > maxSessions) sessions.delete(sessions.keys().next().value as string);
      return { id, session };
    },
    get(id) {
      if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
      const k = key(id);
      const s = sessions.get(k);
      if (!s) return undefined;
      const t = now();
      if (s.expiresAt <= t || t - s.seenAt >= idleMs) {
        sessions.delete(k);
        return undefined;
      }
      s.seenAt = t;
      return s;
    },
    destroy(id) {
      if (id) sessions.delete(key(id));
    },
    size: () => sessions.size,
  };
}

/** Cookies of a request (first value of each name wins). */
export function readCookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  const header = req.headers.cookie;
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

export function cookie(name: string, value: string, opts: { maxAgeS: number; secure: boolean }): string {
  return `${name}=${value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(opts.maxAgeS))}${opts.secure ? '; Secure' : ''}`;
}

/** Constant-time check of a submitted CSRF token. */
export function csrfValid(expected: string, presented: string | undefined): boolean {
  return typeof presented === 'string' && presented.length > 0 && safeEqual(presented, expected);
}
