/**
 * Watermark strategies (Flink's WatermarkStrategy) for `assignTimestamps(fn, strategy)`:
 * bounded out-of-orderness, monotonous (ascending) timestamps, or your own
 * WatermarkGenerator, each optionally `.withIdleness(timeout)`. A strategy is
 * a plain descriptor; the runtime's watermark generators interpret it. The
 * older `{ maxOutOfOrderness, idleTimeout }` options of assignTimestamps mean
 * `forBoundedOutOfOrderness(maxOutOfOrderness).withIdleness(idleTimeout)`.
 */
import { parseDuration, type Duration } from './duration.ts';

/** What a WatermarkGenerator emits through (Flink's WatermarkOutput). */
export interface WatermarkOutput {
  /** Event time has reached `watermark` (ms): no more elements at or before it are expected. A watermark that does not rise is ignored. */
  emitWatermark(watermark: number): void;
  /** This input stops holding the watermark back until it emits again (or `markActive`). */
  markIdle(): void;
  /** This input holds the watermark back again. */
  markActive(): void;
}

/**
 * Your own watermark generator (Flink's WatermarkGenerator): `onEvent` after
 * each record (the record has been processed downstream first), and
 * `onPeriodicEmit` every auto-watermark interval of processing time
 * (`pipeline(..., { autoWatermarkInterval })`, default 200 ms). Its own
 * enumerable data fields are its state: they are checkpointed with the task
 * and restored after a restart (keep them structured-cloneable; variables in
 * a closure and #private fields are not checkpointed).
 */
export interface WatermarkGenerator<T> {
  onEvent(event: T, eventTimestamp: number, output: WatermarkOutput): void;
  onPeriodicEmit(output: WatermarkOutput): void;
}

/** How watermarks are made for a stream (Flink's WatermarkStrategy); create one with `watermarks.*`. */
export interface WatermarkStrategy<T> {
  readonly kind: 'watermarkStrategy';
  readonly type: 'boundedOutOfOrderness' | 'monotonous' | 'generator';
  /** ms (bounded out-of-orderness; 0 for monotonous timestamps). */
  readonly maxOutOfOrderness: number;
  /** An input with no records for this long (processing time) stops holding the watermark back. */
  readonly idleTimeout?: number;
  /** Makes the generator of each parallel instance (`forGenerator`). */
  readonly generator?: () => WatermarkGenerator<T>;
  /** The same strategy, marking an input idle after `timeout` without records (Flink's withIdleness). */
  withIdleness(timeout: Duration): WatermarkStrategy<T>;
}

function strategy<T>(type: WatermarkStrategy<T>['type'], maxOutOfOrderness: number, generator?: () => WatermarkGenerator<T>, idleTimeout?: number): WatermarkStrategy<T> {
  return {
    kind: 'watermarkStrategy', type, maxOutOfOrderness, ...(idleTimeout === undefined ? {} : { idleTimeout }), ...(generator ? { generator } : {}),
    withIdleness: (timeout) => strategy(type, maxOutOfOrderness, generator, parseDuration(timeout)),
  };
}

/** The watermark strategies, with Flink's names and semantics. */
export const watermarks = {
  /** watermark = largest timestamp seen − maxOutOfOrderness − 1 (Flink's BoundedOutOfOrdernessWatermarks), after each record that raises it. */
  forBoundedOutOfOrderness<T = any>(maxOutOfOrderness: Duration): WatermarkStrategy<T> {
    return strategy<T>('boundedOutOfOrderness', parseDuration(maxOutOfOrderness));
  },
  /** Timestamps never go back: watermark = largest timestamp seen − 1 (Flink's AscendingTimestampsWatermarks). */
  forMonotonousTimestamps<T = any>(): WatermarkStrategy<T> {
    return strategy<T>('monotonous', 0);
  },
  /**
   * Your own generator: `factory()` makes one per parallel instance, a class
   * instance or an object literal (whose methods may keep fields on `this`,
   * untyped there: a class types them).
   */
  forGenerator<T>(factory: () => WatermarkGenerator<T> & ThisType<WatermarkGenerator<T> & Record<string, any>>): WatermarkStrategy<T> {
    if (typeof factory !== 'function') throw new TypeError('watermarks.forGenerator(factory): factory must be a function returning { onEvent, onPeriodicEmit }');
    return strategy<T>('generator', 0, factory);
  },
};

/** True for values made by `watermarks.*`. */
export function isWatermarkStrategy(value: unknown): value is WatermarkStrategy<unknown> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'watermarkStrategy';
}
