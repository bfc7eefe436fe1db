/**
 * Recording links: unguessable, authenticated, expiring, and revealing no path.
 *
 * Design (stateless): the token is the file's real path and an expiry, encrypted
 * and authenticated with AES-256-GCM:
 *
 *   token = base64url( 0x01 | iv[12] | AES-256-GCM(exp:uint32be | path:utf8) | tag[16] )
 *
 * - The key is derived from `http.secret` with HKDF-SHA256 (salt and info fixed
 *   below): rotating the secret revokes every link at once. No key material is
 *   stored anywhere.
 * - Without the key a token reveals nothing (the path is encrypted) and cannot be
 *   forged or altered (GCM tag, checked before anything else: → 403 LINK_INVALID).
 * - A genuine token past `exp` → 410 LINK_EXPIRED.
 * - A genuine token is still re-checked when used: the path must exist, be a regular
 *   file and lie inside one of the `roots` after `realpath` (so a file later replaced
 *   by a symlink pointing out, or a root changed in the config, gives 404 and nothing
 *   is read).
 * - No index to keep durable, grow or clean: links survive restarts and a lost
 *   data_dir. The cost is a longer URL (~180 characters for a 100-character path).
 *
 * The URL is `<http.public_url>/recordings/<token>.<ext>`: the extension (`mp3`,
 * `wav`) tells players the format; the server ignores it.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { extname, isAbsolute, resolve } from 'node:path';
import { RecordingError } from './errors.js';
import { realPathInside } from './paths.js';

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD = Buffer.from('kommo-asterisk/recording-link/v1');
const HKDF_SALT = 'kommo-asterisk';
const HKDF_INFO = 'recording-links v1';
/** Longest accepted token (a 4096-byte path plus overhead, base64url). */
export const MAX_TOKEN_CHARS = 5600;
/** A token as it may appear in a URL: base64url, optionally followed by `.<ext>`. */
export const TOKEN_SEGMENT = /^([A-Za-z0-9_-]{40,5600})(?:\.[a-z0-9]{1,5})?$/;
/** Secrets shorter than this cannot sign links (the config requires 16+). */
export const MIN_SECRET_LENGTH = 16;

export interface RecordingLinksOptions {
  /** `http.secret`; the link key is derived from it. */
  secret: string;
  /** `http.public_url`. */
  publicUrl: string;
  /** Directories whose files may be linked: `recordings.dir` and the mp3 output dir. */
  roots: readonly string[];
  /** `recordings.link_ttl_days`. */
  ttlDays: number;
  /** Wall clock in ms, for tests. */
  now?: () => number;
}

export interface RecordingLinks {
  /** The public URL of `filePath`; throws LINK_OUTSIDE_ROOT when it is missing or outside the roots. */
  makeLink(filePath: string): Promise<string>;
  /** Only the token part of the URL. */
  makeToken(filePath: string): Promise<string>;
  /** The real path a token points to; throws a RecordingError (LINK_INVALID, LINK_EXPIRED, LINK_NOT_FOUND). */
  resolveLink(token: string): Promise<string>;
}

/** The link key for a secret (exported for tests that need to seal hand-made tokens). */
export function deriveLinkKey(secret: string): Buffer {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new RecordingError('LINK_NO_KEY', `recording links need http.secret of at least ${MIN_SECRET_LENGTH} characters`);
  }
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), HKDF_SALT, HKDF_INFO, 32));
}

/** Encrypt `{exp, path}` into a token (no checks: callers check the path). */
export function sealToken(key: Buffer, path: string, expSeconds: number): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const expBuf = Buffer.alloc(4);
  expBuf.writeUInt32BE(Math.max(0, Math.min(0xffff_ffff, Math.floor(expSeconds))));
  const ct = Buffer.concat([cipher.update(Buffer.concat([expBuf, Buffer.from(path, 'utf8')])), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, ct, cipher.getAuthTag()]).toString('base64url');
}

/** Decrypt a token; undefined when it is not authentic under `key`. */
export function openToken(key: Buffer, token: string): { exp: number; path: string } | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const raw = Buffer.from(token, 'base64url');
  if (raw.length < 1 + IV_BYTES + 4 + 1 + TAG_BYTES || raw[0] !== VERSION) return undefined;
  const iv = raw.subarray(1, 1 + IV_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  const ct = raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(ct), decipher.final()]);
    return { exp: plain.readUInt32BE(0), path: plain.subarray(4).toString('utf8') };
  } catch {
    return undefined;
  }
}

export function createRecordingLinks(options: RecordingLinksOptions): RecordingLinks {
  const key = deriveLinkKey(options.secret);
  const now = options.now ?? Date.now;
  const base = options.publicUrl.replace(/\/+$/, '');
  const roots = [...options.roots];
  const ttlSeconds = Math.max(1, Math.round(options.ttlDays * 86_400));

  async function makeToken(filePath: string): Promise<string> {
    const real = isAbsolute(filePath) ? await realPathInside(resolve(filePath), roots) : undefined;
    if (real === undefined) {
      throw new RecordingError('LINK_OUTSIDE_ROOT', 'the recording is missing or outside the recordings directories', { path: filePath });
    }
    return sealToken(key, real, Math.floor(now() / 1000) + ttlSeconds);
  }

  return {
    makeToken,
    async makeLink(filePath) {
      const token = await makeToken(filePath);
      const ext = extname(filePath).slice(1).toLowerCase();
      return `${base}/recordings/${token}${/^[a-z0-9]{1,5}$/.test(ext) ? `.${ext}` : ''}`;
    },
    async resolveLink(token) {
      const opened = openToken(key, token);
      if (!opened) throw new RecordingError('LINK_INVALID', 'this link is not valid');
      if (Math.floor(now() / 1000) >= opened.exp) throw new RecordingError('LINK_EXPIRED', 'this link has expired');
      const { path } = opened;
      // Genuine tokens only carry real absolute paths; anything else is refused all the same.
      if (!isAbsolute(path) || path.includes('\0') || resolve(path) !== path) {
        throw new RecordingError('LINK_NOT_FOUND', 'recording not found');
      }
      const real = await realPathInside(path, roots);
      if (real === undefined) throw new RecordingError('LINK_NOT_FOUND', 'recording not found');
      return real;
    },
  };
}
