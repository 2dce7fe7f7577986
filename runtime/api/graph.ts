/**
 * The logical graph a pipeline's build function produces. The DSL builder
 * (datastream.ts and friends) appends nodes; the compiler's plan phase reads them
 * into a LogicalPlan, and every worker rebuilds the same graph at start-up to get
 * the user's function objects and connector descriptors back by node id.
 *
 * In: calls on DataStream/KeyedStream/... Out: `Graph { nodes }` in creation order.
 */
import type { Duration } from './duration.ts';

/** Every kind of node the DSL can create. */
export type NodeKind =
  | 'source' | 'map' | 'filter' | 'flatMap' | 'process' | 'assignTimestamps'
  | 'keyBy' | 'rollingAggregate' | 'keyedProcess' | 'window' | 'windowAll'
  | 'union' | 'coMap' | 'coProcess' | 'sideOutput' | 'rebalance' | 'sink';

/** A stack frame position in the evaluated module (1-based line and column); the compiler maps it back to the user's file. */
export interface StackPosition { file: string; line: number; column: number }

/** One operator, source or sink of the logical graph. */
export interface GraphNode {
  readonly id: number;
  readonly kind: NodeKind;
  /** Upstream node ids, in argument order (for connect: [first, second]). */
  readonly inputs: number[];
  /** The user function this node calls (map/filter/flatMap/keyBy/reduce/timestamps), or the user's function object (process). */
  fn?: unknown;
  /** Operator settings: field names, window assigner, connector descriptor, side-output tag... */
  readonly props: Record<string, unknown>;
  /** Set by `.setParallelism(n)`; otherwise the optimizer decides. */
  parallelism?: number;
  /** Set by `.name(s)`. */
  name?: string;
  /** The stack above the DSL call that created the node, innermost first, when call sites are captured (compile time). */
  frames?: StackPosition[];
}

/** Job-level options: `pipeline(name, build, options)`. */
export interface PipelineOptions {
  /** Default parallelism of every operator (1 when unset). */
  parallelism?: number;
  /** Periodic checkpoints, and where they go (the embedded `file` store by default). */
  checkpoint?: { interval: Duration; store?: 'file' | 'redis' | 'kafka' };
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
  add(kind: NodeKind, inputs: number[], props: Record<string, unknown> = {}, fn?: unknown): GraphNode {
    const node: GraphNode = { id: this.nodes.length, kind, inputs, props, fn };
    if (this.captureCallSites) node.frames = callerFrames();
    this.nodes.push(node);
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
  const saved = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 16;
    Error.prepareStackTrace = (_error, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[];
    // Frames 0 and 1 are this function and GraphBuilder.add.
    return frames.slice(2).map((f) => ({ file: f.getFileName() ?? '', line: f.getLineNumber() ?? 0, column: f.getColumnNumber() ?? 0 }));
  } finally {
    Error.prepareStackTrace = saved;
    Error.stackTraceLimit = savedLimit;
  }
}
