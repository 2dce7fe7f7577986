/**
 * The contract between generated stage code and the runtime. A generated
 * module exports one StageDefinition; the runtime calls `create(env)` once per
 * parallel instance (Flink's subtask, Kafka Streams' StreamTask) and feeds the
 * returned StageInstance.
 */
import type { Graph, GraphNode, NodeSpecs } from '../api/graph.ts';
import type { Metrics } from '../api/functions.ts';
import type { SinkConnector, SinkContext, SourceConnector, SourceContext } from './connectors/types.ts';
import type { KeyedStateBackend } from './state/backend.ts';
import type { InternalTimerService } from './state/timers.ts';
import type { ProcessingTimeService } from './time.ts';
import type { WatermarkGenerator } from './watermarks.ts';

/** A record crossing a stage boundary: key (for hash edges), value, event timestamp. */
export type EdgeInput = (key: unknown, value: unknown, timestamp: number | undefined) => void;

/** Where a stage writes records bound for another stage (Flink's RecordWriter). */
export interface EdgeOutput {
  collect(key: unknown, value: unknown, timestamp: number | undefined): void;
}

/** A sink as the generated code sees it: write one record. */
export interface SinkWriter {
  write(value: unknown, timestamp: number | undefined): void;
}

/** What the runtime offers one stage instance. */
export interface StageEnv {
  readonly graph: Graph;
  readonly subtask: number;
  readonly parallelism: number;
  readonly mode: 'batch' | 'streaming';
  /** The user function (or function object) of a node, from the graph rebuilt at start-up. */
  fn<F = (...args: any[]) => any>(nodeId: number): F;
  node(nodeId: number): GraphNode;
  /** Registers a source: the runtime creates the connector and drives it, calling `emit` per record. */
  source(nodeId: number, create: (ctx: SourceContext) => SourceConnector, emit: (value: any, timestamp: number | undefined) => void): void;
  /** A writer for a sink node (one connector shared by this process's instances of the node). */
  sink(nodeId: number, create: (ctx: SinkContext) => SinkConnector): SinkWriter;
  /** The output of a cut edge. */
  output(edgeId: string): EdgeOutput;
  /** Keyed state of a rolling aggregation: the value per key. */
  keyedState<S>(nodeId: number): Map<unknown, S>;
  /** The keyed state backend of an operator (one per node per instance). */
  backend(nodeId: number): KeyedStateBackend;
  /** The timers of an operator. */
  timers(nodeId: number): InternalTimerService;
  /** Processing time (the wall clock, or a manual clock in tests). */
  readonly time: ProcessingTimeService;
  /** The watermark generator of an assignTimestamps node. */
  watermarkGenerator(nodeId: number, spec: NodeSpecs['assignTimestamps']): WatermarkGenerator;
  /** Registers an event-time operator's watermark callback (`onIdle`: told when every input of the operator goes idle, or one is active again). */
  onWatermark(nodeId: number, onWatermark: (watermark: number) => void, onIdle?: (idle: boolean) => void): void;
  /** The watermark an operator that holds watermarks back (asyncMap) sends downstream: origin `async:<node>`, raised by it alone. */
  heldWatermark(nodeId: number): { advance(watermark: number): void; setIdle(idle: boolean): void };
  /** Registers an operator whose calls complete later (asyncMap), which the job drives (see AsyncOperator). */
  asyncOperator(nodeId: number, operator: AsyncOperator): void;
  /**
   * Runs work that an asynchronous completion makes (results going on, the
   * watermarks held behind them) as an entry into generated code, between
   * records: ctx.emit is valid, an exception fails the job, and a stage
   * worker counts what it sends and dead-letters as its task's output.
   */
  asyncEntry(work: () => void): void;
  /**
   * Inside asyncEntry: sends one completed call's result on (`send`). An
   * exception in the user's code downstream makes `value`, the call's input, a
   * dead letter, as it would a record's.
   */
  completed(nodeId: number, position: number, value: unknown, send: () => void): void;
  /**
   * Inside asyncEntry: a call of the node rejected, threw or timed out (an
   * AsyncTimeoutError): its input `value` goes to the dead-letter output with
   * the reason and location, counted, and the job goes on (--fail-fast: it stops).
   */
  callFailed(nodeId: number, position: number, value: unknown, error: unknown): void;
  /** The job was stopped (SIGTERM) rather than reaching the end of its input: close() then fires nothing, it only releases. */
  readonly stopped: boolean;
  /** Sends a record to a side output: to `route` (the generated reader) when one exists; observed by pipec/testing. */
  sideOutput(tag: string, route: ((value: any, ts: number | undefined) => void) | undefined, value: unknown, ts: number | undefined): void;
  /** User metrics of an operator (ctx.metrics). */
  metrics(nodeId: number): Metrics;
  /** Adds to one of the runtime's counters (e.g. droppedLateRecords). */
  count(nodeId: number, name: string, by?: number): void;
  /**
   * Calls into generated code in progress: a record, a timer, a watermark, the
   * end of input. Zero means user code runs on its own (a setTimeout callback,
   * a promise continuation, open()), where ctx.emit is an error.
   */
  readonly calls: { readonly depth: number };
  /** How messages name an operator: its label and DSL call, `process (pipeline.ts:12:6)`. */
  operatorName(nodeId: number): string;
  /** Fails the job with an error (logged; exit code 1), e.g. ctx.emit called outside a call. */
  fail(error: Error): void;
}

/** An operator whose calls complete later (asyncMap), as the job drives it. */
export interface AsyncOperator {
  /** As many records as its capacity are in it: the job takes no more input until `room()` resolves (backpressure). */
  readonly full: boolean;
  room(): Promise<void>;
  /** Whether nothing is in flight or held back in it. */
  readonly empty: boolean;
  /** Resolves once it is empty (at once when it has stopped). */
  drained(): Promise<void>;
  /** Every instance is open: calls restored from a checkpoint are made again, before any new record; returns how many. */
  start(): number;
  /** The job stopped or failed: nothing more leaves it; what it holds stays in its checkpointed state. */
  stop(): void;
}

/** One running instance of a stage. */
export interface StageInstance {
  /** Entry points for records arriving over cut edges, by edge id. */
  inputs: Record<string, EdgeInput>;
  /** Runs the user functions' `open(ctx)` (which may be async); awaited before the instance gets its first record. */
  open(): Promise<void>;
  /** Called once every input of the instance has ended, before the final +∞ watermark (batch: emit final values). */
  finish(): void;
  /**
   * Called after the final watermark: fires processing-time windows (at once,
   * before the promise), waits for its asyncMaps' calls to complete, then runs
   * the user functions' `close()` (which may be async); the job awaits it
   * before its sinks close. When the job is stopped (`env.stopped`) it is
   * called without the final watermark and fires nothing.
   */
  close(): Promise<void>;
}

/** What a generated stage module exports. */
export interface StageDefinition {
  id: number;
  parallelism: number;
  create(env: StageEnv): StageInstance;
}

