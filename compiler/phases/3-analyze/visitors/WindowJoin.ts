/**
 * join(...) / coGroup(...) .where(ka).equalTo(kb).window(w).apply(fn): the two
 * key functions must give keys of one type (PC1140, at equalTo's function),
 * event-time windows need timestamps on both inputs (PC1003, at the
 * `.window(...)` call), the function gets the usual checks (it runs in the
 * window operator, by reference, with copies of the records it may change),
 * and the window's contents are recorded as its state. The keys themselves are
 * the keyBy nodes `where` and `equalTo` made (visited as keyBy: PC1004).
 */
import { diagnostics } from '../../../diagnostics/index.ts';
import { calleeName, locationOfNode } from '../../../diagnostics/location.ts';
import { analyzeFunction, returnTypeOf } from '../functions.ts';
import { keyTypesDisjoint } from '../join-keys.ts';
import { windowJoinState } from '../state.ts';
import type { Visitor } from '../context.ts';
import { hasTimestamps, methodCallLocation, windowCall } from './Window.ts';

export const WindowJoin: Visitor<'windowJoin'> = ({ node, call }, ctx) => {
  const assigner = node.spec.assigner;
  const window = call ? windowCall(ctx, call, 'window') : null;
  const windowLocation = window ? methodCallLocation(ctx.host, window) : call ? locationOfNode(ctx.host, calleeName(call)) : null;
  ctx.setState(node.id, windowJoinState(ctx, node, call, windowLocation));
  if (assigner.type !== 'count' && assigner.time === 'event' && node.inputs.some((input) => !hasTimestamps(ctx.plan, input)) && windowLocation) {
    ctx.report(diagnostics.eventTimeWithoutTimestamps(windowLocation, { assigner: assigner.type }));
  }
  const equalTo = call ? windowCall(ctx, call, 'equalTo') : null;
  const where = equalTo ? windowCall(ctx, equalTo, 'where') : null;
  const [leftKey, rightKey] = [returnTypeOf(ctx, where?.arguments[0]), returnTypeOf(ctx, equalTo?.arguments[0])];
  if (leftKey && rightKey && equalTo && keyTypesDisjoint(ctx.checker, leftKey, rightKey)) {
    ctx.report(diagnostics.joinKeyTypesDiffer(locationOfNode(ctx.host, equalTo.arguments[0] ?? equalTo), {
      join: `${node.spec.function}`, left: ctx.checker.typeToString(leftKey), right: ctx.checker.typeToString(rightKey),
    }));
  }
  const fn = analyzeFunction(ctx, node.id, call?.arguments[0], { operator: node.spec.function, inlinable: false, replayed: true });
  ctx.setFunction({ ...fn, strategy: 'reference', reason: `${node.spec.function} functions run in the window operator`, inline: null, mutates: [fn.mutates[0] ?? true, fn.mutates[1] ?? true] });
};

