/**
 * A user watermark generator's state is its own data fields, which are
 * checkpointed (runtime/internal/user-watermarks.ts); a variable of the
 * factory that the generator's methods change lives in a closure, which is
 * not: after a restart the generator would start over with it. PC2140 says so
 * at the write.
 *
 * In: the assignTimestamps call. Out: warnings.
 */
import ts from '../../typescript.ts';
import { diagnostics } from '../../diagnostics/index.ts';
import { locationOfNode } from '../../diagnostics/location.ts';
import type { AnalyzeContext } from './context.ts';
import { isSuppressed, resolveFunction } from './functions.ts';

/** The factory of `watermarks.forGenerator(factory)` when `strategy` is that call (directly or through a const). */
function generatorFactory(ctx: AnalyzeContext, strategy: ts.Expression | undefined): ts.Node | null {
  let expression = strategy;
  for (let steps = 0; expression && steps < 8; steps++) {
    if (ts.isCallExpression(expression) && ts.isPropertyAccessExpression(expression.expression)) {
      const method = expression.expression.name.text;
      if (method === 'forGenerator') return expression.arguments[0] ? resolveFunction(ctx, expression.arguments[0]).fn : null;
      if (method === 'withIdleness') { expression = expression.expression.expression; continue; }
      return null;
    }
    if (ts.isIdentifier(expression)) {
      const declaration = ctx.checker.getSymbolAtLocation(expression)?.valueDeclaration;
      expression = declaration && ts.isVariableDeclaration(declaration) ? declaration.initializer : undefined;
      continue;
    }
    return null;
  }
  return null;
}

/** PC2140 for each `let`/`var` of the generator factory that a function inside it assigns. */
export function checkGeneratorState(ctx: AnalyzeContext, call: ts.CallExpression | null): void {
  const factory = call ? generatorFactory(ctx, call.arguments[1]) : null;
  if (!factory || !ts.isFunctionLike(factory) || !(factory as ts.FunctionLikeDeclaration).body) return;
  const body = (factory as ts.FunctionLikeDeclaration).body!;
  const own = new Set<ts.Symbol>();
  const collect = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && !(ts.getCombinedNodeFlags(node) & ts.NodeFlags.Const)) {
      const symbol = ctx.checker.getSymbolAtLocation(node.name);
      if (symbol) own.add(symbol);
    }
    if (!ts.isFunctionLike(node)) ts.forEachChild(node, collect);
  };
  ts.forEachChild(body, collect);
  if (own.size === 0) return;
  const reported = new Set<ts.Symbol>();
  const visit = (node: ts.Node, nested: boolean): void => {
    if (nested && ts.isIdentifier(node) && isAssigned(node)) {
      const symbol = ctx.checker.getSymbolAtLocation(node);
      if (symbol && own.has(symbol) && !reported.has(symbol) && !isSuppressed(node, 'PC2140')) {
        reported.add(symbol);
        ctx.report(diagnostics.generatorStateInClosure(locationOfNode(ctx.host, node), { variable: node.text }));
      }
    }
    ts.forEachChild(node, (child) => visit(child, nested || ts.isFunctionLike(child)));
  };
  ts.forEachChild(body, (child) => visit(child, ts.isFunctionLike(child)));
}

/** Whether an identifier is the target of an assignment or `++` / `--`. */
function isAssigned(id: ts.Identifier): boolean {
  const parent = id.parent;
  if (ts.isBinaryExpression(parent) && parent.left === id && parent.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && parent.operatorToken.kind <= ts.SyntaxKind.LastAssignment) return true;
  return (ts.isPrefixUnaryExpression(parent) || ts.isPostfixUnaryExpression(parent)) && (parent.operator === ts.SyntaxKind.PlusPlusToken || parent.operator === ts.SyntaxKind.MinusMinusToken);
}
