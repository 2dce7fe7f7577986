/** connect(...).flatMap(f1, f2): both functions are checked; they are called by reference, each with its own copy of a record it may change. */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';

export const CoFlatMap: Visitor = ({ node, call }, ctx) => {
  const plans = (call?.arguments.slice(0, 2) ?? []).map((argument) => analyzeFunction(ctx, node.id, argument, { operator: 'flatMap', inlinable: false, replayed: true }));
  // One plan for the node: input i goes to function i; a generator's results are copied as they are emitted.
  ctx.setFunction({
    nodeId: node.id, strategy: 'reference', reason: 'connected flatMap functions are called by reference', inline: null,
    mutates: [0, 1].map((i) => plans[i]?.mutates[0] ?? true), lazy: plans.length < 2 || plans.some((p) => p.lazy),
  });
};
