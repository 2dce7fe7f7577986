/**
 * Built-in aggregate functions (`agg.*`) for windows and aggregating state.
 * Each is an ordinary AggregateFunction with `merge`, so it also works on
 * session windows; `builtin` names it for plans and generated code.
 */
import type { AggregateFunction } from './functions.ts';

/** A built-in aggregate, tagged with its name. */
export type BuiltinAggregate<IN, ACC, OUT> = AggregateFunction<IN, ACC, OUT> & { readonly builtin: string; merge(a: ACC, b: ACC): ACC };

/** One entry of a topN result. */
export interface TopEntry<K> { key: K; count: number }

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const sa = String(a), sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** The aggregate functions. */
export const agg = {
  /** Number of elements. */
  count(): BuiltinAggregate<unknown, number, number> {
    return { builtin: 'count', createAccumulator: () => 0, add: (_v, acc) => acc + 1, getResult: (acc) => acc, merge: (a, b) => a + b };
  },
  /** Sum of `fn(element)`. */
  sum<T>(fn: (value: T) => number): BuiltinAggregate<T, number, number> {
    return { builtin: 'sum', createAccumulator: () => 0, add: (v, acc) => acc + fn(v), getResult: (acc) => acc, merge: (a, b) => a + b };
  },
  /** Mean of `fn(element)` (NaN for an empty window, which never fires). */
  avg<T>(fn: (value: T) => number): BuiltinAggregate<T, { sum: number; count: number }, number> {
    return {
      builtin: 'avg',
      createAccumulator: () => ({ sum: 0, count: 0 }),
      add: (v, acc) => ({ sum: acc.sum + fn(v), count: acc.count + 1 }),
      getResult: (acc) => acc.sum / acc.count,
      merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
    };
  },
  /** Smallest `fn(element)`. */
  min<T>(fn: (value: T) => number): BuiltinAggregate<T, number, number> {
    return { builtin: 'min', createAccumulator: () => Infinity, add: (v, acc) => Math.min(acc, fn(v)), getResult: (acc) => acc, merge: (a, b) => Math.min(a, b) };
  },
  /** Largest `fn(element)`. */
  max<T>(fn: (value: T) => number): BuiltinAggregate<T, number, number> {
    return { builtin: 'max', createAccumulator: () => -Infinity, add: (v, acc) => Math.max(acc, fn(v)), getResult: (acc) => acc, merge: (a, b) => Math.max(a, b) };
  },
  /** The `n` most frequent `keyFn(element)` values: count descending, ties by key ascending. */
  topN<T, K extends string | number | bigint>(n: number, keyFn: (value: T) => K): BuiltinAggregate<T, Map<K, number>, TopEntry<K>[]> {
    return {
      builtin: 'topN',
      createAccumulator: () => new Map(),
      add: (v, acc) => { const k = keyFn(v); acc.set(k, (acc.get(k) ?? 0) + 1); return acc; },
      getResult: (acc) => [...acc].map(([key, count]) => ({ key, count }))
        .sort((a, b) => b.count - a.count || compareKeys(a.key, b.key)).slice(0, n),
      merge: (a, b) => { const out = new Map(a); for (const [k, c] of b) out.set(k, (out.get(k) ?? 0) + c); return out; },
    };
  },
  /** Every element, in arrival order. */
  collect<T>(): BuiltinAggregate<T, T[], T[]> {
    return { builtin: 'collect', createAccumulator: () => [], add: (v, acc) => { acc.push(v); return acc; }, getResult: (acc) => acc.slice(), merge: (a, b) => a.concat(b) };
  },
};
