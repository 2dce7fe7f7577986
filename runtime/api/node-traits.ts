/**
 * What every phase of the compiler and the runtime needs to know about a kind
 * of node, in one table (as esbuild keeps operator facts in one OpTable): how
 * it partitions its output, whether it keeps state, needs keys, reacts to
 * watermarks or starts them, emits later. A new kind of node is one row here; the
 * `Record<NodeKind, …>` type refuses a missing one.
 */
import type { NodeKind } from './graph.ts';

/** The facts about one kind of node. */
export interface NodeTraits {
  /** How records leave this node for its consumers: a shuffle by key, round robin, or forward (chainable). */
  readonly partitions: 'hash' | 'rebalance' | 'forward';
  /** Runs at the parallelism of its (first) input instead of the job's. */
  readonly followsInput: boolean;
  /** Always one instance (Flink's non-parallel operators). */
  readonly singleInstance: boolean;
  /** Keeps state that must be checkpointed (keyed state, window contents, timers). */
  readonly stateful: boolean;
  /** Receives the watermark as it rises (event-time operators and process functions' currentWatermark). */
  readonly eventTime: boolean;
  /** Starts a new watermark origin (assignTimestamps; sources without timestamps). */
  readonly watermarkOrigin: boolean;
  /** Its user function may be inlined into the fused chain. */
  readonly inlinable: boolean;
  /**
   * It emits later, when calls it started complete (asyncMap): the fused chain
   * that feeds it ends at it, and its results start a chain of their own.
   */
  readonly asynchronous: boolean;
}

const operator: NodeTraits = { partitions: 'forward', followsInput: false, singleInstance: false, stateful: false, eventTime: false, watermarkOrigin: false, inlinable: false, asynchronous: false };

/** The traits of every kind of node. */
export const NODE_TRAITS: Readonly<Record<NodeKind, NodeTraits>> = {
  source: { ...operator, watermarkOrigin: true },
  map: { ...operator, inlinable: true },
  filter: { ...operator, inlinable: true },
  flatMap: { ...operator, inlinable: true },
  // Its in-flight calls are state; it holds watermarks back behind them, so downstream it is a watermark origin of its own.
  asyncMap: { ...operator, stateful: true, eventTime: true, watermarkOrigin: true, asynchronous: true },
  process: { ...operator, eventTime: true },
  assignTimestamps: { ...operator, watermarkOrigin: true, inlinable: true },
  keyBy: { ...operator, partitions: 'hash', followsInput: true, inlinable: true },
  rollingAggregate: { ...operator, stateful: true },
  keyedProcess: { ...operator, stateful: true, eventTime: true },
  window: { ...operator, stateful: true, eventTime: true },
  windowAll: { ...operator, stateful: true, eventTime: true, singleInstance: true },
  union: operator,
  coMap: operator,
  coProcess: { ...operator, stateful: true, eventTime: true },
  coFlatMap: operator,
  windowJoin: { ...operator, stateful: true, eventTime: true },
  intervalJoin: { ...operator, stateful: true, eventTime: true },
  sideOutput: { ...operator, followsInput: true },
  rebalance: { ...operator, partitions: 'rebalance', followsInput: true },
  sink: operator,
};

/** The traits of a node kind. */
export function traitsOf(kind: NodeKind): NodeTraits {
  return NODE_TRAITS[kind];
}
