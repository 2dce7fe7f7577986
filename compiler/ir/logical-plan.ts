/**
 * LogicalPlan: what the plan phase hands to analyze and optimize. One node per
 * DSL call, in creation order, each with the position of that call in the
 * user's file. Plain JSON, so tests can snapshot it.
 */
import type { NodeKind } from '../../runtime/api/graph.ts';

/** A 1-based line and column in a source file, with the file path relative to the project root. */
export interface SourcePosition { file: string; line: number; column: number }

/** Execution mode after resolving 'auto'. */
export type ExecutionMode = 'batch' | 'streaming';

/** One operator, source or sink. */
export interface LogicalNode {
  id: number;
  kind: NodeKind;
  /** What plans and generated comments call it: `map`, `sum(count)`, `source file.lines(input.txt)`. */
  label: string;
  inputs: number[];
  /** Set with setParallelism; null when the optimizer decides. */
  parallelism: number | null;
  name: string | null;
  /** JSON summary of the node's settings (functions become "<function>"). */
  props: Record<string, unknown>;
  /** Connector name for sources and sinks. */
  connector: string | null;
  /** Whether a source is bounded. */
  bounded: boolean | null;
  /** Where the DSL call is in the user's file. */
  site: SourcePosition | null;
}

/** The whole logical graph of one pipeline. */
export interface LogicalPlan {
  pipeline: string;
  /** The pipeline file, relative to the project root. */
  file: string;
  parallelism: number;
  mode: ExecutionMode;
  checkpoint: { interval: number; store: 'file' | 'redis' | 'kafka' } | null;
  nodes: LogicalNode[];
}
