/** `collection(items)`: the DSL side of the collection connector. */
import { descriptor, type Source } from '../../../api/connectors.ts';

/** A bounded source over an in-memory array (Flink's fromCollection). */
export function collection<T>(items: readonly T[]): Source<T> {
  if (!Array.isArray(items)) throw new TypeError('collection(items): items must be an array');
  return descriptor<Source<T>>('collection', { items }, { source: { bounded: true } });
}
