// A ZIP reader for the tests, written from the format (PKWARE APPNOTE), independent of
// lib/platform/zip.ts: it walks the end record, the central directory and each local
// header, inflates, and checks CRC-32 and sizes, so a writer bug cannot hide behind a
// reader sharing its mistakes.
import { crc32, inflateRawSync } from 'node:zlib';

export interface ReadEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  dosTime: number;
  dosDate: number;
  externalAttributes: number;
  data: Buffer;
}

export function readZip(zip: Buffer): ReadEntry[] {
  const endAt = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0 || endAt + 22 > zip.length) throw new Error('no end of central directory record');
  const count = zip.readUInt16LE(endAt + 10);
  if (zip.readUInt16LE(endAt + 8) !== count) throw new Error('entries on this disk differ from the total');
  const cdSize = zip.readUInt32LE(endAt + 12);
  const cdOffset = zip.readUInt32LE(endAt + 16);
  if (cdOffset + cdSize !== endAt) throw new Error(`central directory ends at ${cdOffset + cdSize}, the end record starts at ${endAt}`);
  const out: ReadEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`central header ${i}: bad signature`);
    const flags = zip.readUInt16LE(p + 8);
    const method = zip.readUInt16LE(p + 10);
    const dosTime = zip.readUInt16LE(p + 12);
    const dosDate = zip.readUInt16LE(p + 14);
    const crc = zip.readUInt32LE(p + 16);
    const compressedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const externalAttributes = zip.readUInt32LE(p + 38);
    const localAt = zip.readUInt32LE(p + 42);
    const name = zip.toString((flags & 0x0800) !== 0 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;

    if (zip.readUInt32LE(localAt) !== 0x04034b50) throw new Error(`${name}: bad local header signature`);
    const lName = zip.toString('utf8', localAt + 30, localAt + 30 + zip.readUInt16LE(localAt + 26));
    if (lName !== name) throw new Error(`${name}: local header names ${lName}`);
    for (const [off, want, what] of [[14, crc, 'crc'], [18, compressedSize, 'compressed size'], [22, size, 'size']] as const) {
      if (zip.readUInt32LE(localAt + off) !== want) throw new Error(`${name}: local ${what} differs from the central directory`);
    }
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    const body = zip.subarray(dataAt, dataAt + compressedSize);
    const data = method === 8 ? inflateRawSync(body) : method === 0 ? Buffer.from(body) : undefined;
    if (!data) throw new Error(`${name}: unknown method ${method}`);
    if (data.length !== size) throw new Error(`${name}: ${data.length} bytes, the header says ${size}`);
    if ((crc32(data) >>> 0) !== crc) throw new Error(`${name}: CRC-32 mismatch`);
    out.push({ name, method, flags, crc, compressedSize, size, dosTime, dosDate, externalAttributes, data });
  }
  if (p !== endAt) throw new Error('central directory size does not match its entries');
  return out;
}
