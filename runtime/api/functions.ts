/**
 * The user-function interfaces of the DSL, with Flink's names: process
 * functions and their contexts, keyed state, timers, metrics, side-output tags
 * and aggregate functions. Types only, plus `sideOutput()`.
 */

/** A named side output (Flink's OutputTag). Create one with `sideOutput<T>('name')`. */
export interface OutputTag<T> {
  readonly kind: 'outputTag';
  readonly name: string;
  /** Phantom field carrying T; never set. */
  readonly __type?: (value: T) => void;
}

/** Declares a side output whose records have type T. Tag names must be unique within a pipeline. */
export function sideOutput<T>(name: string): OutputTag<T> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('sideOutput(name): name must be a non-empty string');
  return { kind: 'outputTag', name };
}

/** The values of a user metric's own labels, one per label it declared: `{ status: 200 }`. */
export type MetricLabels<L extends string> = { readonly [P in L]: string | number };

/** A user counter: only goes up (Prometheus counter). */
export interface Counter<L extends string = never> {
  /** Adds `by` (default 1; not negative). */
  inc(by?: number): void;
  inc(labels: MetricLabels<L>, by?: number): void;
}

/** A user gauge: a value that goes up and down (Prometheus gauge). */
export interface Gauge<L extends string = never> {
  set(value: number): void;
  set(labels: MetricLabels<L>, value: number): void;
  inc(by?: number): void;
  inc(labels: MetricLabels<L>, by?: number): void;
  dec(by?: number): void;
  dec(labels: MetricLabels<L>, by?: number): void;
}

/** A user histogram: observations counted in buckets (Prometheus histogram). */
export interface Histogram<L extends string = never> {
  observe(value: number): void;
  observe(labels: MetricLabels<L>, value: number): void;
}

/**
 * User metrics (Flink's metric group), exported on the worker's /metrics
 * endpoint under `name` with the operator's labels (pipeline, stage,
 * operator, uid, task) plus the label names given here. A name is one metric
 * on the endpoint: several operators may use it with the same type and
 * labels. Names are Prometheus names (letters, digits, `_`; not starting with
 * `pipec_`, which is pipec's own).
 */
export interface Metrics {
  counter<L extends string = never>(name: string, help?: string, labels?: readonly L[]): Counter<L>;
  gauge<L extends string = never>(name: string, help?: string, labels?: readonly L[]): Gauge<L>;
  /** `buckets`: upper bounds, ascending (default Prometheus's, 0.005 to 10). */
  histogram<L extends string = never>(name: string, help?: string, labels?: readonly L[], buckets?: readonly number[]): Histogram<L>;
}

/** What every process function's context offers. */
export interface Context<O> {
  /** Sends a record downstream (Flink's Collector.collect). */
  emit(value: O): void;
  /** Sends a record to a side output. */
  output<S>(tag: OutputTag<S>, value: S): void;
  /** The event-time timestamp of the current record, or undefined when the stream has none. */
  readonly timestamp: number | undefined;
  /** The current event-time watermark of this operator (-Infinity before the first). */
  readonly currentWatermark: number;
  readonly metrics: Metrics;
}

/** A non-keyed ProcessFunction: `stream.process({ processElement(v, ctx) { ... } })`. */
export interface ProcessFunction<I, O> {
  open?(ctx: Context<O>): void | Promise<void>;
  processElement(value: I, ctx: Context<O>): void;
  close?(): void | Promise<void>;
}

/** Flink's ValueState. */
export interface ValueState<S> { value(): S | undefined; update(value: S): void; clear(): void }
/** Flink's ListState. */
export interface ListState<S> { get(): Iterable<S>; add(value: S): void; addAll(values: Iterable<S>): void; update(values: Iterable<S>): void; clear(): void }
/** Flink's MapState. */
export interface MapState<K, V> {
  get(key: K): V | undefined; put(key: K, value: V): void; contains(key: K): boolean; remove(key: K): void;
  entries(): Iterable<[K, V]>; keys(): Iterable<K>; values(): Iterable<V>; clear(): void;
}
/** Flink's ReducingState. */
export interface ReducingState<S> { get(): S | undefined; add(value: S): void; clear(): void }
/** Flink's AggregatingState. */
export interface AggregatingState<I, O> { get(): O | undefined; add(value: I): void; clear(): void }

/** Keyed state, scoped to the current key and checkpointed. */
export interface KeyedStateStore {
  value<S>(name: string): ValueState<S>;
  list<S>(name: string): ListState<S>;
  map<MK, MV>(name: string): MapState<MK, MV>;
  reducing<S>(name: string, reduce: (a: S, b: S) => S): ReducingState<S>;
  aggregating<I, A, O>(name: string, aggregate: AggregateFunction<I, A, O>): AggregatingState<I, O>;
}

/** Keyed timers: deduplicated per key and timestamp, deletable, checkpointed. */
export interface TimerService {
  eventTime(timestamp: number): void;
  processingTime(timestamp: number): void;
  deleteEventTime(timestamp: number): void;
  deleteProcessingTime(timestamp: number): void;
  currentProcessingTime(): number;
}

/** The context of a KeyedProcessFunction. */
export interface KeyedContext<K, O> extends Context<O> {
  readonly key: K;
  readonly state: KeyedStateStore;
  readonly timers: TimerService;
}

/** The context of `onTimer`: which time domain fired. */
export interface OnTimerContext<K, O> extends KeyedContext<K, O> {
  readonly timeDomain: 'event' | 'processing';
}

/** Flink's KeyedProcessFunction. */
export interface KeyedProcessFunction<K, I, O> {
  open?(ctx: KeyedContext<K, O>): void | Promise<void>;
  processElement(value: I, ctx: KeyedContext<K, O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K, O>): void;
  close?(): void | Promise<void>;
}

/** A two-input process function for `connect(...).process(...)`. */
export interface CoProcessFunction<I1, I2, O> {
  open?(ctx: Context<O>): void | Promise<void>;
  processElement1(value: I1, ctx: Context<O>): void;
  processElement2(value: I2, ctx: Context<O>): void;
  close?(): void | Promise<void>;
}

/** Flink's KeyedCoProcessFunction: a two-input function over keyed connected streams, with keyed state and timers. */
export interface KeyedCoProcessFunction<K, I1, I2, O> {
  open?(ctx: KeyedContext<K, O>): void | Promise<void>;
  processElement1(value: I1, ctx: KeyedContext<K, O>): void;
  processElement2(value: I2, ctx: KeyedContext<K, O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K, O>): void;
  close?(): void | Promise<void>;
}

/** The context of an interval join's processElement (Flink's ProcessJoinFunction.Context). */
export interface ProcessJoinContext<K, O> {
  /** Sends a record downstream; its timestamp is `timestamp`. */
  emit(value: O): void;
  /** Sends a record to a side output. */
  output<S>(tag: OutputTag<S>, value: S): void;
  /** The join key of the pair. */
  readonly key: K;
  /** The left element's timestamp. */
  readonly leftTimestamp: number;
  /** The right element's timestamp. */
  readonly rightTimestamp: number;
  /** The pair's timestamp: the larger of the two (what emitted records carry). */
  readonly timestamp: number;
  /** The operator's current event-time watermark. */
  readonly currentWatermark: number;
  readonly metrics: Metrics;
}

/** Flink's ProcessJoinFunction: called once per joined pair of an interval join. */
export interface ProcessJoinFunction<K, L, R, O> {
  open?(): void | Promise<void>;
  processElement(left: L, right: R, ctx: ProcessJoinContext<K, O>): void;
  close?(): void | Promise<void>;
}

/** Flink's AggregateFunction. `merge` is required for session windows. */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  merge?(a: ACC, b: ACC): ACC;
}

/** A time window [start, end). */
export interface TimeWindow { readonly start: number; readonly end: number }
/** A count window: the index of its last element within its key. */
export interface CountWindow { readonly id: number }

/** Window metadata passed to `project(result, { key, window })`. */
export interface WindowMeta<K, W> { readonly key: K; readonly window: W }
