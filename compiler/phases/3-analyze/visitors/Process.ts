/** process (non-keyed): a ProcessFunction object, called by reference with a context whose emit is the rest of the chain; open/close may be async. */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';
import { allowingAsyncOpenClose } from './lifecycle.ts';

export const Process: Visitor = ({ node, call }, ctx) => {
  const argument = call?.arguments[0];
  ctx.setFunction(analyzeFunction(allowingAsyncOpenClose(ctx, argument), node.id, argument, { operator: 'process', inlinable: false, replayed: true }));
};
