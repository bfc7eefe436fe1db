/**
 * The tracker's state (plain immutable data) and its effects.
 */
import type { CallFull, CallStage } from '../call/types.js';
import type { EndpointKind } from './classify.js';
import type { PMap } from './pmap.js';

/** One Asterisk channel of a call. Times are Unix ms, 0 = not happened. */
export interface ChanRec {
  readonly id: string;
  readonly name: string;
  readonly kind: EndpointKind;
  readonly endpoint: string;
  /** Extension number of a phone (or of the phone a Local channel proxies), else ''. */
  readonly ext: string;
  readonly half: 0 | 1 | 2;
  /** Order of appearance in the call. */
  readonly seq: number;
  readonly callerNum: string;
  readonly callerName: string;
  /** Dialplan extension and context when the channel appeared (the DID / dialled number of an originating channel). */
  readonly exten: string;
  readonly context: string;
  readonly state: number;
  /** The channel that dialled this one (DialBegin), its dial string, and the caller's exten at that moment. */
  readonly dialer: string;
  readonly dialString: string;
  readonly dialExten: string;
  /** The other half of a Local pair. */
  readonly localPeer: string;
  readonly start: number;
  readonly up: number;
  readonly end: number;
  readonly alive: boolean;
  /** Conversation lifecycle (a phone rang on this channel). */
  readonly requested: number;
  readonly accepted: number;
  readonly ended: boolean;
  /** Order in which conversations were requested (0 = not a conversation). */
  readonly convSeq: number;
  readonly dialStatus: string;
  readonly cause: number;
  readonly causeTxt: string;
  readonly bridge: string;
  readonly transfer: string;
  /**
   * The product's channel variables seen in `VarSet` (KOMMO_VARS: the click-to-call
   * ones the originate service sets), name → last non-empty value.
   */
  readonly vars: Readonly<Record<string, string>>;
}

export interface TransferRec {
  readonly type: 'blind' | 'attended';
  readonly at: number;
  readonly result: string;
  readonly transferer: string;
  readonly target: string;
}

export interface CallRec {
  readonly linkedid: string;
  /** uniqueid → channel, in order of appearance. Small; copied on write. */
  readonly channels: ReadonlyMap<string, ChanRec>;
  readonly live: number;
  readonly nextSeq: number;
  readonly nextConv: number;
  /** linkedids merged into this call (attended transfer, pickup …). */
  readonly merged: readonly string[];
  /** Keys this call added to the index besides its channels' uniqueids. */
  readonly aliases: readonly string[];
  /** Last non-empty DIALSTATUS seen on any channel of the call. */
  readonly dialStatus: string;
  readonly queue: string;
  readonly abandoned: boolean;
  readonly recording: string;
  readonly transfers: readonly TransferRec[];
  readonly originate: string;
}

export interface TrackerState {
  /** Calls in progress by linkedid. */
  readonly calls: PMap<CallRec>;
  /** uniqueid (and merged linkedid) → key of its call in `calls`. */
  readonly index: PMap<string>;
}

export interface StageEffect {
  type: 'stage';
  stage: CallStage;
  linkedid: string;
  /** The conversation's uniqueid (absent for call_ended). */
  conversationId?: string;
  call: CallFull;
}

/** Two calls became one (linkedid change): consumers keyed by linkedid follow `into`. */
export interface MergeEffect {
  type: 'merged';
  from: string;
  into: string;
}

export type TrackerEffect = StageEffect | MergeEffect;

export interface ReduceResult {
  state: TrackerState;
  effects: TrackerEffect[];
}
