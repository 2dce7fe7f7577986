/** filter: `if (!(<predicate>)) <skip>` then the rest of the chain on the same record. */
import { recordArguments, siteLabel, writeBlockBody, writeSnippet } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const Filter: NodeEmitter = (node, ctx, gen) => {
  const fp = gen.analysis.functions[node.id];
  const w = ctx.w;
  w.line(`// ${node.label} (${siteLabel(node.site)})${fp?.strategy === 'reference' ? ` — by reference: ${fp.reason}` : ''}`, node.site);
  // A predicate that changes its input gets a copy, and the record that passes on is that copy (Flink's StreamFilter
  // collects the record it gave the function): the change reaches the operators after the filter, never a sibling branch.
  const args = recordArguments(w, fp, node.id, [ctx.input], gen, true);
  const inline = fp?.strategy === 'inline' ? fp.inline : null;
  if (!inline) {
    w.line(`if (!${gen.reference(node.id)}(${args[0]})) ${ctx.skip.statement()}`);
  } else if (inline.kind === 'expression') {
    writeSnippet(w, 'if (!(', inline.body, args, `)) ${ctx.skip.statement()}`);
  } else {
    const keep = gen.name(`keep${node.id}`);
    writeBlockBody(w, inline, args, keep, gen.name(`fn${node.id}`));
    w.line(`if (!${keep}) ${ctx.skip.statement()}`);
  }
  gen.writeConsumers(node.id, { ...ctx, input: args[0] });
};
