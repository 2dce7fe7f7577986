/**
 * The DSL's joins, with Flink's names: window joins and coGroups
 * (`a.join(b).where(ka).equalTo(kb).window(assigner).apply(fn)`, Flink's
 * JoinedStreams and CoGroupedStreams) and interval joins
 * (`a.keyBy(ka).intervalJoin(b.keyBy(kb)).between(lower, upper).process(fn)`,
 * Flink's KeyedStream.IntervalJoin). `where` and `equalTo` add a keyBy node on
 * each input, so both inputs are repartitioned by key into the stage of the
 * join node; nothing runs here.
 */
import type { GraphBuilder, GraphNode } from './graph.ts';
import { parseDuration, parseSignedDuration, type Duration } from './duration.ts';
import type { OutputTag, ProcessJoinFunction, WindowMeta } from './functions.ts';
import type { WindowAssigner } from './windows.ts';
import { DataStream, type WindowOf } from './datastream.ts';

/** Which function a two-input window operator takes. */
type JoinMode = 'join' | 'coGroup';

/** What `.window(...)` returns for a join (JoinWithWindow) or a coGroup (CoGroupWithWindow). */
export type WithWindowOf<M extends JoinMode, T1, T2, K, W> = M extends 'join' ? JoinWithWindow<T1, T2, K, W> : CoGroupWithWindow<T1, T2, K, W>;

/** Two streams to join or coGroup: choose the key of the first with `where`. */
abstract class TwoStreams<T1, T2, M extends JoinMode> {
  /** @internal */
  constructor(protected readonly builder: GraphBuilder, protected readonly first: GraphNode, protected readonly second: GraphNode, protected readonly mode: M) {}
  /** The key of the first stream's elements (a string, number or bigint). */
  where<K>(key: (value: T1) => K): JoinWhere<T1, T2, K, M> {
    const left = this.builder.add('keyBy', [this.first.id], {}, key);
    return new JoinWhere<T1, T2, K, M>(this.builder, left, this.second, this.mode);
  }
}

/** `a.join(b)`: Flink's JoinedStreams. Every pair of elements with equal keys in the same window goes to the join function. */
export class JoinedStreams<T1, T2> extends TwoStreams<T1, T2, 'join'> {}

/** `a.coGroup(b)`: Flink's CoGroupedStreams. Per key and window, the elements of both sides go to the function at once (one side may be empty). */
export class CoGroupedStreams<T1, T2> extends TwoStreams<T1, T2, 'coGroup'> {}

/** A join with the first key chosen: choose the second stream's with `equalTo`. */
export class JoinWhere<T1, T2, K, M extends JoinMode> {
  /** @internal */
  constructor(private readonly builder: GraphBuilder, private readonly left: GraphNode, private readonly second: GraphNode, private readonly mode: M) {}
  /** The key of the second stream's elements; it must have the key type of `where` (PC1140 otherwise). */
  equalTo<K2>(key: (value: T2) => K2): JoinEqualTo<T1, T2, K, M> {
    const right = this.builder.add('keyBy', [this.second.id], {}, key);
    return new JoinEqualTo<T1, T2, K, M>(this.builder, this.left, right, this.mode);
  }
}

/** A join with both keys chosen: choose its windows. */
export class JoinEqualTo<T1, T2, K, M extends JoinMode> {
  /** @internal */
  constructor(private readonly builder: GraphBuilder, private readonly left: GraphNode, private readonly right: GraphNode, private readonly mode: M) {}
  /** The windows both streams' elements are assigned to (tumbling, sliding, session, count; event or processing time). */
  window<A extends WindowAssigner>(assigner: A): WithWindowOf<M, T1, T2, K, WindowOf<A>> {
    const settings = { builder: this.builder, left: this.left, right: this.right, assigner };
    return (this.mode === 'join' ? new JoinWithWindow(settings) : new CoGroupWithWindow(settings)) as WithWindowOf<M, T1, T2, K, WindowOf<A>>;
  }
}

interface WindowJoinSettings { builder: GraphBuilder; left: GraphNode; right: GraphNode; assigner: WindowAssigner }

/** A windowed join or coGroup until its function is given. */
abstract class WithWindow<M extends JoinMode> {
  private lateness = 0;
  /** @internal */
  constructor(private readonly settings: WindowJoinSettings, private readonly mode: M) {}
  /** Keeps fired windows for `lateness` more: a late element fires its window again with the updated result. */
  allowedLateness(lateness: Duration): this {
    this.lateness = parseDuration(lateness);
    return this;
  }
  /** @internal */
  protected finish<O>(fn: unknown): DataStream<O> {
    const { builder, left, right, assigner } = this.settings;
    if (typeof fn !== 'function') throw new TypeError(`${this.mode}(...).apply(fn): fn must be a function`);
    const node = builder.add('windowJoin', [left.id, right.id], { function: this.mode, assigner, allowedLateness: this.lateness }, fn);
    return new DataStream<O>(builder, node);
  }
}

/** A window join: finish it with `apply`. */
export class JoinWithWindow<T1, T2, K, W> extends WithWindow<'join'> {
  /** @internal */
  constructor(settings: WindowJoinSettings) { super(settings, 'join'); }
  /**
   * Flink's JoinFunction: called for every pair (left, right) of elements with
   * equal keys in one window, left-major; `meta` gives the key and window.
   * Results carry the window's last timestamp (end − 1).
   */
  apply<O>(fn: (left: T1, right: T2, meta: WindowMeta<K, W>) => O): DataStream<O> {
    return this.finish<O>(fn);
  }
}

/** A window coGroup: finish it with `apply`. */
export class CoGroupWithWindow<T1, T2, K, W> extends WithWindow<'coGroup'> {
  /** @internal */
  constructor(settings: WindowJoinSettings) { super(settings, 'coGroup'); }
  /**
   * Flink's CoGroupFunction: called once per key and window with the elements
   * of both sides (one of them may be empty); returns the output records.
   * Results carry the window's last timestamp (end − 1).
   */
  apply<O>(fn: (first: readonly T1[], second: readonly T2[], meta: WindowMeta<K, W>) => Iterable<O>): DataStream<O> {
    return this.finish<O>(fn);
  }
}

/** `left.intervalJoin(right)`: choose the interval with `between`. */
export class IntervalJoin<T1, T2, K> {
  /** @internal */
  constructor(private readonly builder: GraphBuilder, private readonly left: GraphNode, private readonly right: GraphNode) {}
  /**
   * Joins `left` with every `right` of the same key whose timestamp is in
   * [left.ts + lower, left.ts + upper] (both inclusive, ms or signed
   * Durations such as '-2s'). Event time only: both inputs need timestamps.
   */
  between(lower: Duration, upper: Duration): IntervalJoined<T1, T2, K> {
    const lowerBound = parseSignedDuration(lower);
    const upperBound = parseSignedDuration(upper);
    if (lowerBound > upperBound) throw new RangeError(`intervalJoin(...).between(${lowerBound}, ${upperBound}): the lower bound must not be greater than the upper bound`);
    return new IntervalJoined<T1, T2, K>(this.builder, this.left, this.right, lowerBound, upperBound);
  }
}

/** An interval join with its bounds: finish it with `process`. */
export class IntervalJoined<T1, T2, K> {
  private lowerExclusive = false;
  private upperExclusive = false;
  private leftLateTag?: string;
  private rightLateTag?: string;
  /** @internal */
  constructor(private readonly builder: GraphBuilder, private readonly left: GraphNode, private readonly right: GraphNode, private readonly lower: number, private readonly upper: number) {}
  /** Excludes the lower bound: right.ts > left.ts + lower. */
  lowerBoundExclusive(): this { this.lowerExclusive = true; return this; }
  /** Excludes the upper bound: right.ts < left.ts + upper. */
  upperBoundExclusive(): this { this.upperExclusive = true; return this; }
  /** Sends left elements that arrive behind the watermark to `tag` instead of dropping them. */
  sideOutputLeftLateData(tag: OutputTag<T1>): this { this.leftLateTag = tag.name; return this; }
  /** Sends right elements that arrive behind the watermark to `tag` instead of dropping them. */
  sideOutputRightLateData(tag: OutputTag<T2>): this { this.rightLateTag = tag.name; return this; }
  /** Flink's ProcessJoinFunction: `processElement(left, right, ctx)` once per joined pair. */
  process<O>(fn: ProcessJoinFunction<K, T1, T2, O>): DataStream<O> {
    const node = this.builder.add('intervalJoin', [this.left.id, this.right.id], {
      lowerBound: this.lowerExclusive ? this.lower + 1 : this.lower,
      upperBound: this.upperExclusive ? this.upper - 1 : this.upper,
      lowerBoundExclusive: this.lowerExclusive,
      upperBoundExclusive: this.upperExclusive,
      ...(this.leftLateTag === undefined ? {} : { leftLateDataTag: this.leftLateTag }),
      ...(this.rightLateTag === undefined ? {} : { rightLateDataTag: this.rightLateTag }),
    }, fn);
    return new DataStream<O>(this.builder, node);
  }
}
