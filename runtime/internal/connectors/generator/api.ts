/** `generator(fn, options)`: the DSL side of the data simulator. */
import { descriptor, type Source } from '../../../api/connectors.ts';

/** Options of `generator`. */
export interface GeneratorOptions { ratePerSecond?: number; count?: number }

/** A data simulator: calls `fn(i)` for i = 0, 1, 2...; bounded when `count` is set, paced when `ratePerSecond` is. */
export function generator<T>(fn: (index: number) => T, options: GeneratorOptions = {}): Source<T> {
  return descriptor<Source<T>>('generator', { fn, ...options }, { source: { bounded: options.count !== undefined } });
}
