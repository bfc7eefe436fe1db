/**
 * The AMI bridge (README, "Which calls are registered, and how"): AMI events → the call tracker's pure reducer →
 * stage effects → registration.
 *
 * - The tracker state lives here; every event is reduced at once, in arrival order,
 *   with its own `Timestamp` (else the bridge's clock: `timestampevents` may be off).
 * - Each call (linkedid) has its own promise chain, so its stages are handled in order
 *   while other calls go on; `merged` effects join two calls' chains and what was
 *   learnt about them.
 * - Hook 1 (`need_registration`) is asked through the registrar at every conversation
 *   stage; a call refused once is remembered and never submitted. At `call_ended` the
 *   call goes to `registrar.submit()` first — a durable journal write — and hook 1 is
 *   asked for the `call_ended` stage inside the registration pipeline (journalled, so
 *   exactly once even across restarts), as are the recording link and Kommo.
 * - Incoming-call popups (optional `notifier`, lib/domain/notify): a ring that hook 1 lets
 *   through (the same verdict, asked once) is handed to the notifier, which works on its
 *   own and never holds up a call's chain; an answer, an end of a conversation, the end
 *   or merge of a call reach the notifier at once (not through the chain), so that a
 *   popup still under way is abandoned as soon as its phone stops ringing.
 * - The call's `MIXMONITOR_FILENAME` values (VarSet) are collected per call and stored
 *   with it (`channel.extra.recording_candidates`), for the pipeline's `record_link` step.
 * - After every (re)connect the AMI client's `resync` (CoreShowChannels) is reduced:
 *   calls that ended while the link was down end (and are registered) now.
 * - `close()` drains: no more events are taken, the calls' chains finish (every ended
 *   call reaches the journal), then the registrar stops at its next step boundary.
 */
import { delay, type BackoffPolicy } from '../../platform/backoff.js';
import type { Logger } from 'pino';
import { field, type AmiEvent } from '../../protocol/ami/events.js';
import type { AmiClientEvents } from '../../protocol/ami/client.js';
import type { CallFull, CallStage } from '../call/types.js';
import type { DeepReadonly, PbxConfig } from '../../platform/config/types.js';
import type { FilterVerdict, RecordingCandidateRef } from '../registration/index.js';
import { createTrackerContext, withNow, type TrackerContext } from '../tracker/classify.js';
import { initialState, reduce, resync, trackedCalls, varsetName } from '../tracker/reducer.js';
import { projectCall } from '../tracker/project.js';
import type { StageEffect, TrackerEffect, TrackerState } from '../tracker/types.js';

/** What the bridge needs of the AMI client (lib/protocol/ami's AmiClient fits). */
export interface BridgeAmi {
  /** With `retry`, the AMI client keeps connecting on its own backoff until it logs in. */
  connect(options?: { retry?: boolean }): Promise<void>;
  isConnected(): boolean;
  on<K extends keyof AmiClientEvents>(event: K, listener: (...args: AmiClientEvents[K]) => void): unknown;
  off<K extends keyof AmiClientEvents>(event: K, listener: (...args: AmiClientEvents[K]) => void): unknown;
}

/** What the bridge needs of the registrar (lib/domain/registration's Registrar fits). */
export interface BridgeRegistrar {
  submit(call: CallFull): Promise<void>;
  shouldRegister(stage: CallStage, call: CallFull): Promise<boolean>;
  /** Optional: the verdict with its reason (lets an early "internal" verdict wait for the end of the call). */
  verdict?(stage: CallStage, call: CallFull): Promise<FilterVerdict>;
  close(): Promise<void>;
}

/** What the bridge needs of the popup notifier (lib/domain/notify's Notifier fits). */
export interface BridgeNotifier {
  ringing(effect: StageEffect, at: number, log?: Logger): void;
  stopped(linkedid: string, conversationId: string): void;
  callEnded(linkedid: string): void;
  merged(from: string, into: string): void;
}

export interface BridgeOptions {
  config: DeepReadonly<{ pbx: Pick<PbxConfig, 'extensions' | 'trunks' | 'extension_pattern'> }>;
  ami: BridgeAmi;
  registrar: BridgeRegistrar;
  /** Incoming-call popups; none → no popups. */
  notifier?: BridgeNotifier;
  logger: Logger;
  /**
   * The Asterisk server's name (`ami[].name`): set as `call_full.pbx` on every call
   * and bound to every log line. One bridge (and tracker) per server, so linkedids
   * of different servers never meet.
   */
  pbx?: string;
  /** Clock (Unix ms) for events without a Timestamp and for resyncs. */
  now?: () => number;
  /** Tracker context override (tests: UTC formatting). */
  trackerContext?: TrackerContext;
  /** How long start() waits for the first AMI login before going on without it (default 1 s). */
  firstConnectWaitMs?: number;
  /** Attempts of a failed journal write of an ended call (default 5, 0.5 s growing to 5 s apart). */
  submitAttempts?: number;
}

export interface BridgeStats {
  ami_connected: boolean;
  events_total: number;
  /** Calls the tracker follows now. */
  calls_in_progress: number;
  stages: Record<CallStage, number>;
  /** Ended calls written to the journal. */
  submitted_total: number;
  /** Ended calls not submitted because hook 1 or the lists said no at a conversation stage. */
  rejected_total: number;
  /** Ended calls the journal could not take (logged as BRIDGE_SUBMIT_FAILED). */
  submit_failed_total: number;
  resyncs_total: number;
  merges_total: number;
  /** Unix ms of the last AMI event, or null. */
  last_event_at: number | null;
  /** Calls whose stages are still being handled (hook 1, journal write). */
  pending_calls: number;
}

export interface Bridge {
  /** Listen to AMI and connect (retrying in the background until connected). Idempotent. */
  start(): Promise<void>;
  /** Stop taking events, let every ended call reach the journal, then close the registrar. Idempotent. */
  close(): Promise<void>;
  stats(): BridgeStats;
  /** Read-only: the calls the tracker follows now, projected as call_full (the admin panel's live view). */
  liveCalls(): CallFull[];
}

/** What the bridge remembers per call besides the tracker state. */
interface CallSlot {
  linkedid: string;
  log: Logger;
  /** Stages of this call handled in order. */
  chain: Promise<void>;
  /** Hook 1 or the lists said no at some stage. */
  rejected: boolean;
  rejectedAt?: CallStage;
  recordings: RecordingCandidateRef[];
}

/** Resolves after `ms`, or at once when `signal` aborts. */
/** Between attempts to journal an ended call: 0.5 s, 1 s, 2 s … (equal jitter), at most 5 s. */
const SUBMIT_RETRY: BackoffPolicy = { baseMs: 500, maxMs: 5000, jitter: 'equal' };

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The call with the bridge's recording candidates in `channel.extra.recording_candidates`. */
export function withRecordingCandidates(call: CallFull, candidates: readonly RecordingCandidateRef[]): CallFull {
  if (candidates.length === 0) return call;
  const seen = new Set<string>();
  const list = candidates.filter((c) => (seen.has(c.path) ? false : (seen.add(c.path), true)));
  return { ...call, channel: { ...call.channel, extra: { ...call.channel.extra, recording_candidates: list.map((c) => ({ ...c })) } } };
}

export function createBridge(opts: BridgeOptions): Bridge {
  const { ami, registrar, notifier } = opts;
  const pbx = opts.pbx;
  const logger = opts.logger.child(pbx === undefined ? { component: 'bridge' } : { component: 'bridge', pbx });
  /** The notifier may serve several servers' bridges: their linkedids are kept apart as `<pbx>.<linkedid>`. */
  const popupKey = (linkedid: string): string => (pbx === undefined ? linkedid : `${pbx}.${linkedid}`);
  const now = opts.now ?? Date.now;
  const baseCtx = opts.trackerContext ?? createTrackerContext(opts.config.pbx as PbxConfig);
  const submitAttempts = Math.max(1, opts.submitAttempts ?? 5);

  let state: TrackerState = initialState();
  const slots = new Map<string, CallSlot>();
  /** Chains still running (for close()). */
  const running = new Set<Promise<void>>();
  const stats: BridgeStats = {
    ami_connected: false,
    events_total: 0,
    calls_in_progress: 0,
    stages: { conversation_requested: 0, conversation_accepted: 0, conversation_ended: 0, call_ended: 0 },
    submitted_total: 0,
    rejected_total: 0,
    submit_failed_total: 0,
    resyncs_total: 0,
    merges_total: 0,
    last_event_at: null,
    pending_calls: 0,
  };
  let started = false;
  let closing = false;
  let closed: Promise<void> | null = null;
  let connectLoop: Promise<void> | null = null;
  const stopping = new AbortController();

  function slotFor(linkedid: string): CallSlot {
    let slot = slots.get(linkedid);
    if (!slot) {
      slot = { linkedid, log: logger.child({ linkedid }), chain: Promise.resolve(), rejected: false, recordings: [] };
      slots.set(linkedid, slot);
    }
    return slot;
  }

  function enqueue(slot: CallSlot, work: () => Promise<void>): void {
    const p = slot.chain.then(work).catch((err: unknown) => {
      slot.log.error({ err }, 'bridge: error while handling a call stage');
    });
    slot.chain = p;
    running.add(p);
    void p.finally(() => running.delete(p));
  }

  async function verdictOf(stage: CallStage, call: CallFull): Promise<FilterVerdict> {
    try {
      if (registrar.verdict) return await registrar.verdict(stage, call);
      return (await registrar.shouldRegister(stage, call)) ? { register: true } : { register: false, reason: 'need_registration' };
    } catch {
      // shouldRegister never throws by contract; if it did, the built-in default is "register".
      return { register: true };
    }
  }

  /** The conversation's phone rings now (tracker state: alive, neither answered nor ended). */
  function stillRinging(conversationId: string | undefined): boolean {
    if (conversationId === undefined) return false;
    const key = state.index.get(conversationId);
    const ch = key === undefined ? undefined : state.calls.get(key)?.channels.get(conversationId);
    return ch !== undefined && ch.alive && ch.accepted === 0 && !ch.ended;
  }

  async function handleConversationStage(slot: CallSlot, e: StageEffect, at: number): Promise<void> {
    if (slot.rejected) return;
    const verdict = await verdictOf(e.stage, e.call);
    if (verdict.register) {
      // Hook 1 may have taken a while: a phone answered or gone meanwhile gets no popup.
      if (e.stage === 'conversation_requested' && notifier && stillRinging(e.conversationId)) notifier.ringing(pbx === undefined ? e : { ...e, linkedid: popupKey(e.linkedid) }, at, slot.log);
      return;
    }
    // A call's type can change while it goes on (an internal call transferred outside):
    // "internal" is decided once, at the end, by the pipeline.
    if (verdict.reason === 'internal') return;
    slot.rejected = true;
    slot.rejectedAt = e.stage;
    slot.log.info({ stage: e.stage, reason: verdict.reason }, 'call will not be registered');
  }

  async function handleCallEnded(slot: CallSlot, e: StageEffect): Promise<void> {
    if (slot.rejected) {
      stats.rejected_total++;
      slot.log.info({ stage: slot.rejectedAt }, 'call ended; not registered (refused at an earlier stage)');
      return;
    }
    const call = withRecordingCandidates(e.call, slot.recordings);
    for (let attempt = 1; ; attempt++) {
      try {
        await registrar.submit(call);
        stats.submitted_total++;
        slot.log.info({ result: call.result, type: call.channel.type, recordings: slot.recordings.length }, 'call ended; stored for registration');
        return;
      } catch (err) {
        if (attempt >= submitAttempts) {
          stats.submit_failed_total++;
          slot.log.error({ err, code: 'BRIDGE_SUBMIT_FAILED', call }, 'call ended but could not be stored; it is lost to registration (re-process it from Asterisk records)');
          return;
        }
        slot.log.warn({ err, attempt }, 'storing the ended call failed; retrying');
        await sleep(delay(attempt - 1, SUBMIT_RETRY, Math.random()), stopping.signal);
      }
    }
  }

  function applyEffects(effects: readonly TrackerEffect[]): void {
    for (const raw of effects) {
      const effect: TrackerEffect = pbx !== undefined && raw.type === 'stage' ? { ...raw, call: { ...raw.call, pbx } } : raw;
      if (effect.type === 'merged') {
        stats.merges_total++;
        notifier?.merged(popupKey(effect.from), popupKey(effect.into));
        const from = slots.get(effect.from);
        if (!from) continue;
        const into = slotFor(effect.into);
        slots.delete(effect.from);
        into.rejected ||= from.rejected;
        into.rejectedAt ??= from.rejectedAt;
        into.recordings = [...from.recordings, ...into.recordings];
        const both = Promise.all([from.chain, into.chain]).then(() => undefined);
        into.chain = both;
        into.log.info({ merged: effect.from }, 'calls merged');
        continue;
      }
      stats.stages[effect.stage]++;
      const slot = slotFor(effect.linkedid);
      if (effect.stage === 'call_ended') {
        notifier?.callEnded(popupKey(effect.linkedid));
        slots.delete(effect.linkedid);
        enqueue(slot, () => handleCallEnded(slot, effect));
      } else {
        if (effect.stage !== 'conversation_requested' && effect.conversationId) notifier?.stopped(popupKey(effect.linkedid), effect.conversationId);
        const at = now();
        enqueue(slot, () => handleConversationStage(slot, effect, at));
      }
    }
    stats.calls_in_progress = trackedCalls(state);
  }

  /** A MixMonitor file for the call its channel belongs to (after the event was reduced). */
  function noteRecording(e: AmiEvent): void {
    if (e.event !== 'varset' || varsetName(e) !== 'MIXMONITOR_FILENAME') return;
    const path = field(e, 'value');
    const uniqueid = field(e, 'uniqueid');
    if (!path) return;
    const key = (uniqueid ? state.index.get(uniqueid) : undefined) ?? field(e, 'linkedid');
    if (!key || !state.calls.has(key)) return;
    const slot = slotFor(key);
    if (!slot.recordings.some((r) => r.path === path)) slot.recordings.push(uniqueid ? { path, uniqueid } : { path });
  }

  function onEvent(e: AmiEvent): void {
    if (closing) return;
    stats.events_total++;
    const t = now();
    stats.last_event_at = t;
    let result;
    try {
      result = reduce(state, e, withNow(baseCtx, t));
    } catch (err) {
      logger.error({ err, event: e.event, uniqueid: field(e, 'uniqueid') }, 'bridge: the tracker failed on an event; event ignored');
      return;
    }
    state = result.state;
    noteRecording(e);
    applyEffects(result.effects);
  }

  function onResync(channels: AmiEvent[]): void {
    if (closing) return;
    stats.resyncs_total++;
    const before = trackedCalls(state);
    let result;
    try {
      result = resync(state, channels, withNow(baseCtx, now()));
    } catch (err) {
      logger.error({ err }, 'bridge: resync failed');
      return;
    }
    state = result.state;
    applyEffects(result.effects);
    const ended = result.effects.filter((x) => x.type === 'stage' && x.stage === 'call_ended').length;
    logger.info({ live_channels: channels.length, calls_before: before, calls_now: trackedCalls(state), ended_while_away: ended }, 'bridge resynced with Asterisk');
  }

  function onConnected(): void {
    stats.ami_connected = true;
  }

  function onDisconnected(err: Error | undefined): void {
    stats.ami_connected = false;
    logger.warn({ err }, 'AMI link lost; calls that end meanwhile are picked up by the resync after reconnect');
  }

  return {
    async start() {
      if (started || closing) return;
      started = true;
      ami.on('event', onEvent);
      ami.on('resync', onResync);
      ami.on('connected', onConnected);
      ami.on('disconnected', onDisconnected);
      if (ami.isConnected()) {
        stats.ami_connected = true;
        logger.warn('AMI was connected before the bridge listened: calls in progress are picked up at the next resync');
        return;
      }
      // The AMI client keeps reconnecting on its own (ami.reconnect_min_ms … max_ms);
      // start() waits for the first login a moment only.
      connectLoop = ami.connect({ retry: true }).catch(() => undefined); // rejects only when closed
      const firstTry = new AbortController();
      await Promise.race([connectLoop, sleep(opts.firstConnectWaitMs ?? 1000, firstTry.signal)]);
      firstTry.abort();
      stats.ami_connected = ami.isConnected();
    },

    close() {
      if (closed) return closed;
      closing = true;
      stopping.abort();
      closed = (async () => {
        ami.off('event', onEvent);
        ami.off('resync', onResync);
        ami.off('connected', onConnected);
        ami.off('disconnected', onDisconnected);
        // Every ended call reaches the journal before the registrar stops.
        while (running.size > 0) await Promise.allSettled([...running]);
        if (connectLoop) await connectLoop.catch(() => undefined);
        if (trackedCalls(state) > 0) {
          logger.warn({ calls: trackedCalls(state) }, 'calls still in progress at shutdown are picked up by the resync at the next start (from that moment on)');
        }
        await registrar.close();
      })();
      return closed;
    },

    liveCalls() {
      const ctx = withNow(baseCtx, now());
      const out: CallFull[] = [];
      for (const call of state.calls.values()) {
        try {
          out.push(projectCall(call, ctx));
        } catch (err) {
          logger.debug({ err, linkedid: call.linkedid }, 'a call in progress could not be projected for the live view');
        }
      }
      return out;
    },

    stats() {
      return { ...stats, stages: { ...stats.stages }, calls_in_progress: trackedCalls(state), pending_calls: running.size, ami_connected: ami.isConnected() };
    },
  };
}
