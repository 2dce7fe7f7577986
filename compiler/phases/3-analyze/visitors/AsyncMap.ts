/** asyncMap: its function returns a promise (no PC1005), is called by reference in the AsyncWaitOperator, and is made again after a restore (replayed); its calls in flight are its state. */
import { analyzeFunction } from '../functions.ts';
import { asyncMapState } from '../state.ts';
import type { Visitor } from '../context.ts';

export const AsyncMap: Visitor<'asyncMap'> = ({ node, call }, ctx) => {
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'asyncMap', inlinable: false, replayed: true, asynchronous: true }));
  ctx.setState(node.id, asyncMapState(ctx, call));
};
