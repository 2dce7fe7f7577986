/**
 * Analysis: what analyze hands to optimize and generate. For every node with a
 * user function it says whether generated code inlines the function's body or
 * calls the function object by reference, and why.
 */
import type { Diagnostic } from '../diagnostics/types.ts';
import type { LogicalPlan, SourcePosition } from './logical-plan.ts';

/**
 * A user lambda's body prepared for inlining. `body` is the original source
 * text with two kinds of markers the generator fills in:
 * - `\uE000<i>\uE001`: a reference to parameter i (renamed to the input variable);
 * - `\uE002<expr>\uE003`: a `return <expr>;` of a block body (becomes an assignment and a break).
 */
export interface InlineBody {
  kind: 'expression' | 'block';
  body: string;
  /** Number of parameters the lambda declares. */
  arity: number;
  /** For a flatMap whose body is an array literal: each element, marked the same way. */
  arrayElements: string[] | null;
  /** Where the body starts in the user's file, for comments and source maps. */
  site: SourcePosition;
}

/** How generated code reaches one node's user function. */
export interface FunctionPlan {
  nodeId: number;
  strategy: 'inline' | 'reference';
  /** For 'reference': why it was not inlined (shown in the generated comment). */
  reason: string | null;
  inline: InlineBody | null;
}

/** The result of the analyze phase. */
export interface Analysis {
  plan: LogicalPlan;
  functions: Record<number, FunctionPlan>;
  diagnostics: Diagnostic[];
}
