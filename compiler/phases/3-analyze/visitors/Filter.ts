/** filter: keeps records for which the predicate holds; inlined as an `if` when it captures nothing. */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';

export const Filter: Visitor = ({ node, call }, ctx) => {
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'filter', inlinable: true, replayed: true }));
};
