/** connect(...).map(f1, f2): each input calls its own function; both continue in emitN. */
import { siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const CoMap: NodeEmitter = (node, ctx, gen) => {
  const id = node.id;
  const fns = gen.declare(`coMap${id}`, `env.fn<Array<(v: any) => any>>(${id})`, `${node.label} (${siteLabel(node.site)}): your two map functions`);
  const index = ctx.inputIndex ?? 0;
  ctx.w.line(`// ${node.label} input ${index + 1} (${siteLabel(node.site)})`, node.site);
  const record = gen.analysis.functions[id]?.mutates[index] === false ? ctx.input : `rt.copy(${ctx.input})`;
  ctx.w.line(`${gen.head(id)}(${fns}[${index}](${record}), ${ctx.ts});`);
};
