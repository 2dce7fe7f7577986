/**
 * window / windowAll: event-time windows need timestamps upstream (PC1003),
 * session windows need mergeable aggregates (PC1008), and the window function
 * and projection get the usual checks (they run in the WindowOperator, by reference).
 */
import ts from 'typescript';
import { diagnostics } from '../../../diagnostics/index.ts';
import { calleeName, locationOfNode } from '../../../diagnostics/location.ts';
import type { LogicalPlan } from '../../../ir/logical-plan.ts';
import { analyzeFunction, resolveFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';

/** Whether some path upstream of `id` assigns timestamps. */
function hasTimestamps(plan: LogicalPlan, id: number): boolean {
  const node = plan.nodes[id];
  if (node.kind === 'assignTimestamps') return true;
  return node.inputs.length > 0 && node.inputs.every((input) => hasTimestamps(plan, input));
}

export const Window: Visitor = ({ node, call }, ctx) => {
  const assigner = node.props.assigner as { type: string; time?: string };
  if (assigner.type !== 'count' && assigner.time === 'event' && !hasTimestamps(ctx.plan, node.inputs[0]) && call) {
    ctx.report(diagnostics.eventTimeWithoutTimestamps(locationOfNode(ctx.host, calleeName(call)), { assigner: assigner.type }));
  }
  if (assigner.type === 'session' && node.props.function === 'aggregate' && call?.arguments[0]) {
    const argument = call.arguments[0];
    const type = ctx.checker.getTypeAtLocation(argument);
    const { objectMethods } = resolveFunction(ctx, argument);
    if (!type.getProperty('merge') && (objectMethods.length > 0 || ts.isObjectLiteralExpression(argument))) {
      ctx.report(diagnostics.sessionWindowNeedsMerge(locationOfNode(ctx.host, argument), {}));
    }
  }
  const operator = `window ${String(node.props.function)}`;
  for (const argument of call?.arguments.slice(0, 2) ?? []) analyzeFunction(ctx, node.id, argument, { operator, inlinable: false, replayed: true });
};
