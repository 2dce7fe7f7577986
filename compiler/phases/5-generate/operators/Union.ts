/** union: every input calls the union's continuation function. */
import type { NodeEmitter } from '../context.ts';

export const Union: NodeEmitter = (node, ctx, gen) => {
  ctx.w.line(`${gen.head(node.id)}(${ctx.input}, ${ctx.ts});`);
};
