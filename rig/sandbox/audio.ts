// Test audio for SIPp's rtp_stream action: a G.711 μ-law (PCMU) 8 kHz mono WAV.
//
// SIPp (built with RTPSTREAM) plays `<exec rtp_stream="file,loops,payload_type"/>`
// by cutting the file into 20 ms packets (160 bytes for PCMU/PCMA at 8 kHz) and
// sending them as RTP with the given payload type (0 = PCMU). It sends the bytes
// as they are, so the samples must already be μ-law for payload type 0. A WAV
// header (WAVE_FORMAT_MULAW) keeps the file playable by ordinary tools too;
// the few header bytes SIPp may send as audio are a few milliseconds of noise.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from './repo.js';

/** WAVE_FORMAT_MULAW (ITU G.711 μ-law). */
export const WAVE_FORMAT_MULAW = 7;
export const PCMU_SAMPLE_RATE = 8000;

const BIAS = 0x84;
const CLIP = 32635;

/** G.711 μ-law encode one 16-bit linear sample. */
export function linearToUlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** G.711 μ-law decode one byte to a 16-bit linear sample. */
export function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** A RIFF/WAVE file of μ-law samples (8 bits each, mono). */
export function makeUlawWav(ulaw: Uint8Array, sampleRate = PCMU_SAMPLE_RATE): Buffer {
  // fmt chunk of 18 bytes (cbSize = 0) and a fact chunk, as non-PCM formats ask.
  const header = 12 + (8 + 18) + (8 + 4) + 8;
  const padded = ulaw.length + (ulaw.length % 2);
  const b = Buffer.alloc(header + padded);
  let o = 0;
  o += b.write('RIFF', o, 'ascii');
  o = b.writeUInt32LE(header - 8 + padded, o);
  o += b.write('WAVE', o, 'ascii');
  o += b.write('fmt ', o, 'ascii');
  o = b.writeUInt32LE(18, o);
  o = b.writeUInt16LE(WAVE_FORMAT_MULAW, o);
  o = b.writeUInt16LE(1, o); // channels
  o = b.writeUInt32LE(sampleRate, o);
  o = b.writeUInt32LE(sampleRate, o); // bytes per second
  o = b.writeUInt16LE(1, o); // block align
  o = b.writeUInt16LE(8, o); // bits per sample
  o = b.writeUInt16LE(0, o); // cbSize
  o += b.write('fact', o, 'ascii');
  o = b.writeUInt32LE(4, o);
  o = b.writeUInt32LE(ulaw.length, o);
  o += b.write('data', o, 'ascii');
  o = b.writeUInt32LE(ulaw.length, o);
  Buffer.from(ulaw.buffer, ulaw.byteOffset, ulaw.length).copy(b, o);
  return b;
}

export interface ToneOptions {
  /** Seconds of audio (default 3). */
  seconds?: number;
  /** Tone frequency in Hz (default 440). */
  hz?: number;
  /** Peak amplitude of the 16-bit linear signal (default 12000, about -8.7 dBFS). */
  amplitude?: number;
}

/** μ-law samples of a sine tone at 8 kHz. */
export function ulawTone(opts: ToneOptions = {}): Uint8Array {
  const seconds = opts.seconds ?? 3;
  const hz = opts.hz ?? 440;
  const amplitude = opts.amplitude ?? 12000;
  const n = Math.round(seconds * PCMU_SAMPLE_RATE);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = linearToUlaw(amplitude * Math.sin((2 * Math.PI * hz * i) / PCMU_SAMPLE_RATE));
  return out;
}

/** A μ-law 8 kHz WAV of a sine tone, ready for SIPp's rtp_stream with payload type 0. */
export function ulawToneWav(opts: ToneOptions = {}): Buffer {
  return makeUlawWav(ulawTone(opts));
}

/** Write a tone WAV to `file` and return `file`. */
export function writeToneWav(file: string, opts: ToneOptions = {}): string {
  writeFileSync(file, ulawToneWav(opts));
  return file;
}

/** The placeholder in test/sipp/uac-audio.xml that names the audio file. */
export const AUDIO_FILE_PLACEHOLDER = '@AUDIO_FILE@';

/**
 * SIPp reads the rtp_stream file name when it loads the scenario (no [keyword]
 * substitution there), so the audio UAC scenario is a template: write a copy of
 * test/sipp/uac-audio.xml naming `wavFile`, and a tone WAV when `wavFile` is not
 * given. Returns the scenario path (for `startSipp({scenario: {file}})`) and the WAV.
 */
export function writeAudioUacScenario(opts: { dir?: string; wavFile?: string; tone?: ToneOptions } = {}): { scenario: string; wav: string } {
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'ka-sipp-audio-'));
  const wav = opts.wavFile ?? writeToneWav(path.join(dir, 'tone-pcmu.wav'), opts.tone);
  if (/[",<>&\s]/.test(wav)) throw new Error(`audio file path not usable in a SIPp scenario: ${wav}`);
  const template = readFileSync(path.join(packageRoot(), 'test', 'sipp', 'uac-audio.xml'), 'utf8');
  if (!template.includes(AUDIO_FILE_PLACEHOLDER)) throw new Error(`test/sipp/uac-audio.xml has no ${AUDIO_FILE_PLACEHOLDER}`);
  const scenario = path.join(dir, 'uac-audio.xml');
  writeFileSync(scenario, template.split(AUDIO_FILE_PLACEHOLDER).join(wav));
  return { scenario, wav };
}
