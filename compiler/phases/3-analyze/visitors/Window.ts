/**
 * window / windowAll: event-time windows need timestamps upstream (PC1003, at
 * the .window(...) call),
 * session windows need mergeable aggregates (PC1008), and the window function
 * and projection get the usual checks (they run in the WindowOperator, by reference);
 * the window's contents and windows are recorded as its state.
 */
import path from 'node:path';
import ts from '../../../typescript.ts';
import { diagnostics, type DiagnosticLocation } from '../../../diagnostics/index.ts';
import { calleeName, locationOfNode } from '../../../diagnostics/location.ts';
import { pipecRuntimeDir, type Host } from '../../../host.ts';
import type { LogicalPlan } from '../../../ir/logical-plan.ts';
import { analyzeFunction, resolveFunction } from '../functions.ts';
import { mayMutateParameter } from '../mutation.ts';
import { windowState } from '../state.ts';
import type { AnalyzeContext, Visitor } from '../context.ts';

/** Whether some path upstream of `id` assigns timestamps. */
export function hasTimestamps(plan: LogicalPlan, id: number): boolean {
  const node = plan.nodes[id];
  if (node.kind === 'assignTimestamps') return true;
  return node.inputs.length > 0 && node.inputs.every((input) => hasTimestamps(plan, input));
}

/** A call's `.name(...)` part: from the method name to the closing parenthesis (first line only). */
export function methodCallLocation(host: Host, call: ts.CallExpression): DiagnosticLocation {
  const name = calleeName(call);
  const location = locationOfNode(host, name);
  const span = call.getEnd() - name.getStart();
  return { ...location, length: Math.min(span, (location.lineText?.length ?? 0) - (location.column - 1)) };
}

/**
 * The `.window(...)` / `.windowAll(...)` call that made the WindowedStream a window node's call
 * (`.aggregate(...)`, `.reduce(...)`, `.process(...)`) finishes, through `.allowedLateness(...)`,
 * `.sideOutputLateData(...)` and a `const windowed = ...` variable in between. (Any method `kind`:
 * the nearest call of it to the left of `call` in the chain, as joins find their `.window`, `.equalTo` and `.where`.)
 */
export function windowCall(ctx: AnalyzeContext, call: ts.CallExpression, kind: string): ts.CallExpression | null {
  let expression: ts.Expression = call.expression;
  for (let steps = 0; steps < 32; steps++) {
    while (ts.isParenthesizedExpression(expression) || ts.isNonNullExpression(expression) || ts.isAsExpression(expression)) expression = expression.expression;
    if (ts.isPropertyAccessExpression(expression)) {
      expression = expression.expression;
    } else if (ts.isCallExpression(expression)) {
      if (ts.isPropertyAccessExpression(expression.expression) && expression.expression.name.text === kind) return expression;
      expression = expression.expression;
    } else if (ts.isIdentifier(expression)) {
      const declaration = ctx.checker.getSymbolAtLocation(expression)?.valueDeclaration;
      if (!declaration || !ts.isVariableDeclaration(declaration) || !declaration.initializer) return null;
      expression = declaration.initializer;
    } else {
      return null;
    }
  }
  return null;
}

export const Window: Visitor<'window' | 'windowAll'> = ({ node, call }, ctx) => {
  const assigner = node.spec.assigner;
  // The window node is created by the call that finishes the WindowedStream; its windows are chosen in the .window(...) call.
  const window = call ? windowCall(ctx, call, node.kind) : null;
  const windowLocation = window ? methodCallLocation(ctx.host, window) : call ? locationOfNode(ctx.host, calleeName(call)) : null;
  ctx.setState(node.id, windowState(ctx, node, call, windowLocation));
  if (assigner.type !== 'count' && assigner.time === 'event' && !hasTimestamps(ctx.plan, node.inputs[0]) && windowLocation) {
    ctx.report(diagnostics.eventTimeWithoutTimestamps(windowLocation, { assigner: assigner.type }));
  }
  if (assigner.type === 'session' && node.spec.function === 'aggregate' && call?.arguments[0]) {
    const argument = call.arguments[0];
    const type = ctx.checker.getTypeAtLocation(argument);
    const { objectMethods } = resolveFunction(ctx, argument);
    if (!type.getProperty('merge') && (objectMethods.length > 0 || ts.isObjectLiteralExpression(argument))) {
      ctx.report(diagnostics.sessionWindowNeedsMerge(locationOfNode(ctx.host, argument), {}));
    }
  }
  const operator = `window ${node.spec.function}`;
  const plans = (call?.arguments.slice(0, 2) ?? []).map((argument) => analyzeFunction(ctx, node.id, argument, { operator, inlinable: false, replayed: true }));
  // The window keeps the records it receives (and, for reduce, emits the first one as the result): they are its own
  // copies unless analysis shows the window function leaves them alone.
  const keepsUnchanged = call?.arguments[0] ? windowFunctionLeavesRecords(ctx, node.spec.function, call.arguments[0], plans[0]?.mutates ?? [true]) : false;
  ctx.setFunction({ nodeId: node.id, strategy: 'reference', reason: 'window functions run in the WindowOperator', inline: null, mutates: [!keepsUnchanged], lazy: false });
};

/** Whether a window function provably changes none of the records it is given (nor the accumulator a reduce starts from). */
function windowFunctionLeavesRecords(ctx: AnalyzeContext, kind: 'reduce' | 'aggregate' | 'process', argument: ts.Expression, mutates: boolean[]): boolean {
  if (kind === 'reduce') return mutates.every((m) => !m);
  if (kind === 'aggregate') {
    if (isPipecAggregate(ctx, argument)) return true;
    const named = (m: ts.Node) => (ts.isMethodDeclaration(m) ? m.name : ts.isPropertyAssignment(m.parent) ? m.parent.name : null);
    const add = resolveFunction(ctx, argument).objectMethods.find((m) => { const name = named(m); return !!name && ts.isIdentifier(name) && name.text === 'add'; });
    return !!add && !mayMutateParameter(ctx.checker, add, 0);
  }
  const { fn } = resolveFunction(ctx, argument);
  return !!fn && !mayMutateParameter(ctx.checker, fn, 2);
}

/** `agg.count()`, `agg.topN(...)`...: pipec's own aggregates, which never change the records they count. */
function isPipecAggregate(ctx: AnalyzeContext, argument: ts.Expression): boolean {
  if (!ts.isCallExpression(argument) || !ts.isPropertyAccessExpression(argument.expression)) return false;
  let symbol = ctx.checker.getSymbolAtLocation(argument.expression.expression);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = ctx.checker.getAliasedSymbol(symbol);
  const declaration = symbol?.declarations?.[0];
  return !!declaration && symbol!.name === 'agg' && path.resolve(declaration.getSourceFile().fileName).startsWith(pipecRuntimeDir);
}
