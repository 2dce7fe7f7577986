/** connect(...).process(...): processElement1 / processElement2 of a CoProcessOperator (keyed state and timers when both inputs are keyed). */
import { siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';
import { literal } from '../literal.ts';

export const CoProcess: NodeEmitter<'coProcess'> = (node, ctx, gen) => {
  const id = node.id;
  const operator = gen.declare(`co${id}`, `rt.coProcessOperator(env, ${id}, ${literal(node.spec)}, ${gen.processCollector(id)}, ${gen.sideRoutes(id, true)})`, `${node.label} (${siteLabel(node.site)}): your CoProcessFunction`);
  if (gen.registerOnce(id)) {
    gen.hoisted.line(`env.onWatermark(${id}, (wm) => ${operator}.onWatermark(wm));`);
    gen.open.line(`await ${operator}.open();`);
    gen.close.line(`await ${operator}.close();`);
  }
  ctx.w.line(`// ${node.label} input ${(ctx.inputIndex ?? 0) + 1} (${siteLabel(node.site)})`, node.site);
  ctx.w.line(`${operator}.processElement${(ctx.inputIndex ?? 0) + 1}(${ctx.key ?? 'undefined'}, ${ctx.input}, ${ctx.ts});`);
};
