/** connect(...).map(f1, f2): both functions are checked; they are called by reference, each with its own copy of a record it may change. */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';

export const CoMap: Visitor = ({ node, call }, ctx) => {
  const plans = (call?.arguments.slice(0, 2) ?? []).map((argument) => analyzeFunction(ctx, node.id, argument, { operator: 'map', inlinable: false, replayed: true }));
  // One plan for the node: input i goes to function i.
  ctx.setFunction({ nodeId: node.id, strategy: 'reference', reason: 'connected map functions are called by reference', inline: null, mutates: [0, 1].map((i) => plans[i]?.mutates[0] ?? true), lazy: false });
};
