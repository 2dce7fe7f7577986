/** keyBy: computes the key here and sends (key, record) over the hash edge to the keyed stage. */
import { siteLabel, writeCall } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const KeyBy: NodeEmitter = (node, ctx, gen) => {
  const fp = gen.analysis.functions[node.id];
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})${fp?.strategy === 'reference' ? ` — by reference: ${fp.reason}` : ''}`, node.site);
  const key = gen.name(`k${node.id}`);
  writeCall(ctx.w, fp, node.id, [ctx.input], key, gen);
  for (const edge of gen.edgesFromNode(node.id)) {
    ctx.w.line(`${gen.output(edge)}.collect(${key}, ${ctx.input}, ${ctx.ts});`);
  }
};
