/** Reading the panel's forms: `application/x-www-form-urlencoded`, bounded, one value per field. */
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';

export async function readForm(req: IncomingMessage, maxBytes: number): Promise<Map<string, string>> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw HttpError.of('HTTP_UNSUPPORTED_MEDIA_TYPE', 'a form must be application/x-www-form-urlencoded');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw HttpError.of('HTTP_BODY_TOO_LARGE', `form larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) if (!out.has(k)) out.set(k, v);
  return out;
}
