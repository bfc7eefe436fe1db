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
import { eventTimeMs, field, type AmiEvent } from '../../protocol/ami/events.js';
import { withNow, type TrackerContext } from './classify.js';
import { handlerFor } from './handlers.js';
import { PMap } from './pmap.js';
import { Tx } from './tx.js';
import type { CallRec, ReduceResult, TrackerState } from './types.js';

export { varsetName } from './handlers.js';
export { olderLinkedid } from './linkedid.js';

export function initialState(): TrackerState {
  return { calls: PMap.empty<CallRec>(), index: PMap.empty<string>() };
}

/**
 * Apply one normalised AMI event through its handler (./handlers.ts); an event
 * without one returns the same state at once. The input state is not modified.
 */
export function reduce(state: TrackerState, event: AmiEvent, ctx: TrackerContext): ReduceResult {
  const handler = handlerFor(event.event);
  if (!handler) return { state, effects: [] };
  const tx = new Tx(state, ctx, eventTimeMs(event) ?? ctx.now);
  handler(tx, event);
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
