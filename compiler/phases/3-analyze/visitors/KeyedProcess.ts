/** keyBy(...).process(fn) and connect(...).process(fn): the function object is checked and called by reference; open/close may be async; its keyed state is recorded. */
import { analyzeFunction, LIFECYCLE_METHODS } from '../functions.ts';
import { processFunctionState } from '../state.ts';
import type { Visitor } from '../context.ts';

export const KeyedProcess: Visitor<'keyedProcess' | 'coProcess'> = ({ node, call }, ctx) => {
  ctx.setFunction(analyzeFunction(ctx, node.id, call?.arguments[0], { operator: 'process', inlinable: false, replayed: true, asyncMethods: LIFECYCLE_METHODS }));
  ctx.setState(node.id, processFunctionState(ctx, node, call));
};
