/** The repository root and the median, for benchmarks that must not load the compiler (a bundled benchmark). */
import path from 'node:path';

/** The repository root. */
export const root = path.resolve(import.meta.dirname, '..');

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
