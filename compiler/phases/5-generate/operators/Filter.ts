/** filter: `if (!(<predicate>)) <skip>` then the rest of the chain on the same record. */
import { fillParams, siteLabel, writeBlockBody } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const Filter: NodeEmitter = (node, ctx, gen) => {
  const fp = gen.analysis.functions[node.id];
  const w = ctx.w;
  w.line(`// ${node.label} (${siteLabel(node.site)})${fp?.strategy === 'reference' ? ` — by reference: ${fp.reason}` : ''}`, node.site);
  const inline = fp?.strategy === 'inline' ? fp.inline : null;
  if (!inline) {
    w.line(`if (!${gen.reference(node.id)}(${ctx.input})) ${ctx.skip.statement()}`);
  } else if (inline.kind === 'expression') {
    w.snippet(`if (!(${fillParams(inline.body, [ctx.input])})) ${ctx.skip.statement()}`, inline.site);
  } else {
    writeBlockBody(w, inline, [ctx.input], `keep${node.id}`, `fn${node.id}`);
    w.line(`if (!keep${node.id}) ${ctx.skip.statement()}`);
  }
  gen.writeConsumers(node.id, ctx);
};
