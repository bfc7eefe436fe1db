/**
 * Test helpers: a started simulator per test, and a small fetch wrapper that returns
 * status, content type, parsed JSON (when the body is JSON) and raw text.
 */
import type { Test } from 'tap';
import { startSimulator, type KommoSimulator, type SimulatorOptions } from '../../rig/simulator/index.js';

export interface ApiAnswer {
  status: number;
  type: string;
  headers: Headers;
  text: string;
  json: any;
}

export async function withSim(t: Test, opts: SimulatorOptions = {}): Promise<KommoSimulator> {
  const sim = await startSimulator({ rateLimitPerSecond: 0, ...opts });
  t.teardown(() => sim.close());
  return sim;
}

export async function call(sim: KommoSimulator, method: string, path: string,
  body?: unknown, token: string | null = sim.longLivedToken, extra: Record<string, string> = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...extra };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${sim.url}${path}`, { method, headers, body: payload });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  let json: any;
  if (type.includes('json') && text !== '') json = JSON.parse(text);
  return { status: res.status, type, headers: res.headers, text, json };
}

/** The validation errors of a 400 answer, flattened to "code path". */
export function codes(a: ApiAnswer): string[] {
  const items = (a.json?.['validation-errors'] ?? []) as Array<{ errors: Array<{ code: string; path: string }> }>;
  return items.flatMap((i) => i.errors.map((e) => `${e.code} ${e.path}`));
}
