/** flatMap: a `for...of` over the returned iterable, or straight-line code when the body is an array literal. */
import { recordArguments, siteLabel, writeBlockBody, writeSnippet } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const FlatMap: NodeEmitter = (node, ctx, gen) => {
  const fp = gen.analysis.functions[node.id];
  const w = ctx.w;
  const out = gen.name(`v${node.id}`);
  w.line(`// ${node.label} (${siteLabel(node.site)})${fp?.strategy === 'reference' ? ` — by reference: ${fp.reason}` : ''}`, node.site);
  const args = recordArguments(w, fp, node.id, [ctx.input], gen);
  const inline = fp?.strategy === 'inline' ? fp.inline : null;
  if (inline?.arrayElements?.length === 1) {
    writeSnippet(w, `const ${out} = `, inline.arrayElements[0], args, ';');
    gen.writeConsumers(node.id, { ...ctx, input: out });
    return;
  }
  const loop = (iterable: string) => `for (const ${out} of ${iterable}) {`;
  if (!inline) w.line(loop(`${gen.reference(node.id)}(${args[0]})`));
  else if (inline.kind === 'expression') writeSnippet(w, `for (const ${out} of `, inline.body, args, ') {');
  else {
    const items = gen.name(`items${node.id}`);
    writeBlockBody(w, inline, args, items, gen.name(`fn${node.id}`));
    w.line(loop(items));
  }
  w.indented(() => {
    let element = out;
    if (fp?.lazy) {
      // A generator may change an element after yielding it: what goes on is the element as it was yielded.
      element = gen.name(`element${node.id}`);
      w.line(`const ${element} = rt.copy(${out});`);
    }
    gen.writeConsumers(node.id, { ...ctx, input: element, skip: { statement: () => 'continue;' } });
  });
  w.line('}');
};
