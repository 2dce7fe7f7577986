/** assignTimestamps: the timestamp function is inlined like a map when it captures nothing. */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';

export const AssignTimestamps: Visitor = ({ node, call }, ctx) => {
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'assignTimestamps', inlinable: true, replayed: true }));
};
