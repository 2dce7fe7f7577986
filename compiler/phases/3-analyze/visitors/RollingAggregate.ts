/** reduce / sum / min / max / minBy / maxBy on a keyed stream: only reduce has a user function; each keeps a rolling value per key. */
import { analyzeFunction } from '../functions.ts';
import { rollingState } from '../state.ts';
import type { Visitor } from '../context.ts';

export const RollingAggregate: Visitor<'rollingAggregate'> = ({ node, call }, ctx) => {
  ctx.setState(node.id, rollingState(ctx, call));
  if (node.spec.op !== 'reduce') return;
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'reduce', inlinable: false, replayed: true }));
};
