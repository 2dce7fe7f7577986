/**
 * Window assigners (`windows.*`). Each returns a plain descriptor with every
 * duration already in milliseconds; the runtime's WindowOperator interprets it.
 */
import { parseDuration, type Duration } from './duration.ts';

/** Which clock a time window follows: event time (needs `assignTimestamps`) or processing time. */
export type TimeDomain = 'event' | 'processing';

/** Tumbling, sliding and session windows over time. */
export interface TimeWindowAssigner {
  readonly kind: 'windowAssigner';
  readonly type: 'tumbling' | 'sliding' | 'session';
  /** Window length in ms (tumbling, sliding). */
  readonly size: number;
  /** Distance between window starts in ms (sliding; equals size for tumbling). */
  readonly slide: number;
  readonly offset: number;
  /** Session gap in ms (session). */
  readonly gap: number;
  readonly time: TimeDomain;
}

/** Count windows: fire every `slide` elements of a key, over the last `size`. */
export interface CountWindowAssigner {
  readonly kind: 'windowAssigner';
  readonly type: 'count';
  readonly size: number;
  readonly slide: number;
}

/** Any window assigner. */
export type WindowAssigner = TimeWindowAssigner | CountWindowAssigner;

function positive(what: string, value: number): number {
  if (!(value > 0)) throw new RangeError(`${what} must be greater than 0, got ${value}`);
  return value;
}

/** The window assigners, with Flink's semantics (DESIGN.md §2). */
export const windows = {
  /** Fixed, non-overlapping windows of `size`, shifted by `offset`. */
  tumbling(options: { size: Duration; offset?: Duration; time?: TimeDomain }): TimeWindowAssigner {
    const size = positive('tumbling window size', parseDuration(options.size));
    return { kind: 'windowAssigner', type: 'tumbling', size, slide: size, offset: parseDuration(options.offset ?? 0), gap: 0, time: options.time ?? 'event' };
  },
  /** Windows of `size` starting every `slide`. */
  sliding(options: { size: Duration; slide: Duration; offset?: Duration; time?: TimeDomain }): TimeWindowAssigner {
    const size = positive('sliding window size', parseDuration(options.size));
    const slide = positive('sliding window slide', parseDuration(options.slide));
    return { kind: 'windowAssigner', type: 'sliding', size, slide, offset: parseDuration(options.offset ?? 0), gap: 0, time: options.time ?? 'event' };
  },
  /** Per-key sessions that close after `gap` without elements; touching sessions merge. */
  session(options: { gap: Duration; time?: TimeDomain }): TimeWindowAssigner {
    const gap = positive('session gap', parseDuration(options.gap));
    return { kind: 'windowAssigner', type: 'session', size: 0, slide: 0, offset: 0, gap, time: options.time ?? 'event' };
  },
  /** Every `slide` (default `size`) elements of a key, over its last `size` elements. */
  count(options: { size: number; slide?: number }): CountWindowAssigner {
    const size = positive('count window size', options.size);
    return { kind: 'windowAssigner', type: 'count', size, slide: positive('count window slide', options.slide ?? size) };
  },
};
