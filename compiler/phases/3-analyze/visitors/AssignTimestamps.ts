/** assignTimestamps: the timestamp function is inlined like a map when it captures nothing; a user watermark generator's closure state is PC2140. */
import { analyzeFunction } from '../functions.ts';
import { checkGeneratorState } from '../generator-state.ts';
import type { Visitor } from '../context.ts';

export const AssignTimestamps: Visitor = ({ node, call }, ctx) => {
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'assignTimestamps', inlinable: true, replayed: true }));
  if (node.kind === 'assignTimestamps' && node.spec.strategy === 'generator') checkGeneratorState(ctx, call);
};
