/** `mysql.*`: the DSL side of the MySQL connectors (their runtime is not in this release; see definition.ts). */
import { descriptor, type Sink, type Source } from '../../../api/connectors.ts';
import type { Duration } from '../../../api/duration.ts';

/** A change event from `mysql.cdc`. */
export interface ChangeEvent<T> { op: 'insert' | 'update' | 'delete'; before: T | null; after: T | null }

/** Options of the MySQL sinks. */
export interface MysqlSinkOptions<T> {
  table: string;
  /** Key columns of the upsert. */
  key?: readonly (keyof T & string)[];
  batchSize?: number;
  flushInterval?: Duration;
}

/** MySQL/MariaDB tables: a bounded scan, a binlog change stream, upsert and insert sinks. */
export const mysql = {
  table<T>(options: { table: string; query?: string }): Source<T> {
    return descriptor<Source<T>>('mysql.table', { ...options }, { source: { bounded: true } });
  },
  cdc<T>(options: { table: string; startFrom?: 'earliest' | 'latest' }): Source<ChangeEvent<T>> {
    return descriptor<Source<ChangeEvent<T>>>('mysql.cdc', { ...options }, { source: { bounded: false } });
  },
  upsert<T>(options: MysqlSinkOptions<T> & { key: readonly (keyof T & string)[] }): Sink<T> {
    return descriptor<Sink<T>>('mysql.upsert', { ...options }, { sink: true });
  },
  insert<T>(options: MysqlSinkOptions<T>): Sink<T> {
    return descriptor<Sink<T>>('mysql.insert', { ...options }, { sink: true });
  },
};
