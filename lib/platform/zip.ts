/**
 * A small ZIP writer (PKWARE APPNOTE 6.3, the subset every unzipper reads): one
 * buffer in, one buffer out, no dependency. Each entry is deflated with node:zlib
 * (raw DEFLATE, method 8) or stored (method 0) when deflating would not make it
 * smaller; CRC-32 comes from node:zlib too. Names are UTF-8 (general-purpose flag
 * bit 11). No ZIP64, no encryption, no data descriptors: a widget archive is a few
 * hundred kilobytes.
 *
 * Deterministic: entries keep the order given and carry one fixed timestamp
 * (default 1980-01-01 00:00, the format's epoch), so the same files always make
 * the same bytes.
 *
 * Entry names are checked strictly (`ZIP_BAD_NAME`): relative, `/`-separated, no
 * `.`/`..` segment, no backslash, no control character, no duplicate. An archive
 * built here can never write outside the folder it is unpacked into.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import { KaError } from './errors.js';

export type ZipErrorCode = 'ZIP_BAD_NAME' | 'ZIP_TOO_LARGE';

export class ZipError extends KaError {
  declare readonly code: ZipErrorCode;
  constructor(code: ZipErrorCode, message: string, options: { entry?: string } = {}) {
    super(code, message, { entry: options.entry });
  }
}

export interface ZipEntry {
  /** Path inside the archive, `/`-separated, e.g. `i18n/en.json`. */
  name: string;
  data: Uint8Array;
  /** Unix permission bits stored for unzippers that apply them (default 0o644). */
  mode?: number;
}

export interface ZipOptions {
  /** Timestamp of every entry (local time fields, as the format has no zone). Default 1980-01-01 00:00. */
  date?: Date;
  /** `false` stores every entry uncompressed. Default true. */
  deflate?: boolean;
}

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
const UTF8_FLAG = 0x0800;
const VERSION_NEEDED = 20; // 2.0: deflate, folders
const MADE_BY_UNIX = (3 << 8) | 20;
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffffffff;

/** Why `name` cannot be an entry name, or null when it can. */
export function zipNameProblem(name: string): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_U16) return 'is longer than 65,535 bytes';
  if (name.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is absolute';
  if (name.endsWith('/')) return 'names a folder (only files are stored)';
  if (name.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'has an empty, "." or ".." segment';
  return null;
}

/** MS-DOS date and time fields (2-second resolution, years 1980–2107). */
function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.min(2107, Math.max(1980, date.getFullYear()));
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

/** Build a ZIP archive of `entries`, in the order given. */
export function createZip(entries: readonly ZipEntry[], options: ZipOptions = {}): Buffer {
  if (entries.length > MAX_U16) throw new ZipError('ZIP_TOO_LARGE', `too many entries (${entries.length}; at most 65,535)`);
  const stamp = dosDateTime(options.date ?? new Date(1980, 0, 1, 0, 0, 0));
  const seen = new Set<string>();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;

  for (const entry of entries) {
    const problem = zipNameProblem(entry.name);
    if (problem) throw new ZipError('ZIP_BAD_NAME', `zip entry name ${JSON.stringify(entry.name)} ${problem}`, { entry: entry.name });
    if (seen.has(entry.name)) throw new ZipError('ZIP_BAD_NAME', `zip entry name ${JSON.stringify(entry.name)} appears twice`, { entry: entry.name });
    seen.add(entry.name);
    const raw = Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
    if (raw.length > MAX_U32) throw new ZipError('ZIP_TOO_LARGE', `zip entry ${entry.name} is larger than 4 GiB`, { entry: entry.name });
    const deflated = options.deflate === false || raw.length === 0 ? undefined : deflateRawSync(raw, { level: 9 });
    const useDeflate = deflated !== undefined && deflated.length < raw.length;
    const body = useDeflate ? deflated : raw;
    const method = useDeflate ? 8 : 0;
    const crc = crc32(raw) >>> 0;
    const name = Buffer.from(entry.name, 'utf8');

    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_SIG, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(UTF8_FLAG, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(stamp.time, 10);
    local.writeUInt16LE(stamp.date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL_SIG, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(UTF8_FLAG, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(stamp.time, 12);
    central.writeUInt16LE(stamp.date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length 0, comment length 0, disk 0, internal attributes 0 (bytes 30–37)
    central.writeUInt32LE((((entry.mode ?? 0o644) & 0o7777) | 0o100000) * 0x10000 >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + body.length;
    if (offset > MAX_U32) throw new ZipError('ZIP_TOO_LARGE', 'the archive would be larger than 4 GiB');
  }

  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_SIG, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
