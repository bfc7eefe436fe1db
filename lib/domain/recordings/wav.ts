/**
 * A WAV header reader: enough to tell whether lame can encode a file, and how long
 * it is. lame itself encodes anything it cannot recognise as raw PCM noise, so a
 * file is checked here before it is handed over.
 */
import { open } from 'node:fs/promises';
import { RecordingError } from './errors.js';

export interface WavInfo {
  /** 1 PCM, 3 IEEE float. */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Byte offset of the samples. */
  dataOffset: number;
  /** Bytes of samples present in the file (the header's own count is not trusted). */
  dataBytes: number;
  /** Seconds of audio. */
  durationSec: number;
  /** The RIFF and data sizes in the header agree with the file size (the writer closed it). */
  headerComplete: boolean;
}

const HEADER_READ = 64 * 1024;
const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function unsupported(message: string): RecordingError {
  return new RecordingError('RECORDING_UNSUPPORTED', message);
}

/** Parse the header of a WAV held in `head` (the file's first bytes) for a file of `fileSize` bytes. */
export function parseWavHeader(head: Buffer, fileSize: number): WavInfo {
  if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') {
    throw unsupported('not a RIFF/WAVE file');
  }
  const riffSize = head.readUInt32LE(4);
  let offset = 12;
  let fmt: { format: number; channels: number; sampleRate: number; bitsPerSample: number; blockAlign: number } | undefined;
  while (offset + 8 <= head.length) {
    const id = head.toString('ascii', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > head.length) throw unsupported('WAV fmt chunk is truncated');
      let format = head.readUInt16LE(body);
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= head.length) format = head.readUInt16LE(body + 24);
      fmt = {
        format,
        channels: head.readUInt16LE(body + 2),
        sampleRate: head.readUInt32LE(body + 4),
        blockAlign: head.readUInt16LE(body + 12),
        bitsPerSample: head.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw unsupported('WAV data chunk comes before its fmt chunk');
      if (fmt.format !== WAVE_FORMAT_PCM && fmt.format !== WAVE_FORMAT_IEEE_FLOAT) throw unsupported(`WAV format ${fmt.format} is not PCM`);
      if (fmt.channels < 1 || fmt.channels > 2) throw unsupported(`WAV with ${fmt.channels} channels`);
      if (fmt.sampleRate < 8000 || fmt.sampleRate > 48000) throw unsupported(`WAV sample rate ${fmt.sampleRate}`);
      if (![8, 16, 24, 32].includes(fmt.bitsPerSample)) throw unsupported(`WAV with ${fmt.bitsPerSample} bits per sample`);
      const present = Math.max(0, fileSize - body);
      const dataBytes = Math.min(present, size === 0 || size === 0xffff_ffff ? present : size);
      const bytesPerSecond = fmt.sampleRate * fmt.channels * (fmt.bitsPerSample / 8);
      return {
        format: fmt.format,
        channels: fmt.channels,
        sampleRate: fmt.sampleRate,
        bitsPerSample: fmt.bitsPerSample,
        dataOffset: body,
        dataBytes,
        durationSec: dataBytes / bytesPerSecond,
        headerComplete: riffSize + 8 === fileSize && body + size === fileSize,
      };
    }
    offset = body + size + (size % 2);
  }
  throw unsupported('WAV has no data chunk');
}

/** Read and parse a WAV file's header. */
export async function readWavInfo(path: string): Promise<WavInfo> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(Math.min(HEADER_READ, size));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return parseWavHeader(buf.subarray(0, bytesRead), size);
  } finally {
    await fh.close();
  }
}

/** A RIFF/WAVE file of 16-bit PCM samples (mono when `channels` is 1) — for tests and the bench. */
export function makeWav(samples: Int16Array, sampleRate = 8000, channels = 1): Buffer {
  const dataBytes = samples.length * 2;
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * channels * 2, 28);
  b.writeUInt16LE(channels * 2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) b.writeInt16LE(samples[i] ?? 0, 44 + i * 2);
  return b;
}

/** `seconds` of a sine wave, 8 kHz mono 16-bit. */
export function sineWav(seconds: number, hz = 440, sampleRate = 8000): Buffer {
  const n = Math.round(seconds * sampleRate);
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / sampleRate));
  return makeWav(s, sampleRate);
}
