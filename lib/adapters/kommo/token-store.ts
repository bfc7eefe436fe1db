/**
 * Durable storage of the OAuth token pair. Kommo's refresh tokens are single-use: once a
 * refresh succeeded the old pair is dead, so the new pair must be on disk before anything
 * uses it. Writes are atomic: temp file (mode 0600) + fsync + rename + fsync of the
 * directory. The file never appears half-written, and a crash leaves either pair.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KommoAuthError } from './errors.js';

export interface StoredTokens {
  access_token: string;
  refresh_token: string;
  /** Epoch milliseconds at which the access token expires. */
  expires_at: number;
  token_type: string;
  /** Epoch milliseconds of the refresh that produced this pair. */
  updated_at: number;
}

export interface TokenStore {
  readonly path: string;
  /** The stored pair, or null when the file does not exist. Throws KOMMO_TOKEN_STORE when unreadable. */
  load(): Promise<StoredTokens | null>;
  /** Persist atomically. Throws KOMMO_TOKEN_STORE. */
  save(tokens: StoredTokens): Promise<void>;
}

function isStoredTokens(v: unknown): v is StoredTokens {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['access_token'] === 'string' && typeof o['refresh_token'] === 'string'
    && typeof o['expires_at'] === 'number';
}

export async function writeFileAtomic(file: string, data: string, mode = 0o600): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.chmod(mode);
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  // Make the rename itself durable; not every platform lets a directory be fsynced.
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* best effort */
  }
}

export function createFileTokenStore(path: string): TokenStore {
  return {
    path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new KommoAuthError('KOMMO_TOKEN_STORE', `cannot read the token file ${path}`, { cause: err, path });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new KommoAuthError('KOMMO_TOKEN_STORE', `the token file ${path} is not JSON`, { cause: err, path });
      }
      if (!isStoredTokens(parsed)) {
        throw new KommoAuthError('KOMMO_TOKEN_STORE',
          `the token file ${path} lacks access_token/refresh_token/expires_at`, { path });
      }
      return {
        access_token: parsed.access_token,
        refresh_token: parsed.refresh_token,
        expires_at: parsed.expires_at,
        token_type: typeof parsed.token_type === 'string' ? parsed.token_type : 'Bearer',
        updated_at: typeof parsed.updated_at === 'number' ? parsed.updated_at : 0,
      };
    },
    async save(tokens) {
      try {
        await writeFileAtomic(path, `${JSON.stringify(tokens, null, 2)}\n`);
      } catch (err) {
        throw new KommoAuthError('KOMMO_TOKEN_STORE', `cannot write the token file ${path}`, { cause: err, path });
      }
    },
  };
}
