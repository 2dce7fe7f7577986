/**
 * IntervalJoinOperator, as Flink's: a left element at time l joins every right
 * element of its key at time r with l + lowerBound <= r <= l + upperBound
 * (inclusive bounds; exclusive ones were moved by 1 ms when the DSL built the
 * node). Both sides are buffered per key in the keyed state backend (tables
 * `left` and `right`: buckets of elements by timestamp, ascending), so they
 * checkpoint and restore by key group like every other state.
 *
 * - An element whose timestamp is behind the operator's watermark is late: it
 *   is dropped and counted (or sent to the side's late-data tag) and joins
 *   nothing, as Flink's `timestamp < currentWatermark`.
 * - Otherwise it is buffered, then joined with the other side's buffered
 *   elements in its interval; each pair goes to processElement(left, right,
 *   ctx) with the larger of the two timestamps.
 * - Each buffered element sets an event-time cleanup timer (Flink's: left at
 *   l + upperBound, right at r − lowerBound, or at its own time when that
 *   bound is on the other side of 0); when the watermark passes it, the bucket
 *   is removed, and a key with nothing left leaves the backend. One timer per
 *   key and timestamp serves both sides: the buckets of each side whose
 *   cleanup time has come go.
 *
 * In: elements of the left (1) and right (2) input with key and timestamp,
 * watermarks. Out: what the user's function emits, at max(l, r).
 */
import type { Metrics, OutputTag, ProcessJoinContext, ProcessJoinFunction } from '../../api/functions.ts';
import type { IntervalJoinSpec } from '../../api/graph.ts';
import { InvalidTimestampError } from '../partitioning.ts';
import { copy } from '../records.ts';
import type { KeyedStateBackend } from '../state/backend.ts';
import type { InternalTimerService } from '../state/timers.ts';

/** Elements of one side and key with one timestamp. */
interface Bucket { ts: number; values: unknown[] }
/** One side's buffer of one key: buckets in ascending timestamp order. */
type Buffer = Bucket[];

/** Everything an interval join needs from the runtime. */
export interface IntervalJoinContext {
  nodeId: number;
  spec: IntervalJoinSpec;
  fn: ProcessJoinFunction<unknown, unknown, unknown, unknown>;
  /** Per side: the function may change the records it is given, so each call gets its own copies (they stay buffered). */
  copies: [boolean, boolean];
  backend: KeyedStateBackend;
  timers: InternalTimerService;
  metrics: Metrics;
  emit(value: unknown, ts: number): void;
  output(tag: string, value: unknown, ts: number): void;
  /** A late element of a side with no late-data tag: dropped and counted. */
  late(): void;
}

type MutableJoinContext = { -readonly [P in keyof ProcessJoinContext<unknown, unknown>]: ProcessJoinContext<unknown, unknown>[P] };

/** The index of the first bucket at or after `ts`. */
function lowerBound(buffer: Buffer, ts: number): number {
  let lo = 0, hi = buffer.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (buffer[mid].ts < ts) lo = mid + 1; else hi = mid; }
  return lo;
}

/** The interval join of one keyed stage instance. */
export class IntervalJoinOperator {
  private watermark = -Infinity;
  private readonly left: Map<unknown, Buffer>;
  private readonly right: Map<unknown, Buffer>;
  private readonly context: MutableJoinContext;

  constructor(private readonly ctx: IntervalJoinContext) {
    this.left = ctx.backend.table<Buffer>('left');
    this.right = ctx.backend.table<Buffer>('right');
    const context: MutableJoinContext = {
      key: undefined, leftTimestamp: 0, rightTimestamp: 0, timestamp: 0, currentWatermark: -Infinity, metrics: ctx.metrics,
      emit: (value) => ctx.emit(value, context.timestamp),
      output: <S>(tag: OutputTag<S>, value: S) => ctx.output(tag.name, value, context.timestamp),
    };
    this.context = context;
  }

  /** The user's open(), awaited before the first element. */
  async open(): Promise<void> {
    await this.ctx.fn.open?.();
  }

  /** The user's close(), at the end. */
  async close(): Promise<void> {
    await this.ctx.fn.close?.();
  }

  /** An element of the left input. */
  processElement1(key: unknown, value: unknown, ts: number | undefined): void {
    const { lowerBound: lower, upperBound: upper } = this.ctx.spec;
    this.processElement(key, value, ts, true, lower, upper);
  }

  /** An element of the right input: the same interval, seen from the other side. */
  processElement2(key: unknown, value: unknown, ts: number | undefined): void {
    const { lowerBound: lower, upperBound: upper } = this.ctx.spec;
    this.processElement(key, value, ts, false, -upper, -lower);
  }

  private processElement(key: unknown, value: unknown, ts: number | undefined, isLeft: boolean, relativeLower: number, relativeUpper: number): void {
    // Flink fails the job on an element without a timestamp; here it is a dead letter (the build already refuses an input without timestamps, PC1141).
    if (typeof ts !== 'number') throw new InvalidTimestampError(this.ctx.nodeId, ts);
    if (ts < this.watermark) { this.lateElement(value, ts, isLeft); return; }
    this.ctx.backend.currentKey = key;
    const ours = isLeft ? this.left : this.right;
    let buffer = ours.get(key);
    if (!buffer) { buffer = []; ours.set(key, buffer); }
    // In-order elements (the usual case) go to the end; others are inserted in timestamp order.
    const last = buffer.length > 0 ? buffer[buffer.length - 1] : undefined;
    if (!last || last.ts < ts) buffer.push({ ts, values: [value] });
    else if (last.ts === ts) last.values.push(value);
    else {
      const at = lowerBound(buffer, ts);
      if (buffer[at].ts === ts) buffer[at].values.push(value);
      else buffer.splice(at, 0, { ts, values: [value] });
    }

    // The other side is only read: Map.prototype.get does not mark its entry as changed for the next checkpoint.
    const other = Map.prototype.get.call(isLeft ? this.right : this.left, key) as Buffer | undefined;
    if (other) {
      const from = ts + relativeLower, to = ts + relativeUpper;
      for (let i = lowerBound(other, from); i < other.length && other[i].ts <= to; i++) {
        const bucket = other[i];
        for (const otherValue of bucket.values) {
          if (isLeft) this.collect(key, value, otherValue, ts, bucket.ts);
          else this.collect(key, otherValue, value, bucket.ts, ts);
        }
      }
    }
    this.ctx.timers.register('event', key, relativeUpper > 0 ? ts + relativeUpper : ts);
  }

  private collect(key: unknown, left: unknown, right: unknown, leftTs: number, rightTs: number): void {
    const c = this.context;
    c.key = key;
    c.leftTimestamp = leftTs;
    c.rightTimestamp = rightTs;
    c.timestamp = Math.max(leftTs, rightTs);
    const [copyLeft, copyRight] = this.ctx.copies;
    this.ctx.fn.processElement(copyLeft ? copy(left) : left, copyRight ? copy(right) : right, c);
  }

  private lateElement(value: unknown, ts: number, isLeft: boolean): void {
    const tag = isLeft ? this.ctx.spec.leftLateDataTag : this.ctx.spec.rightLateDataTag;
    if (tag === undefined) this.ctx.late();
    else this.ctx.output(tag, value, ts);
  }

  /** The watermark rose: cleanup timers at or before it remove what no later element can join. */
  onWatermark(watermark: number): void {
    this.watermark = watermark;
    this.context.currentWatermark = watermark;
    this.ctx.timers.advance('event', watermark, (key, timestamp) => this.cleanUp(key, timestamp));
  }

  /**
   * Flink's onEventTime: the left bucket whose cleanup time is `timestamp`,
   * and the right one. Buckets are sorted, so this drops every bucket at or
   * before that time from the front: with the bounds the buckets were added
   * under, those are exactly the ones whose timers have fired. State restored
   * under other bounds (an upgrade changed them) is cleaned up by the new
   * ones: the first bucket left gets its cleanup timer (a no-op when it has one).
   */
  private cleanUp(key: unknown, timestamp: number): void {
    const { lowerBound: lower, upperBound: upper } = this.ctx.spec;
    this.ctx.backend.currentKey = key;
    this.dropThrough(this.left, key, upper <= 0 ? timestamp : timestamp - upper, Math.max(upper, 0));
    this.dropThrough(this.right, key, lower <= 0 ? timestamp + lower : timestamp, Math.max(-lower, 0));
  }

  /** Drops a key's buckets at or before `last`; what is left keeps a cleanup timer at its first bucket + `delay`. */
  private dropThrough(table: Map<unknown, Buffer>, key: unknown, last: number, delay: number): void {
    const buffer = Map.prototype.get.call(table, key) as Buffer | undefined;
    if (!buffer) return;
    let drop = 0;
    while (drop < buffer.length && buffer[drop].ts <= last) drop++;
    if (drop > 0) {
      buffer.splice(0, drop);
      if (buffer.length === 0) { table.delete(key); return; }
      table.set(key, buffer);
    }
    this.ctx.timers.register('event', key, buffer[0].ts + delay);
  }
}
