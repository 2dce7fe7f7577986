/**
 * The DSL's stream classes (Flink's DataStream API). Every method appends a
 * node to the GraphBuilder and returns the next stream; nothing runs here.
 * The compiler reads the resulting graph; workers rebuild it to get the user's
 * functions back by node id.
 */
import type { GraphBuilder, GraphNode, NodeKind, NodeSpecs, WindowSpec } from './graph.ts';
import type { Sink } from './connectors.ts';
import type { Duration } from './duration.ts';
import { parseDuration } from './duration.ts';
import type {
  AggregateFunction, CoProcessFunction, CountWindow, KeyedCoProcessFunction, KeyedProcessFunction, OutputTag,
  ProcessFunction, TimeWindow, WindowMeta,
} from './functions.ts';
import type { CountWindowAssigner, TimeWindowAssigner, WindowAssigner } from './windows.ts';
import { isWatermarkStrategy, type WatermarkStrategy } from './watermarks.ts';
import { CoGroupedStreams, IntervalJoin, JoinedStreams } from './joins.ts';

/** Numeric properties of T: what `sum`, `min`, `max`, `minBy`, `maxBy` accept. */
export type NumericField<T> = { [P in keyof T]-?: T[P] extends number | bigint ? P : never }[keyof T] & string;

/** Options of `assignTimestamps`: bounded out-of-orderness watermarks (or pass a strategy from `watermarks.*`). */
export interface WatermarkOptions {
  /** How late an element may be relative to the largest timestamp seen (default 0). */
  maxOutOfOrderness?: Duration;
  /** An input with no records for this long stops holding back the watermark. */
  idleTimeout?: Duration;
}

/** Options of `asyncMap` (Flink's async I/O: `AsyncDataStream.orderedWait / unorderedWait`). */
export interface AsyncMapOptions {
  /** Calls in flight per task at most (default 100); a full task takes no more input until one completes. */
  capacity?: number;
  /** How long one call may take (default '10s'); a call that takes longer sends its record to the dead-letter output. */
  timeout?: Duration;
  /**
   * `true` (default): results in input order. `false`: each result as soon as
   * its call completes, but never past a watermark that came after its record.
   */
  ordered?: boolean;
}

/** The window type an assigner produces. */
export type WindowOf<A extends WindowAssigner> = A extends CountWindowAssigner ? CountWindow : TimeWindow;

/** Base of every stream: holds the builder and the node that produces it. */
abstract class StreamBase {
  /** @internal */
  constructor(readonly builder: GraphBuilder, readonly node: GraphNode) {}

  /** @internal */
  protected add<K extends NodeKind>(kind: K, spec: NodeSpecs[K], fn?: unknown, extraInputs: number[] = []): GraphNode {
    return this.builder.add(kind, [this.node.id, ...extraInputs], spec, fn) as GraphNode;
  }
}

/** A stream of records of type T. */
export class DataStream<T> extends StreamBase {
  /** One output per input. */
  map<U>(fn: (value: T) => U): DataStream<U> {
    return new DataStream<U>(this.builder, this.add('map', {}, fn));
  }

  /** Keeps the records for which `fn` is true; a type guard narrows the stream's type. */
  filter<S extends T>(fn: (value: T) => value is S): DataStream<S>;
  filter(fn: (value: T) => boolean): DataStream<T>;
  filter(fn: (value: T) => boolean): DataStream<T> {
    return new DataStream<T>(this.builder, this.add('filter', {}, fn));
  }

  /** Zero or more outputs per input: `fn` returns an iterable (an array, a generator...). */
  flatMap<U>(fn: (value: T) => Iterable<U>): DataStream<U> {
    return new DataStream<U>(this.builder, this.add('flatMap', {}, fn));
  }

  /**
   * One output per input from an asynchronous call (Flink's async I/O): `fn`
   * returns a promise, and up to `capacity` calls run at once per task. A call
   * that rejects or takes longer than `timeout` sends its record to the
   * dead-letter output; calls in flight are part of checkpoints and are made
   * again after a restart.
   */
  asyncMap<U>(fn: (value: T) => Promise<U>, options: AsyncMapOptions = {}): DataStream<U> {
    const capacity = options.capacity ?? 100;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`asyncMap({ capacity: ${capacity} }): capacity must be a positive integer`);
    const timeout = parseDuration(options.timeout ?? '10s');
    if (timeout <= 0) throw new RangeError(`asyncMap({ timeout: ${JSON.stringify(options.timeout)} }): timeout must be longer than 0 ms`);
    const ordered = options.ordered ?? true;
    if (typeof ordered !== 'boolean') throw new TypeError(`asyncMap({ ordered: ${JSON.stringify(ordered)} }): ordered must be true or false`);
    return new DataStream<U>(this.builder, this.add('asyncMap', { capacity, timeout, ordered }, fn));
  }

  /** Hash-partitions by `fn(record)`; the key must be a string, number or bigint. */
  keyBy<K>(fn: (value: T) => K): KeyedStream<T, K> {
    return new KeyedStream<T, K>(this.builder, this.add('keyBy', {}, fn));
  }

  /**
   * Event time: `fn` gives each record's timestamp (ms), and watermarks follow
   * a strategy: `{ maxOutOfOrderness, idleTimeout }` (watermarks trail the
   * largest timestamp by maxOutOfOrderness), or one of `watermarks.*`
   * (bounded out-of-orderness, monotonous timestamps, your own generator; each
   * `.withIdleness(timeout)`), as Flink's assignTimestampsAndWatermarks.
   */
  assignTimestamps(fn: (value: T) => number, watermarks: WatermarkOptions | WatermarkStrategy<T> = {}): DataStream<T> {
    if (isWatermarkStrategy(watermarks)) {
      const { type, maxOutOfOrderness, idleTimeout, generator } = watermarks;
      const strategy = type === 'boundedOutOfOrderness' ? {} : { strategy: type };
      return new DataStream<T>(this.builder, this.add('assignTimestamps', { maxOutOfOrderness, idleTimeout, ...strategy }, generator ? [fn, generator] : fn));
    }
    const maxOutOfOrderness = parseDuration(watermarks.maxOutOfOrderness ?? 0);
    const idleTimeout = watermarks.idleTimeout === undefined ? undefined : parseDuration(watermarks.idleTimeout);
    return new DataStream<T>(this.builder, this.add('assignTimestamps', { maxOutOfOrderness, idleTimeout }, fn));
  }

  /** A ProcessFunction: emit any number of records and side outputs per input. */
  process<U>(fn: ProcessFunction<T, U>): DataStream<U> {
    return new DataStream<U>(this.builder, this.add('process', {}, fn));
  }

  /** Merges streams of the same type. */
  union(...others: DataStream<T>[]): DataStream<T> {
    return new DataStream<T>(this.builder, this.add('union', {}, undefined, others.map((s) => s.node.id)));
  }

  /** Pairs this stream with another for a two-input function. */
  connect<U>(other: DataStream<U>): ConnectedStreams<T, U> {
    return new ConnectedStreams<T, U>(this.builder, this.node, other.node, false);
  }

  /**
   * A window join (Flink's JoinedStreams): `a.join(b).where(ka).equalTo(kb)
   * .window(assigner).apply((left, right) => ...)` gets every pair of elements
   * with equal keys in the same window. Both streams are repartitioned by key.
   */
  join<U>(other: DataStream<U>): JoinedStreams<T, U> {
    return new JoinedStreams<T, U>(this.builder, this.node, other.node, 'join');
  }

  /**
   * A window coGroup (Flink's CoGroupedStreams): like `join`, but `apply`
   * gets all elements of both sides for a key and window at once, also when
   * one side has none.
   */
  coGroup<U>(other: DataStream<U>): CoGroupedStreams<T, U> {
    return new CoGroupedStreams<T, U>(this.builder, this.node, other.node, 'coGroup');
  }

  /** Windows over the whole (non-keyed) stream; runs at parallelism 1. */
  windowAll<A extends WindowAssigner>(assigner: A): AllWindowedStream<T, WindowOf<A>> {
    return new AllWindowedStream<T, WindowOf<A>>(this.builder, this.node, assigner);
  }

  /** The records a process or window function sent to `tag`. */
  getSideOutput<S>(tag: OutputTag<S>): DataStream<S> {
    return new DataStream<S>(this.builder, this.add('sideOutput', { tag: tag.name }));
  }

  /** Round-robin repartition. */
  rebalance(): DataStream<T> {
    return new DataStream<T>(this.builder, this.add('rebalance', {}));
  }

  /** Sets the parallelism of the operator that produces this stream. */
  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new RangeError(`setParallelism(${parallelism}): parallelism must be a positive integer`);
    this.node.parallelism = parallelism;
    return this;
  }

  /** Names the operator that produces this stream (shown in plans, metrics and logs). */
  name(name: string): this {
    this.node.name = name;
    return this;
  }

  /**
   * Sets the stable id of the operator that produces this stream (Flink's
   * `uid`): its checkpointed state is kept under this id, so a new version of
   * the pipeline restores it whatever else changed. Unique within a pipeline.
   */
  uid(id: string): this {
    this.node.uid = checkedUid(id);
    return this;
  }

  /** Writes the stream to a sink. A stream may have several sinks. */
  sink(sink: Sink<T>): DataStreamSink {
    return new DataStreamSink(this.add('sink', { connector: sink.connector, options: sink.options }));
  }
}

/** A terminal sink node: can be named and given its own parallelism. */
export class DataStreamSink {
  /** @internal */
  constructor(readonly node: GraphNode) {}
  /** Sets the sink's parallelism. */
  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new RangeError(`setParallelism(${parallelism}): parallelism must be a positive integer`);
    this.node.parallelism = parallelism;
    return this;
  }
  /** Names the sink. */
  name(name: string): this {
    this.node.name = name;
    return this;
  }
  /** Sets the sink's stable id (see DataStream.uid). */
  uid(id: string): this {
    this.node.uid = checkedUid(id);
    return this;
  }
}

/** An operator id as `uid(id)` takes it: a non-empty string. */
function checkedUid(id: string): string {
  if (typeof id !== 'string' || id.trim().length === 0) throw new TypeError(`uid(${JSON.stringify(id)}): the id must be a non-empty string`);
  return id;
}

/** A stream partitioned by key K: keyed state, timers, rolling aggregations and windows. */
export class KeyedStream<T, K> extends StreamBase {
  private rolling(op: NodeSpecs['rollingAggregate']['op'], field?: string, fn?: unknown): DataStream<T> {
    return new DataStream<T>(this.builder, this.add('rollingAggregate', field === undefined ? { op } : { op, field }, fn));
  }
  /** Rolling reduce per key: emits every update in streaming mode, the final value per key in batch mode. */
  reduce(fn: (a: T, b: T) => T): DataStream<T> { return this.rolling('reduce', undefined, fn); }
  /** Rolling sum of a numeric field per key. */
  sum(field: NumericField<T>): DataStream<T> { return this.rolling('sum', field); }
  /** Rolling minimum of a field per key (other fields from the first record, as in Flink). */
  min(field: NumericField<T>): DataStream<T> { return this.rolling('min', field); }
  /** Rolling maximum of a field per key (other fields from the first record, as in Flink). */
  max(field: NumericField<T>): DataStream<T> { return this.rolling('max', field); }
  /** The record with the smallest field value per key. */
  minBy(field: NumericField<T>): DataStream<T> { return this.rolling('minBy', field); }
  /** The record with the largest field value per key. */
  maxBy(field: NumericField<T>): DataStream<T> { return this.rolling('maxBy', field); }

  /** A KeyedProcessFunction with keyed state and timers. */
  process<U>(fn: KeyedProcessFunction<K, T, U>): DataStream<U> {
    return new DataStream<U>(this.builder, this.add('keyedProcess', {}, fn));
  }

  /** Windows per key. */
  window<A extends WindowAssigner>(assigner: A): WindowedStream<T, K, WindowOf<A>> {
    return new WindowedStream<T, K, WindowOf<A>>(this.builder, this.node, assigner);
  }

  /** Pairs two keyed streams: the two-input function gets keyed state and timers. */
  connect<U>(other: KeyedStream<U, K>): KeyedConnectedStreams<T, U, K> {
    return new KeyedConnectedStreams<T, U, K>(this.builder, this.node, other.node);
  }

  /**
   * An interval join (Flink's KeyedStream.intervalJoin): each element of this
   * stream joins the elements of `other` with the same key whose timestamps
   * lie in an interval around its own (`.between(lower, upper)`). Event time
   * only; both sides are buffered in keyed state until the watermark passes.
   */
  intervalJoin<U, K2>(other: KeyedStream<U, K2>): IntervalJoin<T, U, K> {
    return new IntervalJoin<T, U, K>(this.builder, this.node, other.node);
  }
}

/** Settings shared by keyed and non-keyed windowed streams until a window function is given. */
interface WindowSettings { assigner: WindowAssigner; allowedLateness: number; lateDataTag?: string }

/** A keyed stream cut into windows: finish it with `reduce`, `aggregate` or `process`. */
export class WindowedStream<T, K, W> {
  private readonly settings: WindowSettings;
  /** @internal */
  constructor(private readonly builder: GraphBuilder, private readonly input: GraphNode, assigner: WindowAssigner, protected readonly kind: 'window' | 'windowAll' = 'window') {
    this.settings = { assigner, allowedLateness: 0 };
  }
  /** Keeps fired windows for `lateness` more; a late element re-fires its window. */
  allowedLateness(lateness: Duration): this {
    this.settings.allowedLateness = parseDuration(lateness);
    return this;
  }
  /** Sends elements that arrive after their windows closed to `tag` instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.settings.lateDataTag = tag.name;
    return this;
  }
  private finish<U>(fn: WindowSpec['function'], userFn: unknown, project: unknown): DataStream<U> {
    const node = this.builder.add(this.kind, [this.input.id], { ...this.settings, function: fn, projected: project !== undefined }, [userFn, project]);
    return new DataStream<U>(this.builder, node);
  }
  /** Incremental reduce per window; `project` adds window metadata. */
  reduce(fn: (a: T, b: T) => T): DataStream<T>;
  reduce<P>(fn: (a: T, b: T) => T, project: (result: T, meta: WindowMeta<K, W>) => P): DataStream<P>;
  reduce(fn: (a: T, b: T) => T, project?: (result: T, meta: WindowMeta<K, W>) => unknown): DataStream<any> {
    return this.finish('reduce', fn, project);
  }
  /** Incremental aggregate per window (`agg.*` or your own AggregateFunction); `project` adds window metadata. */
  aggregate<A, R>(fn: AggregateFunction<T, A, R>): DataStream<R>;
  aggregate<A, R, P>(fn: AggregateFunction<T, A, R>, project: (result: R, meta: WindowMeta<K, W>) => P): DataStream<P>;
  aggregate<A, R>(fn: AggregateFunction<T, A, R>, project?: (result: R, meta: WindowMeta<K, W>) => unknown): DataStream<any> {
    return this.finish('aggregate', fn, project);
  }
  /** Every element of the window at once. */
  process<U>(fn: (key: K, window: W, elements: readonly T[], ctx: { currentWatermark: number }) => Iterable<U>): DataStream<U> {
    return this.finish('process', fn, undefined);
  }
}

/** A non-keyed stream cut into windows (parallelism 1). */
export class AllWindowedStream<T, W> extends WindowedStream<T, undefined, W> {
  /** @internal */
  constructor(builder: GraphBuilder, input: GraphNode, assigner: WindowAssigner) {
    super(builder, input, assigner, 'windowAll');
  }
}

/** Two streams joined for a two-input function. */
export class ConnectedStreams<A, B> {
  /** @internal */
  constructor(private readonly builder: GraphBuilder, private readonly first: GraphNode, private readonly second: GraphNode, private readonly keyed: boolean) {}
  /** One function per input, same output type. */
  map<U>(fn1: (value: A) => U, fn2: (value: B) => U): DataStream<U> {
    return new DataStream<U>(this.builder, this.builder.add('coMap', [this.first.id, this.second.id], { keyed: this.keyed }, [fn1, fn2]));
  }
  /** Flink's CoFlatMapFunction: one function per input, each returning an iterable of outputs. */
  flatMap<U>(fn1: (value: A) => Iterable<U>, fn2: (value: B) => Iterable<U>): DataStream<U> {
    return new DataStream<U>(this.builder, this.builder.add('coFlatMap', [this.first.id, this.second.id], { keyed: this.keyed }, [fn1, fn2]));
  }
  /** A CoProcessFunction (keyed state and timers when both inputs are keyed). */
  process<U>(fn: CoProcessFunction<A, B, U>): DataStream<U> {
    return new DataStream<U>(this.builder, this.builder.add('coProcess', [this.first.id, this.second.id], { keyed: this.keyed }, fn));
  }
}

/** Two keyed streams joined by key: the two-input function has keyed state and timers. */
export class KeyedConnectedStreams<A, B, K> {
  /** @internal */
  constructor(private readonly builder: GraphBuilder, private readonly first: GraphNode, private readonly second: GraphNode) {}
  /** One function per input, same output type. */
  map<U>(fn1: (value: A) => U, fn2: (value: B) => U): DataStream<U> {
    return new DataStream<U>(this.builder, this.builder.add('coMap', [this.first.id, this.second.id], { keyed: true }, [fn1, fn2]));
  }
  /** Flink's CoFlatMapFunction: one function per input, each returning an iterable of outputs. */
  flatMap<U>(fn1: (value: A) => Iterable<U>, fn2: (value: B) => Iterable<U>): DataStream<U> {
    return new DataStream<U>(this.builder, this.builder.add('coFlatMap', [this.first.id, this.second.id], { keyed: true }, [fn1, fn2]));
  }
  /** A KeyedCoProcessFunction. */
  process<U>(fn: KeyedCoProcessFunction<K, A, B, U>): DataStream<U> {
    return new DataStream<U>(this.builder, this.builder.add('coProcess', [this.first.id, this.second.id], { keyed: true }, fn));
  }
}

export type { TimeWindowAssigner };
