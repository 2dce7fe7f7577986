/** window / windowAll: a WindowOperator (runtime) per node; its results continue the chain in emitN, late data goes to its side output. */
import { siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';
import { literal } from '../literal.ts';

export const Window: NodeEmitter<'window' | 'windowAll'> = (node, ctx, gen) => {
  const id = node.id;
  const operator = gen.declare(`window${id}`, `rt.windowOperator(env, ${id}, ${literal(node.spec)}, ${gen.head(id)}, ${gen.sideRoutes(id)})`, `${node.label} (${siteLabel(node.site)})`);
  if (gen.registerOnce(id)) {
    gen.hoisted.line(`env.onWatermark(${id}, (wm) => ${operator}.onWatermark(wm));`);
    gen.endOfInput.line(`${operator}.endOfInput();`);
  }
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})`, node.site);
  // A window function that may change the records it keeps gets its own copies.
  const record = gen.analysis.functions[id]?.mutates[0] === false ? ctx.input : `rt.copy(${ctx.input})`;
  ctx.w.line(`${operator}.processElement(${node.kind === 'window' ? ctx.key ?? gen.name('key') : "''"}, ${record}, ${ctx.ts});`);
};
