/**
 * Bounded JSON request bodies: `Content-Type: application/json` (415 otherwise),
 * at most `maxBytes` (413, checked on `Content-Length` before reading and again
 * while reading), valid UTF-8 JSON whose top level is an object (400).
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type] = value.split(';', 1);
  const t = (type ?? '').trim().toLowerCase();
  return t === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(t);
}

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  if (!isJsonContentType(req.headers['content-type'])) {
    throw HttpError.of('HTTP_UNSUPPORTED_MEDIA_TYPE', 'request body must be JSON (Content-Type: application/json)');
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw HttpError.of('HTTP_BODY_TOO_LARGE', `request body is larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw HttpError.of('HTTP_BODY_TOO_LARGE', `request body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw HttpError.of('HTTP_BAD_JSON', 'request body is not valid UTF-8');
  }
  if (text.trim() === '') throw HttpError.of('HTTP_BAD_JSON', 'request body is empty; a JSON object is expected');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the body; say what is wrong without echoing it.
    throw HttpError.of('HTTP_BAD_JSON', 'request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw HttpError.of('HTTP_BAD_JSON', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
