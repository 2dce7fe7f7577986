/** connect(...).map(f1, f2): both functions are checked; they are called by reference. */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';

export const CoMap: Visitor = ({ node, call }, ctx) => {
  for (const argument of call?.arguments.slice(0, 2) ?? []) analyzeFunction(ctx, node.id, argument, { operator: 'map', inlinable: false, replayed: true });
};
