/**
 * `GET|HEAD /recordings/<token>[.<ext>]`: stream a recording. The signed link is
 * its own authentication (lib/domain/recordings/links.ts). The file is opened only after
 * the token is authentic, unexpired and its real path lies inside the recordings
 * roots; it is opened without following a final symlink and must be a regular file.
 * No answer ever names the file.
 */
import { constants } from 'node:fs';
import { open as fsOpen, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { RecordingError } from '../../domain/recordings/errors.js';
import { HttpError } from './errors.js';
import { parseRange } from './range.js';

/** What the route needs from lib/domain/recordings' links. */
export interface LinkResolver {
  resolveLink(token: string): Promise<string>;
}

export type OpenFile = (path: string) => Promise<FileHandle>;

export const defaultOpenFile: OpenFile = (path) => fsOpen(path, constants.O_RDONLY | constants.O_NOFOLLOW);

const CONTENT_TYPES: Record<string, string> = {
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.gsm': 'audio/x-gsm',
};

export function recordingContentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

const NOT_FOUND = (): HttpError => HttpError.of('HTTP_NOT_FOUND', 'recording not found');

export async function serveRecording(
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
  deps: { links: LinkResolver; open: OpenFile; logger: Logger },
): Promise<void> {
  let path: string;
  try {
    path = await deps.links.resolveLink(token);
  } catch (err) {
    if (err instanceof RecordingError && err.status >= 400) {
      deps.logger.info({ code: err.code }, 'recording link refused');
      throw new HttpError(err.code, err.message, err.status);
    }
    throw err;
  }

  let fh: FileHandle;
  try {
    fh = await deps.open(path);
  } catch {
    throw NOT_FOUND();
  }
  let handed = false;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw NOT_FOUND();
    const size = st.size;
    const headers: Record<string, string> = {
      'content-type': recordingContentType(path),
      'accept-ranges': 'bytes',
      'last-modified': st.mtime.toUTCString(),
      'cache-control': 'private, max-age=3600',
      'x-content-type-options': 'nosniff',
      'content-disposition': `inline; filename="recording${extname(path).toLowerCase().replace(/[^.a-z0-9]/g, '')}"`,
    };
    const range = parseRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, size);
    if (range.kind === 'unsatisfiable') {
      throw HttpError.of('HTTP_RANGE_NOT_SATISFIABLE', 'requested range not satisfiable', { headers: { 'content-range': `bytes */${size}` } });
    }
    const start = range.kind === 'range' ? range.start : 0;
    const end = range.kind === 'range' ? range.end : size - 1;
    const length = size === 0 ? 0 : end - start + 1;
    headers['content-length'] = String(length);
    if (range.kind === 'range') headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range.kind === 'range' ? 206 : 200, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    const stream = fh.createReadStream({ start, end, autoClose: true });
    handed = true;
    try {
      await pipeline(stream, res);
    } catch (err) {
      // The client went away (premature close) or the read failed: the response is destroyed.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ERR_STREAM_PREMATURE_CLOSE') deps.logger.warn({ code }, 'recording stream failed');
    }
  } finally {
    if (!handed) await fh.close().catch(() => undefined);
  }
}
