/** `print(prefix?)`: the DSL side of the stdout sink. */
import { descriptor, type Sink } from '../../../api/connectors.ts';

/** Writes every record to stdout in Flink's print format (`prefix:subtask> value`). */
export function print<T = unknown>(prefix?: string): Sink<T> {
  return descriptor<Sink<T>>('print', { prefix }, { sink: true });
}
