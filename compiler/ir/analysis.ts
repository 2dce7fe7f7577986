/**
 * Analysis: what analyze hands to optimize and generate. For every node with a
 * user function it says whether generated code inlines the function's body or
 * calls the function object by reference, and why; for every stateful
 * operator, the state it keeps (written to the manifest).
 */
import type { Diagnostic, DiagnosticLocation } from '../diagnostics/types.ts';
import type { LogicalPlan, SourcePosition } from './logical-plan.ts';
import type { RecordSchema } from '../../runtime/internal/codec/schema.ts';
import type { ManifestState } from '../../runtime/internal/manifest.ts';

/**
 * One piece of a user function's source prepared for inlining: the original
 * text, with holes the generator fills. Holes are data, never characters in
 * the text, so nothing the user writes can be mistaken for one.
 * - `{ param: i }`: a reference to parameter i (becomes the input variable);
 * - `{ return: 'open' | 'close' }`: around the expression of a `return <expr>;`
 *   of a block body (becomes an assignment to the result and a break);
 * - `{ return: 'void' }`: a `return;` (assigns undefined and breaks).
 */
export type InlinePiece = string | { param: number } | { return: 'open' | 'close' | 'void' };

/** A run of user source with holes, and where it came from. */
export interface InlineSnippet {
  pieces: InlinePiece[];
  /** Where the text starts in the user's file, for comments and source maps. */
  site: SourcePosition;
  /**
   * Line indexes (0-based, within this snippet) whose line break lies inside a
   * string or template literal: the line's end and the next line's start are
   * literal text, never trimmed or re-indented.
   */
  literalBreaks: number[];
}

/** A user lambda's body prepared for inlining. */
export interface InlineBody {
  kind: 'expression' | 'block';
  body: InlineSnippet;
  /** Number of parameters the lambda declares (a `this` parameter does not count). */
  arity: number;
  /** For a flatMap whose body is an array literal: each element. */
  arrayElements: InlineSnippet[] | null;
  /**
   * Every identifier and label the function's text contains, sorted: generated
   * names are chosen outside this set, so inlined code never shares a name
   * with generated code.
   */
  identifiers: string[];
}

/** How generated code reaches one node's user function. */
export interface FunctionPlan {
  nodeId: number;
  strategy: 'inline' | 'reference';
  /** For 'reference': why it was not inlined (shown in the generated comment). */
  reason: string | null;
  inline: InlineBody | null;
  /**
   * For each parameter: whether the function may change the object it receives
   * (writes, mutating calls, or the value escaping where analysis cannot follow
   * it). Such a parameter gets its own copy, so no other operator, branch or
   * stored state sees the change (Flink hands each operator its own record).
   */
  mutates: boolean[];
  /**
   * The function hands out its results while the caller consumes them (a
   * generator, or an iterable analysis cannot see into): it may change a result
   * after handing it out, so each one is copied as it is emitted, as Flink's
   * collector copies at collect time.
   */
  lazy: boolean;
  /**
   * For an inlined function whose body is an object literal of named
   * properties (`(a) => ({ name: a.name, one: 1 })`): its result's keys, in
   * order. Generated code that copies such a record can copy it field by field.
   */
  resultKeys?: string[];
}

/** One state of an operator (as the manifest records it), with where in the user's code it is named. */
export type StateEntry = ManifestState & { at: DiagnosticLocation | null };

/** The checkpointed state of one stateful operator (see 3-analyze/state.ts). */
export interface OperatorState {
  entries: StateEntry[];
  /** False when some state may be missing: a name computed at run time, or a function outside the user's code. */
  complete: boolean;
}

/** The result of the analyze phase. */
export interface Analysis {
  plan: LogicalPlan;
  functions: Record<number, FunctionPlan>;
  diagnostics: Diagnostic[];
  /** Per `file.csv` source node id: each column's declared type ('string', 'number?', ...; see 3-analyze/csv-columns.ts). */
  columnTypes?: Record<number, Record<string, string>>;
  /** Per node whose records cross to another stage: their type, from which the runtime builds the edge codec (see 3-analyze/edge-types.ts). */
  edgeSchemas?: Record<number, RecordSchema>;
  /** Per stateful node id: its state, for the manifest and the upgrade check against the previous build (3-analyze/state.ts). */
  state?: Record<number, OperatorState>;
  /** The previous build's manifest this one was checked against for state compatibility (project-relative), when there was one. */
  previousManifest?: string;
}
