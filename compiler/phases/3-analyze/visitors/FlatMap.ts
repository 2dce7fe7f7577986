/** flatMap: zero or more outputs per input; inlined as a loop (or straight-line code for an array literal). */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';

export const FlatMap: Visitor = ({ node, call }, ctx) => {
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'flatMap', inlinable: true, replayed: true }));
};
