/**
 * One event's transaction over the tracker's persistent maps (./pmap.ts): find or
 * create channels, relink and merge calls, and the stage effects (requested,
 * accepted, ended, call_ended). Used by the per-event handlers (./handlers.ts) and by
 * resync (./reducer.ts); nothing here reads an event's own fields but the channel ids.
 */
import { field, type AmiMessage } from '../../protocol/ami/events.js';
import type { CallStage } from '../call/types.js';
import { known, type TrackerContext } from './classify.js';
import { newChannel } from './channel.js';
import { PMap } from './pmap.js';
import { projectCall } from './project.js';
import type { CallRec, ChanRec, TrackerEffect, TrackerState } from './types.js';

function newCall(linkedid: string): CallRec {
  return {
    linkedid,
    channels: new Map(),
    live: 0,
    nextSeq: 1,
    nextConv: 1,
    merged: [],
    aliases: [],
    dialStatus: '',
    queue: '',
    abandoned: false,
    recording: '',
    transfers: [],
    originate: '',
  };
}

/** When a call began: its earliest channel's start (Unix ms), 0 when unknown. */
export function callStart(call: CallRec): number {
  let start = 0;
  for (const ch of call.channels.values()) if (ch.start > 0 && (start === 0 || ch.start < start)) start = ch.start;
  return start;
}

export interface Found {
  key: string;
  ch: ChanRec;
}

/** One event's transaction over persistent maps. */
export class Tx {
  calls: PMap<CallRec>;
  index: PMap<string>;
  readonly effects: TrackerEffect[] = [];

  constructor(
    state: TrackerState,
    private readonly ctx: TrackerContext,
    readonly ts: number,
  ) {
    this.calls = state.calls;
    this.index = state.index;
  }

  state(): TrackerState {
    return { calls: this.calls, index: this.index };
  }

  callKey(id: string): string | undefined {
    return this.calls.get(id) ? id : this.index.get(id);
  }

  call(key: string): CallRec {
    return this.calls.get(key) as CallRec;
  }

  /** A known channel by uniqueid; applies a linkedid change carried by the event. */
  find(e: AmiMessage, p: string): Found | undefined {
    const id = field(e, `${p}uniqueid`);
    if (!id) return undefined;
    const key = this.index.get(id);
    if (key === undefined) return undefined;
    const linkedid = field(e, `${p}linkedid`);
    const finalKey = linkedid ? this.relink(key, linkedid) : key;
    const ch = this.call(finalKey).channels.get(id);
    return ch ? { key: finalKey, ch } : undefined;
  }

  /** find(), or create the channel from the event's snapshot under prefix `p`. */
  ensure(e: AmiMessage, p: string, create: boolean): Found | undefined {
    const found = this.find(e, p);
    if (found || !create) return found;
    const id = field(e, `${p}uniqueid`);
    const name = field(e, `${p}channel`);
    if (!id || !name) return undefined;
    const linkedid = field(e, `${p}linkedid`) || id;
    let key = this.callKey(linkedid);
    let call: CallRec;
    if (key === undefined) {
      key = linkedid;
      call = newCall(linkedid);
    } else call = this.call(key);
    const state = Number(field(e, `${p}channelstate`)) || 0;
    const ch = newChannel(this.ctx, id, name, call.nextSeq, {
      callerNum: known(field(e, `${p}calleridnum`)),
      callerName: known(field(e, `${p}calleridname`)),
      exten: field(e, `${p}exten`),
      context: field(e, `${p}context`),
      state,
      start: this.ts,
      up: state === 6 ? this.ts : 0,
    });
    const channels = new Map(call.channels);
    channels.set(id, ch);
    this.calls = this.calls.set(key, { ...call, channels, live: call.live + 1, nextSeq: call.nextSeq + 1 });
    this.index = this.index.set(id, key);
    return { key, ch };
  }

  putChan(key: string, ch: ChanRec, callPatch: Partial<CallRec> = {}): void {
    const call = this.call(key);
    const channels = new Map(call.channels);
    channels.set(ch.id, ch);
    this.calls = this.calls.set(key, { ...call, ...callPatch, channels });
  }

  patchCall(key: string, patch: Partial<CallRec>): void {
    this.calls = this.calls.set(key, { ...this.call(key), ...patch });
  }

  emit(stage: CallStage, key: string, conversationId?: string): void {
    const call = projectCall(this.call(key), this.ctx);
    this.effects.push(
      conversationId === undefined
        ? { type: 'stage', stage, linkedid: key, call }
        : { type: 'stage', stage, linkedid: key, conversationId, call },
    );
  }

  // --- conversations --------------------------------------------------------

  request(f: Found): Found {
    if (f.ch.kind === 'local' || f.ch.requested) return f;
    const call = this.call(f.key);
    const ch: ChanRec = { ...f.ch, requested: this.ts, convSeq: call.nextConv };
    this.putChan(f.key, ch, { nextConv: call.nextConv + 1 });
    this.emit('conversation_requested', f.key, ch.id);
    return { key: f.key, ch };
  }

  accept(f: Found): void {
    if (f.ch.kind === 'local' || f.ch.accepted || !f.ch.alive) return;
    const r = this.request(f);
    const ch: ChanRec = { ...r.ch, accepted: this.ts, up: r.ch.up || this.ts };
    this.putChan(r.key, ch);
    this.emit('conversation_accepted', r.key, ch.id);
  }

  hangup(f: Found, cause: number, causeTxt: string): void {
    if (!f.ch.alive) return;
    const call = this.call(f.key);
    const conv = f.ch.convSeq > 0 && !f.ch.ended;
    const ch: ChanRec = { ...f.ch, alive: false, end: this.ts, cause, causeTxt, ended: f.ch.ended || conv };
    this.putChan(f.key, ch, { live: call.live - 1 });
    if (conv) this.emit('conversation_ended', f.key, ch.id);
    if (this.call(f.key).live <= 0) this.endCall(f.key);
  }

  endCall(key: string): void {
    this.emit('call_ended', key);
    const call = this.call(key);
    for (const id of call.channels.keys()) this.index = this.index.delete(id);
    for (const alias of call.aliases) this.index = this.index.delete(alias);
    this.calls = this.calls.delete(key);
  }

  // --- linkedid changes --------------------------------------------------------

  /** The channel in call `key` now carries `linkedid`: alias or merge. Returns the channel's call key. */
  relink(key: string, linkedid: string): string {
    if (linkedid === key) return key;
    const target = this.callKey(linkedid);
    if (target === key) return key;
    if (target === undefined) {
      // A linkedid we never saw (its first channel predates us): remember it as an alias.
      const call = this.call(key);
      this.index = this.index.set(linkedid, key);
      this.patchCall(key, { aliases: [...call.aliases, linkedid] });
      return key;
    }
    return this.merge(key, target);
  }

  /** Move every channel of call `from` into call `into`. */
  merge(from: string, into: string): string {
    const a = this.call(into);
    const b = this.call(from);
    const channels = new Map(a.channels);
    const seqOff = a.nextSeq - 1;
    const convOff = a.nextConv - 1;
    for (const ch of b.channels.values()) {
      channels.set(ch.id, { ...ch, seq: ch.seq + seqOff, convSeq: ch.convSeq ? ch.convSeq + convOff : 0 });
      this.index = this.index.set(ch.id, into);
    }
    const aliases = [...a.aliases, ...b.aliases];
    for (const alias of b.aliases) this.index = this.index.set(alias, into);
    if (!b.channels.has(from)) aliases.push(from);
    this.index = this.index.set(from, into);
    this.calls = this.calls.delete(from).set(into, {
      ...a,
      channels,
      live: a.live + b.live,
      nextSeq: a.nextSeq + b.nextSeq - 1,
      nextConv: a.nextConv + b.nextConv - 1,
      merged: [...a.merged, from, ...b.merged],
      aliases,
      dialStatus: b.dialStatus || a.dialStatus,
      queue: a.queue || b.queue,
      abandoned: a.abandoned || b.abandoned,
      recording: a.recording || b.recording,
      transfers: [...a.transfers, ...b.transfers],
      originate: a.originate || b.originate,
    });
    this.effects.push({ type: 'merged', from, into });
    return into;
  }
}
