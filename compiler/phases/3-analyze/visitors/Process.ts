/** process (non-keyed): a ProcessFunction object, called by reference with a context whose emit is the rest of the chain. */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';

export const Process: Visitor = ({ node, call }, ctx) => {
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'process', inlinable: false, replayed: true }));
};
