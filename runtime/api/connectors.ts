/**
 * Connector descriptors. Each function here only records what the user asked
 * for; nothing connects at build time. The runtime's implementations live in
 * runtime/internal/connectors/ and are linked into a stage bundle only when
 * that stage uses them. Server addresses and credentials come from the
 * environment at run time (PIPEC_KAFKA_BROKERS, PIPEC_MYSQL_URL, PIPEC_REDIS_URL).
 */
import type { Duration } from './duration.ts';

/** The connector implementations the runtime knows. */
export type ConnectorName =
  | 'collection' | 'generator' | 'file.lines' | 'file.csv' | 'file.jsonl' | 'print'
  | 'kafka' | 'mysql.table' | 'mysql.cdc' | 'mysql.upsert' | 'mysql.insert' | 'redis.hset' | 'redis.set';

/** What every descriptor carries. */
export interface ConnectorDescriptor {
  readonly kind: 'connector';
  readonly connector: ConnectorName;
  /** Settings as the user wrote them (functions included). */
  readonly options: Readonly<Record<string, unknown>>;
}

/** Something `p.source(...)` accepts, producing records of type T. */
export interface Source<T> extends ConnectorDescriptor {
  readonly source: { readonly bounded: boolean };
  /** Phantom field carrying T; never set. */
  readonly __out?: () => T;
}

/** Something `stream.sink(...)` accepts, consuming records of type T. */
export interface Sink<T> extends ConnectorDescriptor {
  readonly sink: true;
  /** Phantom field carrying T; never set. */
  readonly __in?: (value: T) => void;
}

function descriptor<D extends ConnectorDescriptor>(connector: ConnectorName, options: Record<string, unknown>, extra: Omit<D, keyof ConnectorDescriptor>): D {
  return { kind: 'connector', connector, options, ...extra } as D;
}

/** A bounded source over an in-memory array (Flink's fromCollection). */
export function collection<T>(items: readonly T[]): Source<T> {
  if (!Array.isArray(items)) throw new TypeError('collection(items): items must be an array');
  return descriptor<Source<T>>('collection', { items }, { source: { bounded: true } });
}

/** Options of `generator`. */
export interface GeneratorOptions { ratePerSecond?: number; count?: number }

/** A data simulator: calls `fn(i)` for i = 0, 1, 2...; bounded when `count` is set, paced when `ratePerSecond` is. */
export function generator<T>(fn: (index: number) => T, options: GeneratorOptions = {}): Source<T> {
  return descriptor<Source<T>>('generator', { fn, ...options }, { source: { bounded: options.count !== undefined } });
}

/** Options shared by the file connectors. */
export interface FileOptions {
  /** Source only: where undecodable lines go (default: `<pipeline>.dead-letter.jsonl` next to the job's output). */
  deadLetter?: string;
}
/** Options of `file.csv`. */
export interface CsvOptions<T> extends FileOptions {
  /** Column names in order: the fields a sink writes, and the names a source gives the fields it reads (otherwise the header row's). */
  columns?: readonly (keyof T & string)[];
  /** Source: whether the first line is a header (default: true unless `columns` is given). Sink: write a header line (default false). */
  header?: boolean;
  delimiter?: string;
}

/** A file connector is both a bounded source (a path or a glob) and a sink (a path). */
export type FileConnector<T> = Source<T> & Sink<T>;

/** Text, CSV and JSON-lines files. */
export const file = {
  /** One record per line of text. */
  lines(path: string, options: FileOptions = {}): FileConnector<string> {
    return descriptor<FileConnector<string>>('file.lines', { path, ...options }, { source: { bounded: true }, sink: true });
  },
  /** One record per CSV row, as an object keyed by column name. */
  csv<T = Record<string, string>>(path: string, options: CsvOptions<T> = {}): FileConnector<T> {
    return descriptor<FileConnector<T>>('file.csv', { path, ...options }, { source: { bounded: true }, sink: true });
  },
  /** One JSON value per line. */
  jsonl<T = unknown>(path: string, options: FileOptions = {}): FileConnector<T> {
    return descriptor<FileConnector<T>>('file.jsonl', { path, ...options }, { source: { bounded: true }, sink: true });
  },
};

/** Writes every record to stdout in Flink's print format (`prefix:subtask> value`). */
export function print<T = unknown>(prefix?: string): Sink<T> {
  return descriptor<Sink<T>>('print', { prefix }, { sink: true });
}

/** A user codec for Kafka values. */
export interface Codec<T> { decode(bytes: Uint8Array): T; encode(value: T): Uint8Array | string }
/** Kafka value formats. */
export type KafkaFormat<T> = 'json' | 'string' | 'csv' | Codec<T>;

/** Options of `kafka.source`. */
export interface KafkaSourceOptions<T> {
  topic: string;
  format: KafkaFormat<T>;
  /** Where a new consumer group starts (default 'latest'). */
  startFrom?: 'earliest' | 'latest' | { timestamp: number };
  /** Consumer group id (default: `<pipeline>-stage-<i>`). */
  group?: string;
}
/** Options of `kafka.sink`. */
export interface KafkaSinkOptions<T> {
  topic: string;
  format: KafkaFormat<T>;
  /** The record key (default: none, or the stream's key after keyBy). */
  key?: (value: T) => string;
}

/** Apache Kafka topics. */
export const kafka = {
  source<T>(options: KafkaSourceOptions<T>): Source<T> {
    return descriptor<Source<T>>('kafka', { ...options }, { source: { bounded: false } });
  },
  sink<T>(options: KafkaSinkOptions<T>): Sink<T> {
    return descriptor<Sink<T>>('kafka', { ...options }, { sink: true });
  },
};

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

/** Redis sinks. */
export const redis = {
  hset<T>(options: { key: (value: T) => string; field: (value: T) => string; value: (value: T) => string }): Sink<T> {
    return descriptor<Sink<T>>('redis.hset', { ...options }, { sink: true });
  },
  set<T>(options: { key: (value: T) => string; value: (value: T) => string; ttl?: Duration }): Sink<T> {
    return descriptor<Sink<T>>('redis.set', { ...options }, { sink: true });
  },
};
