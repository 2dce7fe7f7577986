/** reduce / sum / min / max / minBy / maxBy on a keyed stream: only reduce has a user function. */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';

export const RollingAggregate: Visitor<'rollingAggregate'> = ({ node, call }, ctx) => {
  if (node.spec.op !== 'reduce') return;
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'reduce', inlinable: false, replayed: true }));
};
