/** rebalance: sends the record round-robin to the next stage. */
import { siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const Rebalance: NodeEmitter = (node, ctx, gen) => {
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})`, node.site);
  for (const edge of gen.edgesFromNode(node.id)) {
    ctx.w.line(`${gen.output(edge)}.collect(undefined, ${ctx.input}, ${ctx.ts});`);
  }
};
