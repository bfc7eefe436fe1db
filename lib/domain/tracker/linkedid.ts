/**
 * Which of two linkedids is older (it survives a merge, as in Asterisk).
 *
 * Two forms occur:
 *  - Asterisk's uniqueids `<epoch s>.<seq>` (optionally `<systemname>-<epoch s>.<seq>`):
 *    time to the second, then Asterisk's global sequence number;
 *  - our Originate `ChannelId`s `ka-<epoch ms>-<8 hex>` (lib/domain/originate): time to the
 *    millisecond, no sequence (the hex part is random).
 *
 * Keys are compared only as far as both are precise: two Asterisk ids by
 * (second, seq), two `ka-` ids by millisecond, a mixed pair by the second only.
 * A tie (or an id of neither form) falls back to the calls' start times (Unix ms,
 * 0 = unknown); then a mixed pair from the same second puts the Asterisk id first
 * (so that, without start times, ids of the two forms are ordered by
 * (second, form, sequence or ms) — transitively); then plain string order. Never
 * a NaN comparison; every pair gets an answer, the same whichever way it is asked.
 */

export interface LinkedidKey {
  /** Unix ms (whole seconds for Asterisk ids). */
  readonly ms: number;
  /** Asterisk's sequence number; -1 when the form has none (`ka-` ids). */
  readonly seq: number;
  readonly form: 'asterisk' | 'originate';
}

const ASTERISK_ID = /^(?:.*-)?(\d{1,12})\.(\d{1,15})$/;
const ORIGINATE_ID = /^ka-(\d{1,15})-[0-9a-f]+(?:-\d+)?$/i;

/** The (time, sequence) key of a linkedid, or undefined for an id of neither form. */
export function linkedidKey(id: string): LinkedidKey | undefined {
  const o = ORIGINATE_ID.exec(id);
  if (o) return { ms: Number(o[1]), seq: -1, form: 'originate' };
  const a = ASTERISK_ID.exec(id);
  if (a) return { ms: Number(a[1]) * 1000, seq: Number(a[2]), form: 'asterisk' };
  return undefined;
}

/** <0 when `a` is older, >0 when `b` is, 0 when the keys cannot tell. */
function compareKeys(a: LinkedidKey | undefined, b: LinkedidKey | undefined): number {
  if (!a || !b) return 0;
  if (a.form !== b.form) return Math.sign(Math.floor(a.ms / 1000) - Math.floor(b.ms / 1000));
  return Math.sign(a.ms - b.ms) || Math.sign(a.seq - b.seq);
}

/**
 * The older of two linkedids: by their keys, then by the calls' start times
 * (`startA`/`startB`, Unix ms, 0 or absent = unknown), then by string order.
 */
export function olderLinkedid(a: string, b: string, startA = 0, startB = 0): string {
  if (a === b) return a;
  const ka = linkedidKey(a);
  const kb = linkedidKey(b);
  const byKey = compareKeys(ka, kb);
  if (byKey !== 0) return byKey < 0 ? a : b;
  if (startA > 0 && startB > 0 && startA !== startB) return startA < startB ? a : b;
  if (ka && kb && ka.form !== kb.form) return ka.form === 'asterisk' ? a : b;
  return a < b ? a : b;
}
