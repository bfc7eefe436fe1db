/**
 * Which channels are employees' phones, which are trunks: compiled once from
 * the pbx configuration into a TrackerContext the pure reducer reads.
 */
import type { DeepReadonly, PbxConfig } from '../../platform/config/types.js';
import { NO_TIME, type CallTime, type KommoUserRef } from '../call/types.js';

/**
 * - `extension`: an employee's phone (endpoint in `pbx.extensions` or matching `extension_pattern`);
 * - `trunk`: an endpoint listed in `pbx.trunks`;
 * - `external`: any other real endpoint — treated as the outside world, like a trunk;
 * - `local`: a `Local/` half (a dialplan proxy, never a phone of its own).
 */
export type EndpointKind = 'extension' | 'trunk' | 'external' | 'local';

export interface ParsedChannel {
  tech: string;
  /** `101` for `PJSIP/101-00000001`; `102@from-queue` for a Local channel. */
  endpoint: string;
  kind: EndpointKind;
  /** The extension number when the channel is (or proxies, for Local) an employee's phone, else ''. */
  ext: string;
  /** 1 or 2 for the halves of a Local channel, else 0. */
  half: 0 | 1 | 2;
}

export interface Classifier {
  isExtension(endpoint: string): boolean;
  isTrunk(endpoint: string, tech: string): boolean;
  user(ext: string): KommoUserRef | null;
}

export interface TrackerContext {
  readonly classifier: Classifier;
  /** Unix ms used for events without a `Timestamp` header (set per event by the caller). */
  readonly now: number;
  /** `YYYY-MM-DD HH:MM:SS`; default: the process's local time (the PBX's, as call-facts expects). */
  readonly formatTime: (ms: number) => CallTime;
}

export type ClassificationConfig = DeepReadonly<Pick<PbxConfig, 'extensions' | 'trunks' | 'extension_pattern'>>;

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Local-time `YYYY-MM-DD HH:MM:SS`; `0001-01-01 00:00:00` for 0 (not happened). */
export function formatLocalTime(ms: number): CallTime {
  if (!ms) return NO_TIME;
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatUtcTime(ms: number): CallTime {
  if (!ms) return NO_TIME;
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function createClassifier(pbx: ClassificationConfig): Classifier {
  const pattern = new RegExp(pbx.extension_pattern);
  const trunks = new Set(pbx.trunks);
  const users = new Map<string, KommoUserRef>();
  for (const [ext, id] of Object.entries(pbx.extensions)) users.set(ext, { id, extension: ext });
  return {
    isExtension: (endpoint) => users.has(endpoint) || (!trunks.has(endpoint) && pattern.test(endpoint)),
    isTrunk: (endpoint, tech) => trunks.has(endpoint) || trunks.has(`${tech}/${endpoint}`),
    user: (ext) => users.get(ext) ?? null,
  };
}

export function createTrackerContext(
  pbx: ClassificationConfig,
  options: { now?: number; formatTime?: (ms: number) => CallTime } = {},
): TrackerContext {
  return { classifier: createClassifier(pbx), now: options.now ?? 0, formatTime: options.formatTime ?? formatLocalTime };
}

/** The same context with another `now` (cheap; call per event when events carry no Timestamp). */
export function withNow(ctx: TrackerContext, now: number): TrackerContext {
  return { classifier: ctx.classifier, now, formatTime: ctx.formatTime };
}

/** `PJSIP/101-0000000a` → tech PJSIP, endpoint 101; `Local/102@from-queue-00000000;1` → Local 102@from-queue half 1. */
export function parseChannel(name: string, classifier: Classifier): ParsedChannel {
  const slash = name.indexOf('/');
  const tech = slash < 0 ? '' : name.slice(0, slash);
  let rest = slash < 0 ? name : name.slice(slash + 1);
  if (tech === 'Local') {
    let half: 0 | 1 | 2 = 0;
    const semi = rest.lastIndexOf(';');
    if (semi >= 0) {
      half = rest.slice(semi + 1) === '2' ? 2 : 1;
      rest = rest.slice(0, semi);
    }
    const dash = rest.lastIndexOf('-');
    const endpoint = dash > 0 ? rest.slice(0, dash) : rest;
    const at = endpoint.indexOf('@');
    const exten = at < 0 ? endpoint : endpoint.slice(0, at);
    return { tech, endpoint, kind: 'local', ext: classifier.isExtension(exten) ? exten : '', half };
  }
  // Masquerade leftovers such as `PJSIP/101-00000001<ZOMBIE>` keep their endpoint.
  const dash = rest.lastIndexOf('-');
  const endpoint = dash > 0 ? rest.slice(0, dash) : rest;
  if (classifier.isTrunk(endpoint, tech)) return { tech, endpoint, kind: 'trunk', ext: '', half: 0 };
  if (classifier.isExtension(endpoint)) return { tech, endpoint, kind: 'extension', ext: endpoint, half: 0 };
  return { tech, endpoint, kind: 'external', ext: '', half: 0 };
}

/** Asterisk writes `<unknown>` for empty caller fields. */
export function known(value: string): string {
  return value === '<unknown>' || value === '<Unknown>' ? '' : value;
}
