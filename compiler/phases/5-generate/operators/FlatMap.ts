/** flatMap: a `for...of` over the returned iterable, or straight-line code when the body is an array literal. */
import { fillParams, siteLabel, writeBlockBody } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const FlatMap: NodeEmitter = (node, ctx, gen) => {
  const fp = gen.analysis.functions[node.id];
  const w = ctx.w;
  const out = `v${node.id}`;
  w.line(`// ${node.label} (${siteLabel(node.site)})${fp?.strategy === 'reference' ? ` — by reference: ${fp.reason}` : ''}`, node.site);
  const inline = fp?.strategy === 'inline' ? fp.inline : null;
  if (inline?.arrayElements?.length === 1) {
    w.snippet(`const ${out} = ${fillParams(inline.arrayElements[0], [ctx.input])};`, inline.site);
    gen.writeConsumers(node.id, { ...ctx, input: out });
    return;
  }
  let iterable: string;
  if (!inline) iterable = `${gen.reference(node.id)}(${ctx.input})`;
  else if (inline.kind === 'expression') iterable = fillParams(inline.body, [ctx.input]);
  else { writeBlockBody(w, inline, [ctx.input], `items${node.id}`, `fn${node.id}`); iterable = `items${node.id}`; }
  const loop = `for (const ${out} of ${iterable}) {`;
  if (inline?.kind === 'expression') w.snippet(loop, inline.site); else w.line(loop);
  w.indented(() => gen.writeConsumers(node.id, { ...ctx, input: out, skip: { statement: () => 'continue;' } }));
  w.line('}');
};
