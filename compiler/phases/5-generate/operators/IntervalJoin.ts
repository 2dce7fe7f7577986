/** intervalJoin(...).between(...).process(fn): an IntervalJoinOperator (runtime) fed by both keyed inputs; what the function emits continues in emitN. */
import { siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';
import { literal } from '../literal.ts';

export const IntervalJoin: NodeEmitter<'intervalJoin'> = (node, ctx, gen) => {
  const id = node.id;
  // A function that may change the records it gets is given copies on every call: the records stay buffered.
  const mutates = gen.analysis.functions[id]?.mutates ?? [];
  const plan = { copies: [mutates[0] !== false, mutates[1] !== false] };
  const operator = gen.declare(`intervalJoin${id}`, `rt.intervalJoinOperator(env, ${id}, ${literal(node.spec)}, ${literal(plan)}, ${gen.processCollector(id)}, ${gen.sideRoutes(id, true)})`, `${node.label} (${siteLabel(node.site)}): your ProcessJoinFunction`);
  if (gen.registerOnce(id)) {
    gen.hoisted.line(`env.onWatermark(${id}, (wm) => ${operator}.onWatermark(wm));`);
    gen.open.line(`await ${operator}.open();`);
    gen.close.line(`await ${operator}.close();`);
  }
  const input = (ctx.inputIndex ?? 0) + 1;
  ctx.w.line(`// ${node.label} ${input === 1 ? 'left' : 'right'} input (${siteLabel(node.site)})`, node.site);
  ctx.w.line(`${operator}.processElement${input}(${ctx.key ?? 'undefined'}, ${ctx.input}, ${ctx.ts});`);
};
