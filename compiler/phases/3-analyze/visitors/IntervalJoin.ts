/**
 * keyBy(ka).intervalJoin(other.keyBy(kb)).between(lower, upper).process(fn):
 * both inputs need timestamps (PC1141, at the `.intervalJoin(...)` call: the
 * join is in event time only), both sides' keys one type (PC1140, at the
 * other stream), and the ProcessJoinFunction the usual checks (called by
 * reference; `open` and `close` may be async; a record it may change is
 * copied for each call, since it stays buffered). Its state: the two buffers
 * and the cleanup timers.
 */
import ts from '../../../typescript.ts';
import { diagnostics } from '../../../diagnostics/index.ts';
import { calleeName, locationOfNode } from '../../../diagnostics/location.ts';
import { analyzeFunction, LIFECYCLE_METHODS, resolveFunction } from '../functions.ts';
import { keyTypesDisjoint } from '../join-keys.ts';
import { mayMutateParameter } from '../mutation.ts';
import { intervalJoinState } from '../state.ts';
import type { AnalyzeContext, Visitor } from '../context.ts';
import { hasTimestamps, methodCallLocation, windowCall } from './Window.ts';

/** The key type K of an expression of type KeyedStream<T, K>. */
function keyTypeOf(ctx: AnalyzeContext, expression: ts.Expression): ts.Type | null {
  const type = ctx.checker.getTypeAtLocation(expression);
  if (type.getSymbol()?.getName() !== 'KeyedStream' || !(type as ts.TypeReference).target) return null;
  return ctx.checker.getTypeArguments(type as ts.TypeReference)[1] ?? null;
}

export const IntervalJoin: Visitor<'intervalJoin'> = ({ node, call }, ctx) => {
  ctx.setState(node.id, intervalJoinState(ctx, call));
  const join = call ? windowCall(ctx, call, 'intervalJoin') : null;
  const joinLocation = join ? methodCallLocation(ctx.host, join) : call ? locationOfNode(ctx.host, calleeName(call)) : null;
  for (const [index, side] of [[0, 'left'], [1, 'right']] as const) {
    if (!hasTimestamps(ctx.plan, node.inputs[index]) && joinLocation) ctx.report(diagnostics.intervalJoinWithoutTimestamps(joinLocation, { side }));
  }
  const other = join?.arguments[0];
  if (join && other && ts.isPropertyAccessExpression(join.expression)) {
    const [leftKey, rightKey] = [keyTypeOf(ctx, join.expression.expression), keyTypeOf(ctx, other)];
    if (leftKey && rightKey && keyTypesDisjoint(ctx.checker, leftKey, rightKey)) {
      ctx.report(diagnostics.joinKeyTypesDiffer(locationOfNode(ctx.host, other), {
        join: 'interval join', left: ctx.checker.typeToString(leftKey), right: ctx.checker.typeToString(rightKey),
      }));
    }
  }
  const argument = call?.arguments[0];
  const fn = analyzeFunction(ctx, node.id, argument, { operator: 'intervalJoin', inlinable: false, replayed: true, asyncMethods: LIFECYCLE_METHODS });
  // processElement(left, right, ctx): whether it may change either record.
  const methods = argument ? resolveFunction(ctx, argument).objectMethods : [];
  const processElement = methods.find((m) => (ts.isMethodDeclaration(m) && ts.isIdentifier(m.name) && m.name.text === 'processElement')
    || (ts.isPropertyAssignment(m.parent) && ts.isIdentifier(m.parent.name) && m.parent.name.text === 'processElement'));
  const mutates = processElement ? [mayMutateParameter(ctx.checker, processElement, 0), mayMutateParameter(ctx.checker, processElement, 1)] : [true, true];
  ctx.setFunction({ ...fn, mutates });
};
