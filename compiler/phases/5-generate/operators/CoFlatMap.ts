/** connect(...).flatMap(f1, f2): each input calls its own function and every element of what it returns continues in emitN. */
import { siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const CoFlatMap: NodeEmitter = (node, ctx, gen) => {
  const id = node.id;
  const fns = gen.declare(`coFlatMap${id}`, `env.fn<Array<(v: any) => Iterable<any>>>(${id})`, `${node.label} (${siteLabel(node.site)}): your two flatMap functions`);
  const index = ctx.inputIndex ?? 0;
  const fp = gen.analysis.functions[id];
  ctx.w.line(`// ${node.label} input ${index + 1} (${siteLabel(node.site)})`, node.site);
  const record = fp?.mutates[index] === false ? ctx.input : `rt.copy(${ctx.input})`;
  const element = gen.name(`v${id}_${index}`);
  // A generator may change an element after yielding it: what goes on is the element as it was yielded.
  ctx.w.block(`for (const ${element} of ${fns}[${index}](${record})) {`, () => ctx.w.line(`${gen.head(id)}(${fp?.lazy === false ? element : `rt.copy(${element})`}, ${ctx.ts});`));
};
