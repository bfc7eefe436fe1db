import { parseChannel, type TrackerContext } from './classify.js';
import type { ChanRec } from './types.js';

/**
 * A channel record as it starts: classified from its name, nothing dialled,
 * answered or ended yet. `fields` sets what the caller already knows (the
 * reducer: caller id, context, times; re-processing: the CDR's view).
 */
export function newChannel(ctx: TrackerContext, id: string, name: string, seq: number, fields: Partial<ChanRec> = {}): ChanRec {
  const p = parseChannel(name, ctx.classifier);
  return {
    id,
    name,
    kind: p.kind,
    endpoint: p.endpoint,
    ext: p.ext,
    half: p.half,
    seq,
    callerNum: '',
    callerName: '',
    exten: '',
    context: '',
    state: 0,
    dialer: '',
    dialString: '',
    dialExten: '',
    localPeer: '',
    start: 0,
    up: 0,
    end: 0,
    alive: true,
    requested: 0,
    accepted: 0,
    ended: false,
    convSeq: 0,
    dialStatus: '',
    cause: 0,
    causeTxt: '',
    bridge: '',
    transfer: '',
    vars: {},
    ...fields,
  };
}
