/**
 * LogicalPlan: what the plan phase hands to analyze and optimize. One node per
 * DSL call, in creation order, each with the position of that call in the
 * user's file. Plain JSON, so tests can snapshot it.
 */
import type { NodeKind, NodeSpecs } from '../../runtime/api/graph.ts';

/** A 1-based line and column in a source file, with the file path relative to the project root. */
export interface SourcePosition { file: string; line: number; column: number }

/** Execution mode after resolving 'auto'. */
export type ExecutionMode = 'batch' | 'streaming';

/** What every node has, whatever its kind. */
interface LogicalNodeBase {
  id: number;
  /** What plans and generated comments call it: `map`, `sum(count)`, `source file.lines(input.txt)`. */
  label: string;
  inputs: number[];
  /** Set with setParallelism; null when the optimizer decides. */
  parallelism: number | null;
  name: string | null;
  /**
   * The operator's stable id, which the runtime keeps its checkpointed state
   * under: the user's `.uid(id)`, or a default that survives unrelated edits
   * (its label, `#n` among nodes of the same label; see 2-plan/uids.ts). Unique
   * within the plan (analyze reports duplicates, PC1130).
   */
  uid: string;
  /** Whether `uid` was given with `.uid(id)` rather than derived. */
  uidFromUser: boolean;
  /** Where the DSL call is in the user's file. */
  site: SourcePosition | null;
}

/**
 * One operator, source or sink: `kind` narrows `spec` to that kind's settings
 * (the same NodeSpecs the DSL builder fills and the runtime reads; connector
 * options as a JSON summary, functions as "<function>").
 */
export type LogicalNode = LogicalNodeOf<NodeKind>;

/** A node of the kinds K. */
export type LogicalNodeOf<K extends NodeKind> = { [P in K]: LogicalNodeBase & { kind: P; spec: NodeSpecs[P] } }[K];

/** The connector of a source or sink, null for an operator. */
export function connectorOf(node: LogicalNode): string | null {
  return node.kind === 'source' || node.kind === 'sink' ? node.spec.connector : null;
}

/** The whole logical graph of one pipeline. */
export interface LogicalPlan {
  pipeline: string;
  /** The pipeline file, relative to the project root. */
  file: string;
  parallelism: number;
  mode: ExecutionMode;
  /** How often task state is checkpointed (the default unless set), and where (null: the runtime's default store). */
  checkpoint: { interval: number; store: 'file' | 'redis' | 'kafka' | null };
  guarantee: 'exactly-once' | 'at-least-once';
  nodes: LogicalNode[];
}
