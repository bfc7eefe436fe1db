/**
 * What each AMI event does to the tracked calls: one small handler per event, in a
 * table keyed by the event's name. An event is decoded once, at the edge: its name
 * picks the handler, which sees it as the typed event of lib/protocol/ami/events.ts
 * (`AmiEventMap`), so every field it reads is checked by the compiler; `str()` gives ''
 * for a field Asterisk left out. Events without a handler leave the state as it is.
 */
import { field, type AmiEventMap, type AmiEventName, type AmiEventOf, type AmiMessage } from '../../protocol/ami/events.js';
import { known } from './classify.js';
import { olderLinkedid } from './linkedid.js';
import { KOMMO_VARS } from './project.js';
import { callStart, type Found, type Tx } from './tx.js';
import type { ChanRec, TransferRec } from './types.js';

/** A string field of a typed event; '' when absent. */
function str<K extends AmiEventName>(e: AmiEventOf<K>, key: keyof AmiEventMap[K] & string): string {
  return field(e, key);
}

/**
 * The variable a VarSet names. The parser turns every `Variable:` line into an object,
 * so VarSet's `Variable: NAME` arrives as `{NAME: ''}`; a plain string is accepted too.
 */
export function varsetName(e: AmiMessage): string {
  const v = e['variable'];
  if (typeof v === 'string') return v;
  if (v) for (const k in v) return k;
  return '';
}

/**
 * newchannel and dialbegin are the only events that may introduce a channel: a channel
 * met first in any other event began before we were connected, and `resync`
 * (CoreShowChannels) is what brings those in — late events of a call we already closed
 * never resurrect it.
 */
function channelState(tx: Tx, e: AmiEventOf<'newchannel'> | AmiEventOf<'newstate'>, create: boolean): void {
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
}

/**
 * A phone of another call takes this call over — a directed pickup (`Pickup()` answers the
 * dialler with the picker's channel), a parked call taken from its slot: its call joins
 * `host`'s now (the older linkedid wins, as Asterisk will make it), instead of when a later
 * event happens to carry the shared linkedid, and the phone's leg becomes a conversation
 * that was answered now.
 */
function takeOver(tx: Tx, host: Found, joiner: Found): void {
  let key = joiner.key;
  if (host.key !== joiner.key) {
    const older = olderLinkedid(host.key, joiner.key, callStart(tx.call(host.key)), callStart(tx.call(joiner.key)));
    key = tx.merge(older === host.key ? joiner.key : host.key, older);
  }
  const ch = tx.call(key).channels.get(joiner.ch.id);
  if (ch && ch.kind === 'extension') tx.accept({ key, ch });
}

type Handlers = { [K in AmiEventName]?: (tx: Tx, e: AmiEventOf<K>) => void };

export const HANDLERS: Handlers = {
  newchannel: (tx, e) => channelState(tx, e, true),
  newstate: (tx, e) => channelState(tx, e, false),

  newcallerid(tx, e) {
    const f = tx.find(e, '');
    if (!f) return;
    const num = known(str(e, 'calleridnum')) || f.ch.callerNum;
    const name = known(str(e, 'calleridname')) || f.ch.callerName;
    if (num !== f.ch.callerNum || name !== f.ch.callerName) tx.putChan(f.key, { ...f.ch, callerNum: num, callerName: name });
  },

  dialbegin(tx, e) {
    const caller = tx.ensure(e, '', true);
    const dest = tx.ensure(e, 'dest', true);
    if (!dest) return;
    const ch: ChanRec = { ...dest.ch, dialer: caller?.ch.id ?? dest.ch.dialer, dialString: str(e, 'dialstring'), dialExten: str(e, 'exten') };
    tx.putChan(dest.key, ch);
    tx.request({ key: dest.key, ch });
  },

  dialstate(tx, e) {
    const dest = tx.find(e, 'dest');
    if (dest && str(e, 'dialstatus').toUpperCase() === 'RINGING') tx.request(dest);
  },

  dialend(tx, e) {
    const caller = tx.find(e, '');
    const dest = tx.find(e, 'dest');
    if (!dest) return;
    const status = str(e, 'dialstatus').toUpperCase();
    const ch = { ...dest.ch, dialStatus: status };
    tx.putChan(dest.key, ch);
    if (status !== 'ANSWER') return;
    // answered by a channel of another call: a pickup (the picker replaced the dialled phone)
    if (caller && caller.key !== dest.key) takeOver(tx, caller, { key: dest.key, ch });
    else tx.accept({ key: dest.key, ch });
  },

  bridgeenter(tx, e) {
    const f = tx.find(e, '');
    if (!f) return;
    const ch = { ...f.ch, bridge: str(e, 'bridgeuniqueid') };
    tx.putChan(f.key, ch);
    if (ch.requested) tx.accept({ key: f.key, ch });
  },

  hangup(tx, e) {
    const f = tx.find(e, '');
    if (f) tx.hangup(f, Number(str(e, 'cause')) || 0, str(e, 'cause-txt'));
  },

  varset(tx, e) {
    // `__NAME` / `_NAME` (inherited variables) are the same variable
    const variable = varsetName(e).replace(/^_{1,2}/, '');
    const kept = KOMMO_VARS.has(variable);
    if (!kept && variable !== 'DIALSTATUS' && variable !== 'MIXMONITOR_FILENAME') return;
    const value = str(e, 'value');
    if (!value) return;
    const f = tx.find(e, '');
    if (!f) return;
    if (kept) {
      if (f.ch.vars[variable] !== value) tx.putChan(f.key, { ...f.ch, vars: { ...f.ch.vars, [variable]: value } });
      return;
    }
    tx.patchCall(f.key, variable === 'DIALSTATUS' ? { dialStatus: value.toUpperCase() } : { recording: value });
  },

  blindtransfer(tx, e) {
    const f = tx.find(e, 'transferer') ?? tx.find(e, 'transferee');
    if (!f) return;
    const rec: TransferRec = { type: 'blind', at: tx.ts, result: str(e, 'result'), transferer: str(e, 'transfereruniqueid'), target: str(e, 'extension') };
    const transferer = tx.call(f.key).channels.get(rec.transferer);
    if (transferer) tx.putChan(f.key, { ...transferer, transfer: 'blind' });
    tx.patchCall(f.key, { transfers: [...tx.call(f.key).transfers, rec] });
  },

  attendedtransfer(tx, e) {
    const a = tx.find(e, 'origtransferer');
    const b = tx.find(e, 'secondtransferer');
    if (!a) return;
    let key = a.key;
    if (b && b.key !== a.key && str(e, 'result').toLowerCase() === 'success') {
      const older = olderLinkedid(a.key, b.key, callStart(tx.call(a.key)), callStart(tx.call(b.key)));
      key = tx.merge(older === a.key ? b.key : a.key, older);
    }
    const rec: TransferRec = {
      type: 'attended',
      at: tx.ts,
      result: str(e, 'result'),
      transferer: a.ch.id,
      target: str(e, 'transfertargetuniqueid') || str(e, 'secondtransfereruniqueid'),
    };
    const transferer = tx.call(key).channels.get(a.ch.id);
    if (transferer) tx.putChan(key, { ...transferer, transfer: 'attended' });
    tx.patchCall(key, { transfers: [...tx.call(key).transfers, rec] });
  },

  queuecallerjoin(tx, e) {
    const f = tx.find(e, '');
    if (f) tx.patchCall(f.key, { queue: str(e, 'queue') });
  },

  queuecallerabandon(tx, e) {
    const f = tx.find(e, '');
    if (f) tx.patchCall(f.key, { abandoned: true });
  },

  unparkedcall(tx, e) {
    const parkee = tx.find(e, 'parkee');
    const retriever = tx.find(e, 'retriever');
    if (parkee && retriever) takeOver(tx, parkee, retriever);
  },

  localbridge(tx, e) {
    const one = tx.find(e, 'localone');
    const two = tx.find(e, 'localtwo');
    if (!one || !two || one.key !== two.key) return;
    tx.putChan(one.key, { ...one.ch, localPeer: two.ch.id });
    tx.putChan(two.key, { ...two.ch, localPeer: one.ch.id });
  },

  rename(tx, e) {
    const f = tx.find(e, '');
    const name = str(e, 'newname');
    if (f && name) tx.putChan(f.key, { ...f.ch, name });
  },

  originateresponse(tx, e) {
    const id = str(e, 'uniqueid');
    const key = id ? tx.callKey(id) : undefined;
    if (key) tx.patchCall(key, { originate: `${str(e, 'response')}:${str(e, 'reason')}` });
  },
};

/** The handler of an event, or undefined when the tracker ignores it. */
export function handlerFor(name: string): ((tx: Tx, e: AmiMessage) => void) | undefined {
  return (HANDLERS as Record<string, ((tx: Tx, e: AmiMessage) => void) | undefined>)[name];
}
