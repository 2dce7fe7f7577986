/** map: one output per input; inlined when it captures nothing. */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';

export const Map: Visitor = ({ node, call }, ctx) => {
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'map', inlinable: true, replayed: true }));
};
