/**
 * The panel's password: `http.admin_password` is an scrypt hash
 * (`scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`, made by `kommo-asterisk admin-password`);
 * without it the panel's password is `http.secret`. Both compared in constant time.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { safeEqual } from '../auth.js';

export const ADMIN_HASH_FORMAT = /^scrypt\$(\d{1,7})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/]{16,}={0,2})\$([A-Za-z0-9+/]{43,}={0,2})$/;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const DEFAULTS = { N: 16_384, r: 8, p: 1 };

/** Hash a password for `http.admin_password`. */
export async function hashAdminPassword(password: string, params: { N: number; r: number; p: number } = DEFAULTS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r });
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `hash` is a well-formed admin password hash (N a power of two ≥ 1024). */
export function isAdminHash(hash: string): boolean {
  const m = ADMIN_HASH_FORMAT.exec(hash);
  if (!m) return false;
  const n = Number(m[1]);
  return n >= 1024 && n <= 1_048_576 && (n & (n - 1)) === 0 && Number(m[2]) >= 1 && Number(m[3]) >= 1;
}

export interface PasswordCheck {
  /** True when the presented password is the panel's. */
  (presented: string): Promise<boolean>;
}

/** The checker for the configuration: the scrypt hash when set, else the shared secret (never an empty one). */
export function passwordChecker(config: { secret: string; admin_password?: string | undefined }): PasswordCheck {
  const hash = config.admin_password;
  if (hash) {
    const m = ADMIN_HASH_FORMAT.exec(hash);
    if (!m || !isAdminHash(hash)) return async () => false;
    const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const salt = Buffer.from(m[4] as string, 'base64');
    const expected = Buffer.from(m[5] as string, 'base64');
    return async (presented) => {
      if (presented.length === 0 || presented.length > 1024) return false;
      const key = await scrypt(presented, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
      return timingSafeEqual(key, expected);
    };
  }
  const secret = config.secret;
  return async (presented) => secret.length > 0 && presented.length > 0 && safeEqual(presented, secret);
}
