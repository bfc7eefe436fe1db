/** Writing JSON answers and coded errors. Nothing here ever writes a stack or a path. */
import type { ServerResponse } from 'node:http';
import { HttpError } from './errors.js';

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** `{"error": {"code", "message"}}` with the error's status and headers (plus `extra`, e.g. CORS). */
export function sendError(res: ServerResponse, err: HttpError, extra: Record<string, string> = {}): void {
  sendJson(res, err.status, { error: { code: err.code, message: err.message } }, { ...err.headers, ...extra });
}
