/** process (non-keyed): a ProcessFunction object, called by reference with a context whose emit is the rest of the chain; open/close may be async. */
import { analyzeFunction, LIFECYCLE_METHODS } from '../functions.ts';
import type { Visitor } from '../context.ts';

export const Process: Visitor = ({ node, call }, ctx) => {
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'process', inlinable: false, replayed: true, asyncMethods: LIFECYCLE_METHODS }));
};
