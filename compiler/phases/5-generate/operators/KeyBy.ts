/** keyBy: computes the key here and sends (key, record) over the hash edge to the keyed stage. */
import { siteLabel, writeCall } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const KeyBy: NodeEmitter = (node, ctx, gen) => {
  const fp = gen.analysis.functions[node.id];
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})${fp?.strategy === 'reference' ? ` — by reference: ${fp.reason}` : ''}`, node.site);
  writeCall(ctx.w, fp, node.id, [ctx.input], `k${node.id}`, (id) => gen.reference(id));
  for (const edge of gen.physical.edges.filter((e) => e.fromNode === node.id)) {
    ctx.w.line(`${gen.output(edge)}.collect(k${node.id}, ${ctx.input}, ${ctx.ts});`);
  }
};
