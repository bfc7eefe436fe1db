/**
 * A small persistent (immutable) string-keyed map, so the tracker's reducer
 * can stay pure without copying every call on every event. Two levels of 64
 * slots by a 32-bit FNV-1a hash, leaves are short arrays; an update copies two
 * 64-slot arrays and one leaf, whatever the size of the map.
 */
const BITS = 6;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;

type Leaf<V> = readonly (readonly [string, V])[];
type Level2<V> = readonly (Leaf<V> | undefined)[];
type Root<V> = readonly (Level2<V> | undefined)[];

function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class PMap<V> {
  private constructor(
    private readonly root: Root<V>,
    readonly size: number,
  ) {}

  static empty<V>(): PMap<V> {
    return new PMap<V>(new Array<Level2<V> | undefined>(WIDTH).fill(undefined), 0);
  }

  get(key: string): V | undefined {
    const h = hash(key);
    const leaf = this.root[h & MASK]?.[(h >>> BITS) & MASK];
    if (!leaf) return undefined;
    for (const [k, v] of leaf) if (k === key) return v;
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): PMap<V> {
    const h = hash(key);
    const i1 = h & MASK;
    const i2 = (h >>> BITS) & MASK;
    const l2 = this.root[i1];
    const leaf = l2?.[i2];
    let next: (readonly [string, V])[];
    let grew = 1;
    if (!leaf) next = [[key, value]];
    else {
      const at = leaf.findIndex(([k]) => k === key);
      if (at >= 0) {
        if (leaf[at]?.[1] === value) return this;
        next = leaf.slice();
        next[at] = [key, value];
        grew = 0;
      } else next = [...leaf, [key, value]];
    }
    const newL2 = l2 ? l2.slice() : new Array<Leaf<V> | undefined>(WIDTH).fill(undefined);
    newL2[i2] = next;
    const newRoot = this.root.slice();
    newRoot[i1] = newL2;
    return new PMap(newRoot, this.size + grew);
  }

  delete(key: string): PMap<V> {
    const h = hash(key);
    const i1 = h & MASK;
    const i2 = (h >>> BITS) & MASK;
    const l2 = this.root[i1];
    const leaf = l2?.[i2];
    if (!l2 || !leaf) return this;
    const at = leaf.findIndex(([k]) => k === key);
    if (at < 0) return this;
    const newL2 = l2.slice();
    newL2[i2] = leaf.length === 1 ? undefined : leaf.filter((_, i) => i !== at);
    const newRoot = this.root.slice();
    newRoot[i1] = newL2.some((x) => x !== undefined) ? newL2 : undefined;
    return new PMap(newRoot, this.size - 1);
  }

  *entries(): IterableIterator<[string, V]> {
    for (const l2 of this.root) {
      if (!l2) continue;
      for (const leaf of l2) if (leaf) for (const [k, v] of leaf) yield [k, v];
    }
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }
}
