/**
 * Incoming-call popups (README, "The popup while a phone rings"): when an inbound call
 * starts ringing a mapped extension, Kommo is asked (`POST /api/v2/events`) to show its
 * call popup to that extension's user. Real-time work that must never hold anything up:
 *
 * - `ringing()` returns at once; the work runs on its own (fire-and-forget), bounded by
 *   `maxInFlight` notifications pending or under way (one more is dropped and counted);
 *   every failure is caught, counted by code and logged (a late one at debug).
 * - Rings of one call within `batchMs` (a ring group, a ring-all queue) share one
 *   request naming every ringing user; a later ring (a transfer's target, a queue's next
 *   round) is a request of its own.
 * - A notification lives while its phones ring: its AbortSignal fires when the last of
 *   its conversations is answered or ends, when the call ends, or after `timeoutMs` —
 *   so a 429/5xx is retried (by the Kommo client) only while it still rings, and never
 *   after. A ring that stopped before its request left is never sent.
 * - The number is the client's, rewritten (`phone.rewrite_rules`), then hook 3
 *   (`process_client_phone`, stage `conversation_requested`).
 * - Requests go with `priority: 'realtime'` in the account's shared rate limiter: ahead
 *   of any registration backlog (and into `kommo.realtime_reserve`).
 */
import type { Logger } from 'pino';
import { errorCode } from '../../platform/errors.js';
import type { StageEffect } from '../tracker/types.js';
import { ringTarget } from './who.js';

/** What the notifier needs of the Kommo client (KommoClient fits). */
export interface NotifyKommo {
  addCallNotifications(
    items: ReadonlyArray<{ phone: string; users: readonly number[] }>,
    opts: { signal: AbortSignal; priority: 'realtime'; retryBudgetMs: number },
  ): Promise<void>;
}

/** What the notifier needs of the hook runner (HookRunner fits). */
export interface NotifyHooks {
  isActive?(hook: 'process_client_phone'): boolean;
  run(
    hook: 'process_client_phone',
    input: { call_full: StageEffect['call']; call_stage: 'conversation_requested'; phone: string },
    defaults: { phone: string },
    opts?: { logger?: Logger; signal?: AbortSignal },
  ): Promise<{ data: { phone: string } }>;
}

export interface NotifierOptions {
  enabled: boolean;
  batchMs: number;
  maxInFlight: number;
  timeoutMs: number;
  /** Numbers with at most this many digits are extensions, never clients (`phone.internal_max_digits`). */
  internalMaxDigits: number;
}

export interface NotifierDeps {
  kommo: NotifyKommo;
  hooks: NotifyHooks;
  /** Digits-only, rewritten client number, or null (anonymous). */
  normalizePhone: (raw: string) => string | null;
  logger: Logger;
  /** Clock, Unix ms (latency figures). */
  now?: () => number;
}

export interface NotifierStats {
  /** Requests Kommo accepted, and the users they named. */
  sent_total: number;
  users_notified_total: number;
  /** Requests that failed while the phone still rang, by error code. */
  failed_total: number;
  failed_by_code: Record<string, number>;
  /** Notifications given up because every phone stopped ringing (before or while sending), or the call ended. */
  late_total: number;
  /** Dropped because `max_in_flight` notifications were already under way. */
  dropped_total: number;
  /** Rings that needed no popup, by reason (not_inbound, no_user, no_number, disabled). */
  skipped: Record<string, number>;
  in_flight: number;
  /** Ring → Kommo's answer, ms, over the last 1000 accepted notifications. */
  latency_ms: { count: number; p50: number; p99: number; max: number };
}

export interface Notifier {
  /** A conversation started ringing (stage `conversation_requested`, after hook 1 said yes). `at`: when the ring was seen (Unix ms). */
  ringing(effect: StageEffect, at: number, log?: Logger): void;
  /** A conversation was answered or ended: it rings no more. */
  stopped(linkedid: string, conversationId: string): void;
  callEnded(linkedid: string): void;
  merged(from: string, into: string): void;
  stats(): NotifierStats;
  /** Abort everything pending or under way and wait until it settled. Idempotent. */
  close(): Promise<void>;
}

interface Ticket {
  linkedid: string;
  /** Conversations still ringing. */
  live: Set<string>;
  users: Set<number>;
  ringAt: number;
  controller: AbortController;
  timer: NodeJS.Timeout | undefined;
  sent: boolean;
  log: Logger;
}

interface CallSlot {
  tickets: Set<Ticket>;
  /** Conversations that stopped ringing (a ring reported after its stop is not notified). */
  stopped: Set<string>;
  /** The ticket still gathering rings (within batchMs). */
  open: Ticket | undefined;
}

const SAMPLES = 1000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export function createNotifier(opts: NotifierOptions, deps: NotifierDeps): Notifier {
  const now = deps.now ?? Date.now;
  const logger = deps.logger.child({ component: 'notify' });
  const calls = new Map<string, CallSlot>();
  const byConversation = new Map<string, Ticket>();
  const work = new Set<Promise<void>>();
  let inFlight = 0;
  let closed = false;
  const latencies: number[] = [];
  const stats = {
    sent_total: 0, users_notified_total: 0, failed_total: 0, late_total: 0, dropped_total: 0,
    failed_by_code: {} as Record<string, number>, skipped: {} as Record<string, number>,
  };

  const skip = (reason: string): void => {
    stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
  };

  function slotOf(linkedid: string): CallSlot {
    let slot = calls.get(linkedid);
    if (!slot) {
      slot = { tickets: new Set(), stopped: new Set(), open: undefined };
      calls.set(linkedid, slot);
    }
    return slot;
  }

  async function phoneFor(effect: StageEffect, normalized: string, ticket: Ticket): Promise<string> {
    const active = deps.hooks.isActive?.('process_client_phone') !== false;
    const out = await deps.hooks.run(
      'process_client_phone',
      { call_full: effect.call, call_stage: 'conversation_requested', phone: normalized },
      { phone: normalized },
      active ? { logger: ticket.log, signal: ticket.controller.signal } : { logger: ticket.log },
    );
    const phone = out.data.phone;
    return typeof phone === 'string' && /\d/.test(phone) ? phone : normalized;
  }

  function finish(ticket: Ticket): void {
    if (ticket.timer) clearTimeout(ticket.timer);
    ticket.timer = undefined;
    for (const id of ticket.live) byConversation.delete(id);
    const slot = calls.get(ticket.linkedid);
    slot?.tickets.delete(ticket);
    if (slot?.open === ticket) slot.open = undefined;
    inFlight--;
  }

  async function run(ticket: Ticket, phone: Promise<string>): Promise<void> {
    try {
      await new Promise<void>((resolve) => {
        ticket.timer = setTimeout(resolve, opts.batchMs);
        ticket.controller.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      const slot = calls.get(ticket.linkedid);
      if (slot?.open === ticket) slot.open = undefined; // later rings start a ticket of their own
      const number = await phone;
      if (ticket.controller.signal.aborted) throw ticket.controller.signal.reason;
      ticket.sent = true;
      const users = [...ticket.users];
      const signal = AbortSignal.any([ticket.controller.signal, AbortSignal.timeout(opts.timeoutMs)]);
      await deps.kommo.addCallNotifications([{ phone: number, users }], { signal, priority: 'realtime', retryBudgetMs: opts.timeoutMs });
      const ms = now() - ticket.ringAt;
      stats.sent_total++;
      stats.users_notified_total += users.length;
      latencies.push(ms);
      if (latencies.length > SAMPLES) latencies.shift();
      ticket.log.info({ users, phone: number, latency_ms: ms }, 'call popup shown in Kommo');
    } catch (err) {
      if (ticket.controller.signal.aborted) {
        stats.late_total++;
        ticket.log.debug({ users: [...ticket.users], sent: ticket.sent, code: errorCode(err) }, 'call popup given up: the phone stopped ringing');
      } else {
        const code = errorCode(err);
        stats.failed_total++;
        stats.failed_by_code[code] = (stats.failed_by_code[code] ?? 0) + 1;
        ticket.log.warn({ err, code, users: [...ticket.users] }, 'call popup could not be shown in Kommo (the call goes on)');
      }
    } finally {
      finish(ticket);
    }
  }

  function abortTicket(ticket: Ticket, why: string): void {
    if (!ticket.controller.signal.aborted) ticket.controller.abort(new Error(why));
  }

  return {
    ringing(effect, at, log) {
      if (closed) return;
      if (!opts.enabled) return skip('disabled');
      const target = ringTarget(effect.call, effect.conversationId);
      if (!target.notify) return skip(target.reason);
      const normalized = deps.normalizePhone(target.rawPhone);
      if (normalized === null || /^[0-9]+$/.test(normalized) && normalized.length <= opts.internalMaxDigits) return skip('no_number');
      const convId = effect.conversationId as string;
      const slot = slotOf(effect.linkedid);
      if (slot.stopped.has(convId)) {
        stats.late_total++;
        return;
      }
      const open = slot.open;
      if (open && !open.controller.signal.aborted) {
        open.live.add(convId);
        open.users.add(target.userId);
        byConversation.set(convId, open);
        return;
      }
      if (inFlight >= opts.maxInFlight) {
        stats.dropped_total++;
        (log ?? logger).debug({ max_in_flight: opts.maxInFlight }, 'call popup dropped: too many under way');
        return;
      }
      const ticket: Ticket = {
        linkedid: effect.linkedid, live: new Set([convId]), users: new Set([target.userId]), ringAt: at,
        controller: new AbortController(), timer: undefined, sent: false, log: (log ?? logger).child({ conversation: convId }),
      };
      inFlight++;
      slot.tickets.add(ticket);
      slot.open = ticket;
      byConversation.set(convId, ticket);
      const phone = phoneFor(effect, normalized, ticket);
      phone.catch(() => undefined); // awaited in run(); a rejection before that is not unhandled
      const p = run(ticket, phone);
      work.add(p);
      void p.finally(() => work.delete(p));
    },

    stopped(linkedid, conversationId) {
      if (!opts.enabled || closed) return;
      slotOf(linkedid).stopped.add(conversationId);
      const ticket = byConversation.get(conversationId);
      if (!ticket) return;
      byConversation.delete(conversationId);
      ticket.live.delete(conversationId);
      if (ticket.live.size === 0) abortTicket(ticket, 'the phone stopped ringing');
    },

    callEnded(linkedid) {
      const slot = calls.get(linkedid);
      if (!slot) return;
      calls.delete(linkedid);
      for (const t of slot.tickets) abortTicket(t, 'the call ended');
    },

    merged(from, into) {
      const a = calls.get(from);
      if (!a) return;
      calls.delete(from);
      const b = slotOf(into);
      for (const t of a.tickets) {
        t.linkedid = into;
        b.tickets.add(t);
      }
      for (const id of a.stopped) b.stopped.add(id);
      if (a.open && !b.open) b.open = a.open;
    },

    stats() {
      const sorted = [...latencies].sort((x, y) => x - y);
      return {
        ...stats, failed_by_code: { ...stats.failed_by_code }, skipped: { ...stats.skipped }, in_flight: inFlight,
        latency_ms: { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 },
      };
    },

    async close() {
      closed = true;
      for (const slot of calls.values()) for (const t of slot.tickets) abortTicket(t, 'the connector is stopping');
      while (work.size > 0) await Promise.allSettled([...work]);
      calls.clear();
    },
  };
}
