/**
 * What every analyze visitor gets: the checker, the plan, the AST call of the
 * node being visited, and a way to report diagnostics and function plans.
 */
import type ts from '../../typescript.ts';
import type { Diagnostic } from '../../diagnostics/index.ts';
import type { Host } from '../../host.ts';
import type { FunctionPlan, OperatorState } from '../../ir/analysis.ts';
import type { LogicalNodeOf, LogicalPlan } from '../../ir/logical-plan.ts';
import type { NodeKind } from '../../../runtime/api/graph.ts';

/** Shared state of one analyze run. */
export interface AnalyzeContext {
  host: Host;
  program: ts.Program;
  checker: ts.TypeChecker;
  plan: LogicalPlan;
  /** Cache for the "is this const object mutated somewhere" search. */
  mutatedSymbols: Map<ts.Symbol, boolean>;
  isUserFile(file: ts.SourceFile): boolean;
  report(diagnostic: Diagnostic): void;
  setFunction(plan: FunctionPlan): void;
  /** Records the state of a stateful operator (state.ts). */
  setState(nodeId: number, state: OperatorState): void;
}

/** One node being visited, with its DSL call in the user's code (null when it could not be found). */
export interface VisitedNode<K extends NodeKind = NodeKind> {
  node: LogicalNodeOf<K>;
  call: ts.CallExpression | null;
}

/**
 * A visitor for the nodes of kinds K: `node.spec` is typed by kind. (Declared
 * as a method so that a visitor of more kinds may serve fewer.)
 */
export type Visitor<K extends NodeKind = NodeKind> = { visit(visited: VisitedNode<K>, ctx: AnalyzeContext): void }['visit'];
