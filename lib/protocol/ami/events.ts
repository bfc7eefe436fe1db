/**
 * Typed AMI events. Every message the adapter hands out is normalised the
 * same way, whether it came from a live connection, from our own
 * parser (./parser.ts) or from a recorded fixture in Asterisk's own key case:
 *   - keys trimmed and lowercased (`Uniqueid` → `uniqueid`, `LinkedID` → `linkedid`);
 *   - `event` lowercased too (`Newchannel` → `newchannel`) so it discriminates;
 *   - `variable` / `*chanvariable` become `{name: value}` objects;
 *   - a repeated plain key keeps its first value (the package does the same
 *     for `event`), so every other value is a string.
 */
import type { RawAmiMessage, RawAmiValue } from './parser.js';
import { isVariableKey, lowerKey } from './parser.js';

export type AmiValue = string | Record<string, string>;

/** Any AMI message after normalisation. */
export interface AmiMessage {
  [key: string]: AmiValue | undefined;
}

/** Any AMI event after normalisation. */
export interface AmiEvent extends AmiMessage {
  event: string;
}

/** A response to an action. */
export interface AmiResponse extends AmiMessage {
  response: string;
  actionid?: string;
  message?: string;
}

/** The channel snapshot Asterisk puts in every call event (lowercased). */
export interface ChannelSnapshot {
  channel: string;
  channelstate: string;
  channelstatedesc: string;
  calleridnum: string;
  calleridname: string;
  connectedlinenum: string;
  connectedlinename: string;
  language?: string;
  accountcode?: string;
  context: string;
  exten: string;
  priority: string;
  uniqueid: string;
  linkedid: string;
  timestamp?: string;
}

/** A second channel in the same event, under a prefix (`dest`, `transferer` …). */
export type Prefixed<P extends string> = {
  [K in keyof ChannelSnapshot as K extends 'timestamp' ? never : `${P}${K}`]: ChannelSnapshot[K];
};

export interface BridgeSnapshot {
  bridgeuniqueid: string;
  bridgetype: string;
  bridgetechnology?: string;
  bridgecreator?: string;
  bridgename?: string;
  bridgenumchannels: string;
}
export type PrefixedBridge<P extends string> = { [K in keyof BridgeSnapshot as `${P}${K}`]: BridgeSnapshot[K] };

/** Fields of the events the call tracker reads. Values are strings as Asterisk sent them. */
export interface AmiEventMap {
  newchannel: ChannelSnapshot;
  newstate: ChannelSnapshot;
  newcallerid: ChannelSnapshot & { cidcallingpres?: string };
  newexten: ChannelSnapshot & { extension?: string; application: string; appdata: string };
  dialbegin: ChannelSnapshot & Prefixed<'dest'> & { dialstring?: string };
  dialstate: ChannelSnapshot & Prefixed<'dest'> & { dialstatus: string; forward?: string };
  dialend: ChannelSnapshot & Prefixed<'dest'> & { dialstatus: string; forward?: string };
  bridgeenter: ChannelSnapshot & BridgeSnapshot & { swapuniqueid?: string };
  bridgeleave: ChannelSnapshot & BridgeSnapshot;
  hangup: ChannelSnapshot & { cause: string; 'cause-txt': string };
  softhanguprequest: ChannelSnapshot & { cause?: string };
  blindtransfer: Prefixed<'transferer'> &
    Prefixed<'transferee'> &
    PrefixedBridge<''> & { result: string; isexternal: string; context: string; extension: string };
  attendedtransfer: Prefixed<'origtransferer'> &
    Prefixed<'secondtransferer'> &
    Partial<Prefixed<'transferee'>> &
    Partial<Prefixed<'transfertarget'>> &
    Partial<PrefixedBridge<'orig'>> &
    Partial<PrefixedBridge<'second'>> & {
      result: string;
      desttype: string;
      destbridgeuniqueid?: string;
      destapp?: string;
      localoneuniqueid?: string;
      localtwouniqueid?: string;
      desttransfererchannel?: string;
      isexternal?: string;
    };
  queuecallerjoin: ChannelSnapshot & { queue: string; position: string; count: string };
  queuecallerleave: ChannelSnapshot & { queue: string; position: string; count: string };
  queuecallerabandon: ChannelSnapshot & {
    queue: string;
    position: string;
    originalposition: string;
    holdtime: string;
  };
  agentcalled: ChannelSnapshot &
    Prefixed<'dest'> & { queue: string; membername: string; interface: string };
  agentconnect: ChannelSnapshot &
    Prefixed<'dest'> & { queue: string; membername: string; interface: string; holdtime: string; ringtime: string };
  agentcomplete: ChannelSnapshot &
    Prefixed<'dest'> & {
      queue: string;
      membername: string;
      interface: string;
      holdtime: string;
      talktime: string;
      reason: string;
    };
  agentringnoanswer: ChannelSnapshot &
    Prefixed<'dest'> & { queue: string; membername: string; interface: string; ringtime: string };
  varset: ChannelSnapshot & { variable: string; value: string };
  cel: {
    eventname: string;
    accountcode?: string;
    calleridnum: string;
    calleridname: string;
    exten: string;
    context: string;
    channel: string;
    application: string;
    appdata: string;
    eventtime: string;
    amaflags?: string;
    uniqueid: string;
    linkedid: string;
    userfield?: string;
    peer?: string;
    peeraccount?: string;
    extra?: string;
  };
  originateresponse: {
    actionid?: string;
    response: string;
    channel: string;
    context: string;
    exten: string;
    application?: string;
    data?: string;
    reason: string;
    uniqueid: string;
    calleridnum: string;
    calleridname: string;
  };
  /** A parked call taken from its slot by the retriever (res_parking). */
  unparkedcall: Prefixed<'parkee'> & Prefixed<'retriever'> & { parkinglot?: string; parkingspace?: string };
  localbridge: Prefixed<'localone'> & Prefixed<'localtwo'> & { context: string; exten: string; localoptimization: string };
  rename: ChannelSnapshot & { newname: string };
  coreshowchannel: ChannelSnapshot & {
    actionid?: string;
    application: string;
    applicationdata: string;
    duration: string;
    bridgeid: string;
  };
}

export type AmiEventName = keyof AmiEventMap;
export type AmiEventOf<K extends AmiEventName> = AmiEventMap[K] & { event: K } & AmiEvent;
export type KnownAmiEvent = { [K in AmiEventName]: AmiEventOf<K> }[AmiEventName];

/** Narrow an event to one of the typed names. */
export function isEvent<K extends AmiEventName>(e: AmiEvent, name: K): e is AmiEventOf<K> {
  return e.event === name;
}

/** A string field, or '' when absent or not a string. */
export function field(e: AmiMessage, key: string): string {
  const v = e[key];
  return typeof v === 'string' ? v : '';
}

function firstString(v: RawAmiValue | unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const first: unknown = v[0];
    return typeof first === 'string' ? first : undefined;
  }
  if (v === undefined || v === null) return undefined;
  return String(v);
}

function toVariables(v: RawAmiValue | unknown, into: Record<string, string> = {}): Record<string, string> {
  if (typeof v === 'string') {
    const eq = v.indexOf('=');
    if (eq < 0) into[v] = '';
    else into[v.slice(0, eq)] = v.slice(eq + 1);
  } else if (Array.isArray(v)) {
    for (const one of v) toVariables(one, into);
  } else if (v && typeof v === 'object') {
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) into[k] = String(val);
  }
  return into;
}

/**
 * Normalise one message from the package, our parser, or a recorded fixture
 * (any key case; repeated keys as arrays). Returns a fresh object.
 */
export function normalizeMessage(raw: Record<string, unknown> | RawAmiMessage): AmiMessage {
  const out: AmiMessage = {};
  for (const rawKey of Object.keys(raw)) {
    const key = lowerKey(rawKey);
    const v = (raw as Record<string, unknown>)[rawKey];
    if (isVariableKey(key)) {
      const prev = out[key];
      out[key] = toVariables(v, typeof prev === 'object' ? prev : {});
      continue;
    }
    if (key in out) continue;
    const s = firstString(v);
    if (s !== undefined) out[key] = s;
  }
  const ev = out['event'];
  if (typeof ev === 'string') out['event'] = ev.toLowerCase();
  return out;
}

/** Normalise a message known to be an event (it has an `Event` key). */
export function normalizeEvent(raw: Record<string, unknown> | RawAmiMessage): AmiEvent | undefined {
  const msg = normalizeMessage(raw);
  return typeof msg['event'] === 'string' ? (msg as AmiEvent) : undefined;
}

/** The event's time in Unix ms from its `Timestamp` header (timestampevents=yes), else undefined. */
export function eventTimeMs(e: AmiMessage): number | undefined {
  const ts = e['timestamp'];
  if (typeof ts !== 'string' || ts.length === 0) return undefined;
  const n = Number(ts);
  return Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : undefined;
}
