/**
 * The call tracker: a pure reducer `(state, event, ctx) → {state, effects}`.
 * No clocks (event `Timestamp`, else `ctx.now`), no I/O; the input state is
 * never modified. See ../../README section "Call tracking" for the rules; in short:
 *
 *  - a call is everything sharing one linkedid; when an event shows a known
 *    channel with another linkedid (attended transfer, pickup: "a channel
 *    entering a basic bridge takes the oldest linkedid") or an AttendedTransfer
 *    succeeds, the two calls are merged and a `merged` effect is emitted;
 *  - a conversation is a real (non-Local) channel where a phone rings: the
 *    destination of a DialBegin, or a channel going to state 5 Ringing;
 *  - stages: requested (rings), accepted (DialEnd ANSWER / Up / bridged),
 *    ended (its Hangup), call_ended (the call's last live channel hangs up —
 *    exactly once; the call's state is then deleted).
 */
import { eventTimeMs, field, type AmiEvent, type AmiMessage } from '../../protocol/ami/events.js';
import type { CallStage } from '../call/types.js';
import { known, withNow, type TrackerContext } from './classify.js';
import { newChannel } from './channel.js';
import { olderLinkedid } from './linkedid.js';
import { PMap } from './pmap.js';
import { KOMMO_VARS, projectCall } from './project.js';
import type { CallRec, ChanRec, ReduceResult, TrackerEffect, TrackerState, TransferRec } from './types.js';

export function initialState(): TrackerState {
  return { calls: PMap.empty<CallRec>(), index: PMap.empty<string>() };
}

/** Events the reducer reads; everything else returns the same state at once. */
const HANDLED = new Set([
  'newchannel',
  'newstate',
  'newcallerid',
  'dialbegin',
  'dialstate',
  'dialend',
  'bridgeenter',
  'hangup',
  'varset',
  'blindtransfer',
  'attendedtransfer',
  'queuecallerjoin',
  'queuecallerabandon',
  'localbridge',
  'rename',
  'originateresponse',
]);

/**
 * Events that may introduce a channel. Only these: a channel met first in any
 * other event began before we were connected, and `resync` (CoreShowChannels)
 * is what brings those in — late events of a call we already closed never
 * resurrect it.
 */
const CREATES = new Set(['newchannel', 'dialbegin']);

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

/**
 * The variable a VarSet names. The package (and our parser, to match it)
 * turns every `Variable:` line into an object, so VarSet's `Variable: NAME`
 * arrives as `{NAME: ''}`; a plain string is accepted too.
 */
export function varsetName(e: AmiMessage): string {
  const v = e['variable'];
  if (typeof v === 'string') return v;
  if (v) for (const k in v) return k;
  return '';
}

export { olderLinkedid } from './linkedid.js';

/** When a call began: its earliest channel's start (Unix ms), 0 when unknown. */
function callStart(call: CallRec): number {
  let start = 0;
  for (const ch of call.channels.values()) if (ch.start > 0 && (start === 0 || ch.start < start)) start = ch.start;
  return start;
}

interface Found {
  key: string;
  ch: ChanRec;
}

/** One event's transaction over persistent maps. */
class Tx {
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

function apply(tx: Tx, e: AmiEvent): void {
  const ev = e.event;
  const create = CREATES.has(ev);
  switch (ev) {
    case 'newchannel':
    case 'newstate': {
      const f = tx.ensure(e, '', create);
      if (!f) return;
      const state = Number(field(e, 'channelstate')) || 0;
      let cur: Found = f;
      if (state !== f.ch.state) {
        const ch = { ...f.ch, state, up: f.ch.up || (state === 6 ? tx.ts : 0) };
        tx.putChan(f.key, ch);
        cur = { key: f.key, ch };
      }
      if (state === 5) tx.request(cur);
      else if (state === 6 && cur.ch.requested) tx.accept(cur);
      return;
    }
    case 'newcallerid': {
      const f = tx.find(e, '');
      if (!f) return;
      const num = known(field(e, 'calleridnum')) || f.ch.callerNum;
      const name = known(field(e, 'calleridname')) || f.ch.callerName;
      if (num !== f.ch.callerNum || name !== f.ch.callerName) tx.putChan(f.key, { ...f.ch, callerNum: num, callerName: name });
      return;
    }
    case 'dialbegin': {
      const caller = tx.ensure(e, '', true);
      const dest = tx.ensure(e, 'dest', true);
      if (!dest) return;
      const ch: ChanRec = {
        ...dest.ch,
        dialer: caller?.ch.id ?? dest.ch.dialer,
        dialString: field(e, 'dialstring'),
        dialExten: field(e, 'exten'),
      };
      tx.putChan(dest.key, ch);
      tx.request({ key: dest.key, ch });
      return;
    }
    case 'dialstate': {
      const dest = tx.find(e, 'dest');
      if (dest && field(e, 'dialstatus').toUpperCase() === 'RINGING') tx.request(dest);
      return;
    }
    case 'dialend': {
      tx.find(e, '');
      const dest = tx.find(e, 'dest');
      if (!dest) return;
      const status = field(e, 'dialstatus').toUpperCase();
      const ch = { ...dest.ch, dialStatus: status };
      tx.putChan(dest.key, ch);
      if (status === 'ANSWER') tx.accept({ key: dest.key, ch });
      return;
    }
    case 'bridgeenter': {
      const f = tx.find(e, '');
      if (!f) return;
      const ch = { ...f.ch, bridge: field(e, 'bridgeuniqueid') };
      tx.putChan(f.key, ch);
      if (ch.requested) tx.accept({ key: f.key, ch });
      return;
    }
    case 'hangup': {
      const f = tx.find(e, '');
      if (f) tx.hangup(f, Number(field(e, 'cause')) || 0, field(e, 'cause-txt'));
      return;
    }
    case 'varset': {
      // `__NAME` / `_NAME` (inherited variables) are the same variable
      const variable = varsetName(e).replace(/^_{1,2}/, '');
      const kept = KOMMO_VARS.has(variable);
      if (!kept && variable !== 'DIALSTATUS' && variable !== 'MIXMONITOR_FILENAME') return;
      const value = field(e, 'value');
      if (!value) return;
      const f = tx.find(e, '');
      if (!f) return;
      if (kept) {
        if (f.ch.vars[variable] !== value) tx.putChan(f.key, { ...f.ch, vars: { ...f.ch.vars, [variable]: value } });
        return;
      }
      tx.patchCall(f.key, variable === 'DIALSTATUS' ? { dialStatus: value.toUpperCase() } : { recording: value });
      return;
    }
    case 'blindtransfer': {
      const f = tx.find(e, 'transferer') ?? tx.find(e, 'transferee');
      if (!f) return;
      const rec: TransferRec = {
        type: 'blind',
        at: tx.ts,
        result: field(e, 'result'),
        transferer: field(e, 'transfereruniqueid'),
        target: field(e, 'extension'),
      };
      const transferer = tx.call(f.key).channels.get(rec.transferer);
      if (transferer) tx.putChan(f.key, { ...transferer, transfer: 'blind' });
      tx.patchCall(f.key, { transfers: [...tx.call(f.key).transfers, rec] });
      return;
    }
    case 'attendedtransfer': {
      const a = tx.find(e, 'origtransferer');
      const b = tx.find(e, 'secondtransferer');
      if (!a) return;
      let key = a.key;
      if (b && b.key !== a.key && field(e, 'result').toLowerCase() === 'success') {
        const older = olderLinkedid(a.key, b.key, callStart(tx.call(a.key)), callStart(tx.call(b.key)));
        key = tx.merge(older === a.key ? b.key : a.key, older);
      }
      const rec: TransferRec = {
        type: 'attended',
        at: tx.ts,
        result: field(e, 'result'),
        transferer: a.ch.id,
        target: field(e, 'transfertargetuniqueid') || field(e, 'secondtransfereruniqueid'),
      };
      const transferer = tx.call(key).channels.get(a.ch.id);
      if (transferer) tx.putChan(key, { ...transferer, transfer: 'attended' });
      tx.patchCall(key, { transfers: [...tx.call(key).transfers, rec] });
      return;
    }
    case 'queuecallerjoin':
    case 'queuecallerabandon': {
      const f = tx.find(e, '');
      if (!f) return;
      tx.patchCall(f.key, ev === 'queuecallerjoin' ? { queue: field(e, 'queue') } : { abandoned: true });
      return;
    }
    case 'localbridge': {
      const one = tx.find(e, 'localone');
      const two = tx.find(e, 'localtwo');
      if (!one || !two || one.key !== two.key) return;
      tx.putChan(one.key, { ...one.ch, localPeer: two.ch.id });
      tx.putChan(two.key, { ...two.ch, localPeer: one.ch.id });
      return;
    }
    case 'rename': {
      const f = tx.find(e, '');
      const name = field(e, 'newname');
      if (f && name) tx.putChan(f.key, { ...f.ch, name });
      return;
    }
    case 'originateresponse': {
      const id = field(e, 'uniqueid');
      const key = id ? tx.callKey(id) : undefined;
      if (key) tx.patchCall(key, { originate: `${field(e, 'response')}:${field(e, 'reason')}` });
      return;
    }
    default:
      return;
  }
}

/** Apply one normalised AMI event. The input state is not modified. */
export function reduce(state: TrackerState, event: AmiEvent, ctx: TrackerContext): ReduceResult {
  if (!HANDLED.has(event.event)) return { state, effects: [] };
  const tx = new Tx(state, ctx, eventTimeMs(event) ?? ctx.now);
  apply(tx, event);
  if (tx.calls === state.calls && tx.index === state.index) return { state, effects: tx.effects };
  return { state: tx.state(), effects: tx.effects };
}

/**
 * After a (re)connect: `channels` are the live channels (`CoreShowChannel`
 * items). Channels we did not know are added (a phone up or ringing becomes a
 * conversation); channels we track that are gone hung up while we were away
 * (cause 0), which ends their calls. Times use `ctx.now`.
 */
export function resync(state: TrackerState, channels: readonly AmiEvent[], ctx: TrackerContext): ReduceResult {
  const tx = new Tx(state, ctx, ctx.now);
  const live = new Set<string>();
  for (const c of channels) {
    const id = field(c, 'uniqueid');
    if (!id) continue;
    live.add(id);
    const known = tx.find(c, '');
    if (known) continue;
    const dur = /^(\d+):(\d\d):(\d\d)$/.exec(field(c, 'duration'));
    const started = dur ? ctx.now - (Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3])) * 1000 : ctx.now;
    const sub = new Tx(tx.state(), withNow(ctx, started), started);
    const f = sub.ensure(c, '', true);
    tx.calls = sub.calls;
    tx.index = sub.index;
    if (!f) continue;
    const isDialled = f.ch.id !== (field(c, 'linkedid') || f.ch.id) && f.ch.kind !== 'local';
    if (isDialled && (f.ch.state === 5 || f.ch.state === 6)) {
      const r = tx.request(f);
      if (f.ch.state === 6) tx.accept(r);
    }
  }
  for (const call of [...tx.calls.values()]) {
    for (const ch of call.channels.values()) {
      if (!ch.alive || live.has(ch.id)) continue;
      const key = tx.index.get(ch.id);
      const cur = key === undefined ? undefined : tx.call(key).channels.get(ch.id);
      if (key !== undefined && cur) tx.hangup({ key, ch: cur }, 0, 'gone while AMI was disconnected');
    }
  }
  return { state: tx.state(), effects: tx.effects };
}

/** How many calls are being tracked (for metrics and the benchmark). */
export function trackedCalls(state: TrackerState): number {
  return state.calls.size;
}
