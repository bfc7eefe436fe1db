/**
 * Answers and routing of the simulator: the `Reply` value every handler returns, the
 * problem+json / hal+json builders, the error thrown to stop a handler with an answer,
 * and a tiny pattern router (`/api/v4/contacts/{id}`).
 */
import { KaError } from '../../lib/platform/errors.js';
import type { SimState } from './state.js';
import type { SimulatorOptions } from './types.js';

export interface Reply {
  status: number;
  /** JSON body; `text` wins when both are set. */
  body?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Run once the answer has been written (e.g. going down after answering). */
  after?: () => void;
}

export const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 413: 'Payload Too Large', 422: 'Unprocessable Entity', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export const HAL = 'application/hal+json';
export const PROBLEM = 'application/problem+json';

export function problemBody(status: number, detail: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: TITLES[status] ?? 'Error', type: `https://httpstatus.es/${status}`, status, detail, ...extra };
}

export function problem(status: number, detail: string, extra: Record<string, unknown> = {}): Reply {
  return { status, body: problemBody(status, detail, extra), contentType: PROBLEM };
}

export function hal(body: unknown, status = 200): Reply {
  return { status, body, contentType: HAL };
}

export function noContent(): Reply {
  return { status: 204 };
}

export interface FieldError {
  code: string;
  path: string;
  detail: string;
}

export interface ItemErrors {
  request_id: string;
  errors: FieldError[];
}

export function validationReply(items: ItemErrors[]): Reply {
  return problem(400, 'Request validation failed', { 'validation-errors': items });
}

/** Thrown by handlers to stop with a prepared answer. */
export class SimHttpError extends KaError {
  readonly reply: Reply;
  constructor(reply: Reply) {
    super('SIM_HTTP', `simulator answers ${reply.status}`, { status: reply.status });
    this.reply = reply;
  }
}

export function fail(status: number, detail: string, extra: Record<string, unknown> = {}): never {
  throw new SimHttpError(problem(status, detail, extra));
}

export interface ResolvedOptions extends Required<Pick<SimulatorOptions,
  'host' | 'port' | 'rateLimitPerSecond' | 'blockAfter429s' | 'blockMs' | 'rateLimitBody' | 'latencyMs'
  | 'unsortedDuplicates' | 'missingEntityStatus' | 'rejectInactiveUsers' | 'maxLogEntries' | 'now'>> {
  longLivedToken: string;
}

export interface Ctx {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed body (JSON, or the fields of a form); undefined when there was none. */
  body: unknown;
  state: SimState;
  opts: ResolvedOptions;
  baseUrl: string;
  /** The user the request's token acts as. */
  userId: number;
}

export type Handler = (ctx: Ctx) => Reply;

export interface Route {
  method: string;
  pattern: string;
  handler: Handler;
}

interface Compiled extends Route {
  regex: RegExp;
  names: string[];
}

const PARAM: Record<string, string> = { id: '(\\d+)', uid: '([A-Za-z0-9_-]+)', entity: '(leads|contacts|companies)' };

export class Router {
  private readonly routes: Compiled[] = [];

  add(routes: readonly Route[]): this {
    for (const r of routes) {
      const names: string[] = [];
      const src = r.pattern.replace(/\{(\w+)\}/g, (_m, name: string) => {
        names.push(name);
        return PARAM[name] ?? '([^/]+)';
      });
      this.routes.push({ ...r, regex: new RegExp(`^${src}/?$`), names });
    }
    return this;
  }

  /** The route for method+path, or 'method' when only the method is wrong, or undefined. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | 'method' | undefined {
    let pathKnown = false;
    for (const r of this.routes) {
      const m = r.regex.exec(path);
      if (!m) continue;
      pathKnown = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => { params[n] = m[i + 1] ?? ''; });
      return { route: r, params };
    }
    return pathKnown ? 'method' : undefined;
  }
}
