/** keyBy(...).process(fn) and connect(...).process(fn): the function object is checked and called by reference; open/close may be async. */
import { analyzeFunction } from '../functions.ts';
import type { Visitor } from '../context.ts';
import { allowingAsyncOpenClose } from './lifecycle.ts';

export const KeyedProcess: Visitor = ({ node, call }, ctx) => {
  const argument = call?.arguments[0];
  ctx.setFunction(analyzeFunction(allowingAsyncOpenClose(ctx, argument), node.id, argument, { operator: 'process', inlinable: false, replayed: true }));
};
