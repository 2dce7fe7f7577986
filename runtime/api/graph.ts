/**
 * The logical graph a pipeline's build function produces. The DSL builder
 * (datastream.ts and friends) appends nodes; the compiler's plan phase reads them
 * into a LogicalPlan, and every worker rebuilds the same graph at start-up to get
 * the user's function objects and connector descriptors back by node id.
 *
 * In: calls on DataStream/KeyedStream/... Out: `Graph { nodes }` in creation order.
 */
import type { Duration } from './duration.ts';
import type { WindowAssigner } from './windows.ts';

/** The settings of a window or windowAll node. */
export interface WindowSpec {
  assigner: WindowAssigner;
  /** ms a fired window is kept for late elements (0: none). */
  allowedLateness: number;
  /** The side-output tag late elements go to (otherwise they are dropped and counted). */
  lateDataTag?: string;
  /** Which window function the user gave; the function (and its projection) is the node's `fn`. */
  function: 'reduce' | 'aggregate' | 'process';
  /** Whether a projection `(result, { key, window })` follows the window function. */
  projected: boolean;
}

/** The settings of a window join or coGroup node (Flink's JoinedStreams / CoGroupedStreams .window(...)). */
export interface WindowJoinSpec {
  /** `join`: the function gets every pair of a key's elements in a window; `coGroup`: both sides' elements at once. */
  function: 'join' | 'coGroup';
  assigner: WindowAssigner;
  /** ms a fired window is kept for late elements (0: none). */
  allowedLateness: number;
}

/**
 * The settings of an interval join node (Flink's IntervalJoinOperator), with
 * inclusive bounds already applied: a pair joins when
 * `left.ts + lowerBound <= right.ts <= left.ts + upperBound`.
 */
export interface IntervalJoinSpec {
  lowerBound: number;
  upperBound: number;
  /** The bounds as the user gave them, for plans (`lowerBoundExclusive()` moves lowerBound up by 1 ms). */
  lowerBoundExclusive: boolean;
  upperBoundExclusive: boolean;
  /** Side-output tags for late left / right elements (otherwise they are dropped and counted). */
  leftLateDataTag?: string;
  rightLateDataTag?: string;
}

/** The settings of a source or sink: its connector and the options the user wrote. */
export interface ConnectorSpec {
  connector: string;
  /** The descriptor's options: as written in the graph a worker builds (functions included), a JSON summary in the compiler's plan. */
  options: Readonly<Record<string, unknown>>;
}

/** No settings. */
export type NoSpec = Record<never, never>;

/** The settings of an asyncMap node (Flink's AsyncDataStream.orderedWait / unorderedWait). */
export interface AsyncMapSpec {
  /** Calls in flight per task at most; a full task takes no more input until one completes (backpressure). */
  capacity: number;
  /** ms a call may take; a call that takes longer sends its record to the dead-letter output. */
  timeout: number;
  /** Results in input order (orderedWait), or as they complete but never across a watermark (unorderedWait). */
  ordered: boolean;
}

/**
 * The settings of every kind of node, by kind: one table shared by the DSL
 * builder (which fills them), the compiler's plan (which holds them as JSON)
 * and the runtime (which reads them, or gets them as literals in generated
 * code). User functions are not settings: they are the node's `fn`.
 */
export interface NodeSpecs {
  source: ConnectorSpec & { bounded: boolean };
  map: NoSpec;
  filter: NoSpec;
  flatMap: NoSpec;
  asyncMap: AsyncMapSpec;
  process: NoSpec;
  /** `strategy` is absent for bounded out-of-orderness; a user generator's factory is the second element of the node's `fn`. */
  assignTimestamps: { maxOutOfOrderness: number; idleTimeout?: number; strategy?: 'monotonous' | 'generator' };
  keyBy: NoSpec;
  rollingAggregate: { op: 'reduce' | 'sum' | 'min' | 'max' | 'minBy' | 'maxBy'; field?: string };
  keyedProcess: NoSpec;
  window: WindowSpec;
  windowAll: WindowSpec;
  union: NoSpec;
  coMap: { keyed: boolean };
  coProcess: { keyed: boolean };
  coFlatMap: { keyed: boolean };
  windowJoin: WindowJoinSpec;
  intervalJoin: IntervalJoinSpec;
  sideOutput: { tag: string };
  rebalance: NoSpec;
  sink: ConnectorSpec;
}

/** Every kind of node the DSL can create. */
export type NodeKind = keyof NodeSpecs;

/** A stack frame position in the evaluated module (1-based line and column); the compiler maps it back to the user's file. */
export interface StackPosition { file: string; line: number; column: number }

/** What every node has, whatever its kind. */
interface GraphNodeBase {
  readonly id: number;
  /** Upstream node ids, in argument order (for connect: [first, second]). */
  readonly inputs: number[];
  /**
   * The user function this node calls (map/filter/flatMap/asyncMap/keyBy/reduce/timestamps), the user's
   * function object (process, intervalJoin), `[fn1, fn2]` (connected map and flatMap), `[windowFunction, projection]`
   * (windows), the join or coGroup function (windowJoin), or `[timestamps, generatorFactory]` (assignTimestamps with
   * `watermarks.forGenerator`).
   */
  fn?: unknown;
  /** Set by `.setParallelism(n)`; otherwise the optimizer decides. */
  parallelism?: number;
  /** Set by `.name(s)`. */
  name?: string;
  /** Set by `.uid(id)`: the operator's stable id, which its checkpointed state is kept under (otherwise the compiler derives one). */
  uid?: string;
  /** The stack above the DSL call that created the node, innermost first, when call sites are captured (compile time). */
  frames?: StackPosition[];
}

/** One operator, source or sink of the logical graph: `kind` says which, and narrows `spec` to its settings. */
export type GraphNode = GraphNodeOf<NodeKind>;

/** A node of the kinds K. */
export type GraphNodeOf<K extends NodeKind> = { [P in K]: GraphNodeBase & { readonly kind: P; readonly spec: NodeSpecs[P] } }[K];

/**
 * The settings generated code bakes in as literals, as JSON: the node's spec,
 * or null for sources and sinks (whose options a worker reads from the graph
 * it builds, so their data may differ from build to run). A worker compares
 * them with the manifest's and refuses to run a graph built differently.
 */
export function bakedSettings(node: GraphNode): string | null {
  return node.kind === 'source' || node.kind === 'sink' ? null : JSON.stringify(node.spec);
}

/** Job-level options: `pipeline(name, build, options)`. */
export interface PipelineOptions {
  /** Default parallelism of every operator (1 when unset). */
  parallelism?: number;
  /**
   * Periodic checkpoints, and where they go. On by default (every
   * DEFAULT_CHECKPOINT_INTERVAL ms): stage workers keep task state in Kafka
   * changelog topics, `local.mjs` in a directory.
   */
  checkpoint?: { interval: Duration; store?: 'file' | 'redis' | 'kafka' };
  /** Kafka → Kafka: outputs, state and consumed offsets commit together (`exactly-once`, the default), or outputs may repeat after a failure (`at-least-once`). */
  guarantee?: 'exactly-once' | 'at-least-once';
  /** How often user watermark generators' `onPeriodicEmit` runs (processing time; Flink's pipeline.auto-watermark-interval, default 200 ms). */
  autoWatermarkInterval?: Duration;
  /** `auto` (default): batch when every source is bounded, streaming otherwise. */
  mode?: 'auto' | 'streaming' | 'batch';
}

/** The built graph of one pipeline. */
export interface Graph {
  readonly name: string;
  readonly options: PipelineOptions;
  readonly nodes: GraphNode[];
}

const CAPTURE_KEY = Symbol.for('pipec.captureCallSites');

/** Appends nodes in creation order; ids are array indexes, so a rebuilt graph has the same ids. */
export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  private readonly captureCallSites = (globalThis as Record<symbol, unknown>)[CAPTURE_KEY] === true;

  /** Adds a node and records the user's call site when capturing. */
  add<K extends NodeKind>(kind: K, inputs: number[], spec: NodeSpecs[K], fn?: unknown): GraphNodeOf<K> {
    const node = { id: this.nodes.length, kind, inputs, spec, fn } as GraphNode as GraphNodeOf<K>;
    if (this.captureCallSites) node.frames = callerFrames();
    this.nodes.push(node as GraphNode);
    return node;
  }
}

/** Turns call-site capture on for graphs built from now on (the compiler does this while planning). */
export function setCallSiteCapture(on: boolean): void {
  (globalThis as Record<symbol, unknown>)[CAPTURE_KEY] = on;
}

/**
 * The stack above the DSL method that is adding a node. The compiler maps each
 * frame through the bundle's source map and takes the first one in the user's
 * file, so a helper function that builds part of a pipeline still points at the
 * right line.
 */
function callerFrames(): StackPosition[] {
  // Frames 0, 1 and 2 are callSites, this function and GraphBuilder.add.
  return callSites(18).slice(3).map(positionOf);
}

/** The V8 call sites of the current stack (innermost first, up to `limit`), read without disturbing any stack formatting in force. */
export function callSites(limit: number): NodeJS.CallSite[] {
  const saved = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = (_error, sites) => sites;
    return new Error().stack as unknown as NodeJS.CallSite[];
  } finally {
    Error.prepareStackTrace = saved;
    Error.stackTraceLimit = savedLimit;
  }
}

/** A call site as a StackPosition. */
export function positionOf(site: NodeJS.CallSite): StackPosition {
  return { file: site.getFileName() ?? '', line: site.getLineNumber() ?? 0, column: site.getColumnNumber() ?? 0 };
}
