/**
 * `mysql.*`: the DSL side of the MySQL/MariaDB connectors — a bounded table
 * scan, a change stream from the binlog (snapshot first), and upsert and
 * insert sinks. Descriptors only record the options; the server and
 * credentials come from PIPEC_MYSQL_URL when a worker runs (runtime.ts).
 */
import { descriptor, type Sink, type Source } from '../../../api/connectors.ts';
import type { Duration } from '../../../api/duration.ts';

/** Where a change event comes from: the snapshot, or a transaction of the binlog. */
export interface ChangeSource {
  /** True for rows of the initial snapshot (op 'insert'); false for binlog changes. */
  snapshot: boolean;
  /** The database and table. */
  db: string;
  table: string;
  /**
   * The GTID of the change's transaction (MariaDB `domain-server-sequence`,
   * MySQL `uuid:number`); for snapshot rows, the GTID position the snapshot
   * was read at. Absent on a MySQL server without gtid_mode.
   */
  gtid?: string;
  /** The binlog file and the position after the change's event (snapshot rows: the snapshot's binlog position). */
  file: string;
  position: number;
  /** The binlog event's time (ms since the epoch; the server writes it when the statement runs); for snapshot rows, when the snapshot started. */
  ts: number;
}

/** A change event from `mysql.cdc`, with Flink CDC's meaning: an insert has `after`, a delete `before`, an update both. */
export interface ChangeEvent<T> {
  op: 'insert' | 'update' | 'delete';
  before: T | null;
  after: T | null;
  source: ChangeSource;
}

/** Options of `mysql.table`. */
export interface MysqlTableOptions {
  /** `table` or `db.table` (the database defaults to PIPEC_MYSQL_URL's). Read in primary-key order, in chunks. */
  table?: string;
  /** A SELECT instead of a table; it should ORDER BY a unique key, so a resumed scan skips exactly what was read. */
  query?: string;
  /** Rows per chunk (default 10,000): the most a scan holds in memory. */
  chunkSize?: number;
}

/** Where `mysql.cdc` starts when it has no checkpoint. */
export type CdcStartFrom =
  /** Snapshot of the table, then the binlog from the snapshot's position (default; Flink CDC's 'initial'). */
  | 'initial'
  /** Only changes from now on. */
  | 'latest'
  /** Every change the server's binlog still has, without a snapshot. */
  | 'earliest'
  /** Changes after a GTID position (MariaDB `0-1-100`, MySQL `uuid:1-100`), without a snapshot. */
  | { gtid: string }
  /** Changes from a binlog file and position, without a snapshot. */
  | { file: string; position: number };

/** Options of `mysql.cdc`. */
export interface MysqlCdcOptions {
  /** `table` or `db.table`; it needs a primary key. */
  table: string;
  startFrom?: CdcStartFrom;
  /** The server id the binlog client presents (unique among the server's replicas; default: derived from the pipeline and node). */
  serverId?: number;
  /** Snapshot rows per chunk (default 10,000). */
  chunkSize?: number;
}

/** Options of the MySQL sinks. */
export interface MysqlSinkOptions<T> {
  /** `table` or `db.table`. */
  table: string;
  /** Key columns: the upsert key (a primary or unique key of the table). */
  key?: readonly (keyof T & string)[];
  /** Rows per statement (default 1,000). */
  batchSize?: number;
  /** Upsert: the longest a row waits before it is written (default 200 ms); insert writes on checkpoints. */
  flushInterval?: Duration;
}

/** MySQL/MariaDB tables: a bounded scan, a binlog change stream, upsert and insert sinks. */
export const mysql = {
  /** A bounded scan of a table (primary-key chunks) or of a query. */
  table<T>(options: MysqlTableOptions & ({ table: string } | { query: string })): Source<T> {
    return descriptor<Source<T>>('mysql.table', { ...options }, { source: { bounded: true } });
  },
  /** The table's changes: a consistent snapshot as inserts, then the binlog's row changes (needs binlog_format=ROW). */
  cdc<T>(options: MysqlCdcOptions): Source<ChangeEvent<T>> {
    return descriptor<Source<ChangeEvent<T>>>('mysql.cdc', { ...options }, { source: { bounded: false } });
  },
  /** `INSERT … ON DUPLICATE KEY UPDATE` in batches; a change event's delete deletes by key. Replays are idempotent. */
  upsert<T>(options: MysqlSinkOptions<T> & { key: readonly (keyof T & string)[] }): Sink<T | ChangeEvent<T>> {
    return descriptor<Sink<T | ChangeEvent<T>>>('mysql.upsert', { ...options }, { sink: true });
  },
  /** Inserts, exactly-once: each checkpoint's rows are one XA transaction, committed when the checkpoint is. */
  insert<T>(options: MysqlSinkOptions<T>): Sink<T> {
    return descriptor<Sink<T>>('mysql.insert', { ...options }, { sink: true });
  },
};
