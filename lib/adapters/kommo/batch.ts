/**
 * The coalescer: creates of one kind (`POST /api/v4/calls`, contacts, leads, tasks) that
 * are made while a request of that kind waits for a rate-limit slot leave together, as
 * one array, and each caller gets its own item's answer, matched by `request_id`.
 *
 * - One request of a kind at a time (Nagle's rule): a create leaves at once when no
 *   request of its kind is waiting for a slot or for its answer — no backlog, no linger,
 *   no added latency. Otherwise it joins the open batch, which fills while the one ahead
 *   waits, up to `maxItems` (Kommo takes at most 250 items per request; a full batch is
 *   closed and the next item opens another). The body is made when the slot is granted
 *   (`bodyAtSend`), so items keep joining until the request really leaves. During a
 *   backlog (requests wait for a slot) a kind also sends at most one request per
 *   `lingerMs`: fuller batches, more slots left to the searches.
 * - 2xx: an item named in `_embedded[key]` is answered; an item named in the answer's
 *   `errors` (the calls API answers 200 with per-item "Entity not found") gets its own
 *   KommoApiError (KOMMO_ENTITY_NOT_FOUND …); an item in neither → KOMMO_BAD_RESPONSE
 *   with `maybeApplied` (the durable layer looks before it creates again).
 * - 400 whose `validation-errors` name some items: Kommo refused the whole request, so
 *   nothing was created. The named items fail with their own validation errors; the
 *   others are sent again without them. One bad item never fails the others.
 * - 400 of the calls API with per-item `errors` (none matched): each named item gets its
 *   own error.
 * - Anything else (outage, timeout, 5xx, 429 after retries, an answer lost after
 *   sending): every item gets the same error, `maybeApplied` included — each item's
 *   write-ahead intent stays, and its own look-before-create finds what was created.
 */
import { KommoApiError, KommoError, type KommoItemError } from './errors.js';
import type { EndpointContext } from './endpoint.js';
import { embedded, isRecord } from './json.js';

/** Kommo's per-request item limit of array endpoints. */
export const MAX_BATCH_ITEMS = 250;

export type BatchAnswer = Record<string, unknown>;

interface Item {
  body: Record<string, unknown>;
  requestId: string;
  resolve: (answer: BatchAnswer) => void;
  reject: (err: unknown) => void;
}

interface Batch {
  items: Item[];
  sealed: boolean;
}

export interface CoalescerStats {
  /** Requests sent (a re-send after a partial 400 counts again). */
  requests: number;
  /** Items answered or failed. */
  items: number;
  /** The largest batch sent. */
  largest: number;
}

export interface Coalescer {
  /** Queue one item; resolves with its `_embedded[key]` entry, or rejects with its own error. */
  submit(body: Record<string, unknown>, requestId: string): Promise<BatchAnswer>;
  stats(): CoalescerStats;
}

export interface CoalescerOptions {
  path: string;
  /** `_embedded` key of the answer (`calls`, `contacts` …). */
  key: string;
  /** Items per request, 1..250. */
  maxItems: number;
  /**
   * During a backlog (`busy()`: requests are waiting for a rate-limit slot), at most one
   * request of this kind per `lingerMs`, so that each carries more items and leaves the
   * slots to the searches. Without a backlog nothing waits. Default 0.
   */
  lingerMs?: number;
  busy?: () => boolean;
  now?: () => number;
}

const ENTITY_NOT_FOUND = /entity not found/i;

function itemError(path: string, status: number, e: KommoItemError, requestId: string): KommoApiError {
  const title = e.title ?? 'Item refused';
  const notFound = ENTITY_NOT_FOUND.test(`${e.title ?? ''} ${e.detail ?? ''}`);
  const what = notFound ? `Kommo found no contact or company for the item's phone` : `Kommo refused the item: ${title}${e.detail ? ` — ${e.detail}` : ''}`;
  return new KommoApiError(notFound ? 'KOMMO_ENTITY_NOT_FOUND' : 'KOMMO_REJECTED', `${what} (POST ${path}, request_id ${requestId})`, {
    status: e.status ?? status, method: 'POST', path, title, ...(e.detail ? { detail: e.detail } : {}), requestId, itemErrors: [e],
  });
}

export function createCoalescer(ctx: EndpointContext, opts: CoalescerOptions): Coalescer {
  const { path, key } = opts;
  const maxItems = Math.min(MAX_BATCH_ITEMS, Math.max(1, Math.floor(opts.maxItems)));
  const counts: CoalescerStats = { requests: 0, items: 0, largest: 0 };
  let open: Batch | null = null;

  const settle = (items: readonly Item[], fn: (item: Item) => void): void => {
    counts.items += items.length;
    for (const item of items) fn(item);
  };

  function answer(items: readonly Item[], status: number, body: unknown): void {
    const list = embedded(body, key) ?? [];
    const byId = new Map<string, BatchAnswer>();
    list.forEach((entry) => {
      if (isRecord(entry) && typeof entry['request_id'] === 'string') byId.set(entry['request_id'], entry);
    });
    // An answer without request_ids is matched by position, only when it has every item.
    const byIndex = byId.size === 0 && list.length === items.length;
    const errors = new Map<string, KommoItemError>();
    for (const e of isRecord(body) && Array.isArray(body['errors']) ? (body['errors'] as unknown[]) : []) {
      if (isRecord(e) && typeof e['request_id'] === 'string') errors.set(e['request_id'], e as KommoItemError);
    }
    settle(items, (item) => {
      const entry = byIndex ? list[items.indexOf(item)] : byId.get(item.requestId);
      if (isRecord(entry)) return item.resolve(entry);
      const err = errors.get(item.requestId);
      if (err) return item.reject(itemError(path, status, err, item.requestId));
      item.reject(new KommoError('KOMMO_BAD_RESPONSE', `Kommo's answer to ${path} holds no entry for request_id ${item.requestId}`, {
        path, status, maybeApplied: true,
      }));
    });
  }

  function refused(items: readonly Item[], err: KommoApiError): void {
    const known = new Set(items.map((i) => i.requestId));
    if (err.status === 400 && err.itemErrors.some((e) => e.request_id !== undefined && known.has(e.request_id))) {
      // The calls API: no item matched; each named one has its own reason.
      const byId = new Map(err.itemErrors.map((e) => [e.request_id, e]));
      return settle(items, (item) => {
        const e = byId.get(item.requestId);
        item.reject(e ? itemError(path, err.status, e, item.requestId) : err);
      });
    }
    const named = new Set(err.validationErrors.map((v) => v.request_id).filter((id): id is string => id !== undefined && known.has(id)));
    if (err.status !== 400 || named.size === 0 || items.length === 1) return settle(items, (item) => item.reject(err));
    const bad = items.filter((i) => named.has(i.requestId));
    const good = items.filter((i) => !named.has(i.requestId));
    settle(bad, (item) => {
      const own = err.validationErrors.filter((v) => v.request_id === item.requestId);
      const first = own[0]?.errors[0];
      item.reject(new KommoApiError('KOMMO_VALIDATION',
        `Kommo refused the item (POST ${path}, request_id ${item.requestId})${first ? `: ${first.path ?? '?'}: ${first.code ?? ''} ${first.detail ?? ''}`.trimEnd() : ''}`,
        { status: 400, method: 'POST', path, ...(err.title ? { title: err.title } : {}), validationErrors: own, requestId: item.requestId }));
    });
    // Kommo created nothing: the others go again, without the bad ones, next.
    if (good.length > 0) waiting.unshift({ items: good, sealed: true });
  }

  /** Batches waiting for the request in flight (the first may still take items). */
  const waiting: Batch[] = [];
  let flying = false;
  let lastSentAt = -Infinity;
  const lingerMs = Math.max(0, opts.lingerMs ?? 0);
  const now = opts.now ?? Date.now;

  /** Send `batch` now, or — during a backlog — once `lingerMs` has passed since the last one. */
  function go(batch: Batch): void {
    flying = true;
    const wait = lingerMs > 0 && opts.busy?.() ? lastSentAt + lingerMs - now() : 0;
    if (wait <= 0) return launch(batch);
    setTimeout(() => launch(batch), wait); // not unref'd: at most lingerMs, and items wait on it
  }

  function launch(batch: Batch): void {
    flying = true;
    lastSentAt = now();
    ctx.http
      .send({
        method: 'POST', path, idempotent: false,
        bodyAtSend: () => {
          batch.sealed = true;
          if (open === batch) open = null;
          counts.requests++;
          counts.largest = Math.max(counts.largest, batch.items.length);
          return batch.items.map((i) => ({ ...i.body, request_id: i.requestId }));
        },
      })
      .then(
        (res) => answer(batch.items, res.status, res.body),
        (err: unknown) => {
          if (open === batch) open = null;
          batch.sealed = true;
          if (err instanceof KommoApiError) refused(batch.items, err);
          else settle(batch.items, (item) => item.reject(err));
        },
      )
      .catch((err: unknown) => settle(batch.items, (item) => item.reject(err)))
      .finally(() => {
        flying = false;
        const next = waiting.shift();
        if (next) go(next);
      });
  }

  return {
    submit(body, requestId) {
      return new Promise<BatchAnswer>((resolve, reject) => {
        const item: Item = { body, requestId, resolve, reject };
        const joinable = open && !open.sealed && open.items.length < maxItems && !open.items.some((i) => i.requestId === requestId);
        if (open && joinable) {
          open.items.push(item);
        } else {
          const batch: Batch = { items: [item], sealed: false };
          open = batch;
          if (flying) waiting.push(batch);
          else go(batch);
        }
        if (open && open.items.length >= maxItems) open = null; // full: the next item opens another
      });
    },
    stats: () => ({ ...counts }),
  };
}
