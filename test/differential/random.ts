/**
 * A small seeded random source (mulberry32) for the differential generator:
 * the same seed always gives the same program, on any machine.
 */

/** Deterministic random choices from one 32-bit seed. */
export class Random {
  private state: number;
  constructor(readonly seed: number) { this.state = seed >>> 0 || 0x9e3779b9; }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number { return min + Math.floor(this.next() * (max - min + 1)); }

  /** True with probability p. */
  chance(p: number): boolean { return this.next() < p; }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T { return items[Math.floor(this.next() * items.length)]; }

  /** One element, chosen with the given weights. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let at = this.next() * total;
    for (const [item, w] of items) { if ((at -= w) < 0) return item; }
    return items[items.length - 1][0];
  }
}
