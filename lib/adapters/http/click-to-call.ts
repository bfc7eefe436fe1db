/**
 * `POST /api/v1/click-to-call`: validate the request and hand it to the originate
 * service (lib/domain/originate, injected). With a widget token the Kommo user is the
 * token's `user_id` (a different `user_id` in the body is refused with 403); with
 * the shared secret the body must name `user_id`.
 */
import type { IncomingMessage } from 'node:http';
import type { AuthContext } from './auth.js';
import { readJsonBody } from './body.js';
import { HttpError } from './errors.js';

export interface ClickToCallRequest {
  /** Kommo user id of the employee whose phone rings first. */
  userId: number;
  /** The client's number as the widget sent it (trimmed). */
  phone: string;
  /** The request body as sent (hook 6's read-only `request_data`). */
  requestData: Record<string, unknown>;
  /** Aborted when the server gives up on the request (timeout, destroy). */
  signal?: AbortSignal;
}

/**
 * What a placed click-to-call answers, and nothing else: the dialplan's internals
 * (channel, context, trunk, the hook's changes) stay on the server.
 */
export const CLICK_TO_CALL_FIELDS = ['placed', 'state', 'actionId', 'channelId', 'otherChannelId', 'extension', 'userId', 'number'] as const;

export interface ClickToCallResult {
  placed: boolean;
  actionId?: string;
  channelId?: string;
  error?: { code: string; message: string };
  /** Optional HTTP status hint for a failure (400 … 599); else it is derived from `error.code`. */
  status?: number;
  [field: string]: unknown;
}

export type ClickToCall = (request: ClickToCallRequest) => Promise<ClickToCallResult>;

/** Phone numbers as widgets send them: digits, `+`, spaces, dots, dashes, brackets, `*`, `#`. */
const PHONE = /^[+]?[0-9 ().*#-]{1,64}$/;

export function parseUserId(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export async function readClickToCall(req: IncomingMessage, auth: AuthContext, maxBytes: number): Promise<Omit<ClickToCallRequest, 'signal'>> {
  const body = await readJsonBody(req, maxBytes);
  const rawPhone = body.phone;
  if (typeof rawPhone !== 'string' && typeof rawPhone !== 'number') {
    throw HttpError.of('HTTP_BAD_REQUEST', 'phone is required (a string)', { field: 'phone' });
  }
  const phone = String(rawPhone).trim();
  if (!PHONE.test(phone) || !/[0-9]/.test(phone)) {
    throw HttpError.of('HTTP_BAD_REQUEST', 'phone must be a phone number (digits, optionally +, spaces, dashes, dots, brackets)', { field: 'phone' });
  }
  const bodyUser = body.user_id === undefined || body.user_id === null ? undefined : parseUserId(body.user_id);
  if (body.user_id !== undefined && body.user_id !== null && bodyUser === undefined) {
    throw HttpError.of('HTTP_BAD_REQUEST', 'user_id must be a positive integer', { field: 'user_id' });
  }
  let userId: number;
  if (auth.kind === 'widget') {
    const tokenUser = auth.claims.user_id;
    if (tokenUser === undefined) throw HttpError.of('HTTP_FORBIDDEN', 'the widget token names no user_id');
    if (bodyUser !== undefined && bodyUser !== tokenUser) throw HttpError.of('HTTP_FORBIDDEN', 'user_id does not match the widget token');
    userId = tokenUser;
  } else {
    if (bodyUser === undefined) throw HttpError.of('HTTP_BAD_REQUEST', 'user_id is required (a positive integer)', { field: 'user_id' });
    userId = bodyUser;
  }
  return { userId, phone, requestData: body };
}

/**
 * HTTP status of a failed originate: the result's own `status` when it is 400–599,
 * else from the code — the caller's fault (unknown user, no extension, bad number) →
 * 422; the PBX unavailable (AMI down, queue full, shutting down) → 503; a deadline →
 * 504; anything else (Asterisk refused the Originate) → 502.
 */
export function clickToCallStatus(result: ClickToCallResult): number {
  if (typeof result.status === 'number' && Number.isInteger(result.status) && result.status >= 400 && result.status <= 599) return result.status;
  const code = (result.error?.code ?? '').toUpperCase();
  if (/TIMEOUT|DEADLINE/.test(code)) return 504;
  if (/UNKNOWN|NOT_FOUND|NOT_MAPPED|NO_EXTENSION|BAD_|INVALID|UNMAPPED/.test(code)) return 422;
  if (/AMI|NOT_CONNECTED|UNAVAILABLE|DOWN|QUEUE|CLOSED|CLOSING|SHUTTING|OVERLOAD|DISCONNECTED/.test(code)) return 503;
  return 502;
}
