/** map: `const vN = <body>;` then the rest of the chain. */
import { siteLabel, writeCall } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const Map: NodeEmitter = (node, ctx, gen) => {
  const fp = gen.analysis.functions[node.id];
  const out = gen.name(`v${node.id}`);
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})${fp?.strategy === 'reference' ? ` — by reference: ${fp.reason}` : ''}`, node.site);
  writeCall(ctx.w, fp, node.id, [ctx.input], out, gen);
  gen.writeConsumers(node.id, { ...ctx, input: out });
};
