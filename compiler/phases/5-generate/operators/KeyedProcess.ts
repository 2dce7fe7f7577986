/** keyBy(...).process(...): a KeyedProcessOperator (runtime) with keyed state and timers; emits continue in emitN. */
import { recordArguments, siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const KeyedProcess: NodeEmitter = (node, ctx, gen) => {
  const id = node.id;
  const operator = gen.declare(`keyed${id}`, `rt.keyedProcessOperator(env, ${id}, ${gen.processCollector(id)}, ${gen.sideRoutes(id, true)})`, `${node.label} (${siteLabel(node.site)}): your KeyedProcessFunction`);
  if (gen.registerOnce(id)) {
    gen.hoisted.line(`env.onWatermark(${id}, (wm) => ${operator}.onWatermark(wm));`);
    gen.open.line(`await ${operator}.open();`);
    gen.close.line(`await ${operator}.close();`);
  }
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})`, node.site);
  const [record] = recordArguments(ctx.w, gen.analysis.functions[id], id, [ctx.input], gen);
  ctx.w.line(`${operator}.processElement(${ctx.key ?? gen.name('key')}, ${record}, ${ctx.ts});`);
};
