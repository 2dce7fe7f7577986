/**
 * What source and sink connectors implement, and the contexts the runtime
 * gives them. A connector module is linked into a stage bundle only when the
 * stage's generated code imports it.
 */
import type { Logger } from '../log.ts';

/** A record that could not be decoded: it goes to the dead-letter output with the reason. */
export interface DeadLetter {
  /** Where it came from: a file path, a topic... */
  origin: string;
  /** 1-based line (files) or offset (topics). */
  position: number;
  reason: string;
  /** For an error in the user's code: where it was thrown (`pipeline.ts:11:7`). */
  location?: string;
  raw: string;
}

/** What the runtime gives a source. */
export interface SourceContext {
  readonly pipeline: string;
  readonly nodeId: number;
  readonly options: Readonly<Record<string, any>>;
  /**
   * `file.csv`: each column's type from the record type the compiler saw
   * ('string' | 'number' | 'boolean' | 'bigint', '?' when optional; '*' for
   * unnamed columns); undefined when the type was not known. Database
   * sources (mysql.table, mysql.cdc): the same for their rows, with also
   * 'date', 'bytes' and 'json' (compiler/phases/3-analyze/row-types.ts).
   */
  readonly columnTypes?: Readonly<Record<string, string>>;
  readonly subtask: number;
  readonly parallelism: number;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Reports an undecodable record; throws when the job runs with --fail-fast. */
  deadLetter(record: DeadLetter): void;
  /** Waits until every record emitted so far has reached the sinks (before committing input positions). */
  flush(): Promise<void>;
  /** The job takes checkpoints: the source commits its input positions only when told a checkpoint is complete. */
  readonly checkpointing?: boolean;
}

/**
 * Hands one record to the job. It returns a promise when the job cannot take
 * more input yet (an asyncMap has `capacity` calls in flight: backpressure,
 * as Flink's AsyncWaitOperator blocks its input); the source awaits it before
 * it emits the next record. Otherwise it returns nothing, at no cost.
 */
export type SourceEmit = (value: any, timestamp: number | undefined) => void | Promise<void>;

/** A source: reads its input and calls `emit` once per record (awaiting what emit returns). Bounded sources return when done. */
export interface SourceConnector {
  run(emit: SourceEmit): Promise<void>;
  /**
   * The record this source emitted last went to the dead-letter output (a
   * function threw on it, or its key is invalid). A source may forward it
   * where its users look for bad records (Kafka: the `<pipeline>-dlq` topic,
   * with the original bytes); called during the emit that failed.
   */
  deadLettered?(record: DeadLetter): void;
  /**
   * Where the source is — what it has emitted so far — for a checkpoint
   * (structured-cloneable). Called between two records.
   */
  snapshotPosition?(): unknown;
  /** Called before run() with the position of the last checkpoint: the source resumes right after it. */
  restorePosition?(position: unknown): void;
  /** The checkpoint that holds `position` is durable (a Kafka source commits its offsets then, not before). */
  checkpointComplete?(position: unknown): void;
}

/** What the runtime gives a sink. */
export interface SinkContext {
  readonly pipeline: string;
  readonly nodeId: number;
  readonly options: Readonly<Record<string, any>>;
  /** Parallelism of the sink node (print uses it for the `n>` prefix). */
  readonly parallelism: number;
  readonly log: Logger;
  /** Which run of the sink this is when a job runs it more than once (a stage worker's task: `task-<i>`); names what it leaves on servers (XA transactions). */
  readonly instance?: string;
  /** Reports a record the sink's server rejected (a constraint, a value of the wrong type), with the server's message; throws under --fail-fast. */
  deadLetter?(record: DeadLetter): void;
}

/** A sink: `write` is synchronous and buffers; `flush` and `close` make the data durable. */
export interface SinkConnector {
  write(value: unknown, subtask: number): void;
  flush(): Promise<void>;
  /** The job ended normally (input done, or stopped by SIGTERM): publish the output. */
  close(): Promise<void>;
  /** The job failed: drop the output not yet published (a file sink deletes its temporary file). Called instead of close. */
  abort?(): Promise<void>;
  /**
   * The job stopped at a bad record under --fail-fast: write out everything
   * produced so far without publishing it as the job's result, and say where
   * it is (a file sink leaves `<file>.partial`). Called instead of close; a
   * sink without it is closed.
   */
  keepPartial?(): Promise<string>;
  /**
   * Checkpoints (Flink's CheckpointedFunction and two-phase commit): in a job
   * that takes checkpoints, called once before the first record with this
   * sink's state from the last durable checkpoint (undefined on a fresh
   * start). A sink that has it publishes only on checkpoints.
   */
  initializeState?(state: unknown): void;
  /**
   * Called at a checkpoint's cut, between two records (synchronously): the
   * sink stages what it was given so far and returns what a restart needs to
   * publish exactly that (pre-commit). `flush` follows before the checkpoint
   * is made durable.
   */
  snapshotState?(): unknown;
  /** The checkpoint holding this state is durable: publish what it staged (commit). */
  notifyCheckpointComplete?(state: unknown): void;
}

/**
 * Process-wide resources connectors open (a Kafka client, a database pool),
 * closed by the runner when the job ends so the process can exit.
 */
export const processResources = new Set<() => Promise<void>>();

/**
 * Servers other than Kafka that connectors cannot reach right now (a
 * database down, its connection being retried), by server: since when and
 * why. A connector adds its server when an operation fails for a lost
 * connection and removes it when one succeeds again; a stage worker's
 * /healthz reports a server unreachable for longer than its grace period.
 */
export const unreachableServers = new Map<string, { since: number; reason: string }>();

/** Closes every registered process resource. */
export async function closeProcessResources(): Promise<void> {
  for (const close of [...processResources]) { processResources.delete(close); await close().catch(() => undefined); }
}

/** Yields to the event loop so timers and I/O run during long synchronous loops. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
