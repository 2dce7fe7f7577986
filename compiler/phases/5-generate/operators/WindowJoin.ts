/** join(...) / coGroup(...) .window(...).apply(fn): a WindowJoinOperator (runtime) fed by both keyed inputs; its results continue the chain in emitN. */
import { siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';
import { literal } from '../literal.ts';

export const WindowJoin: NodeEmitter<'windowJoin'> = (node, ctx, gen) => {
  const id = node.id;
  // A function that may change the records it gets is given copies on every call: the records stay in the window.
  const mutates = gen.analysis.functions[id]?.mutates ?? [];
  const plan = { copies: [mutates[0] !== false, mutates[1] !== false] };
  const operator = gen.declare(`join${id}`, `rt.windowJoinOperator(env, ${id}, ${literal(node.spec)}, ${literal(plan)}, ${gen.head(id)})`, `${node.label} (${siteLabel(node.site)}): your ${node.spec.function} function`);
  if (gen.registerOnce(id)) {
    gen.hoisted.line(`env.onWatermark(${id}, (wm) => ${operator}.onWatermark(wm));`);
    gen.endOfInput.line(`${operator}.endOfInput();`);
  }
  const input = (ctx.inputIndex ?? 0) + 1;
  ctx.w.line(`// ${node.label} input ${input} (${siteLabel(node.site)})`, node.site);
  ctx.w.line(`${operator}.processElement${input}(${ctx.key ?? 'undefined'}, ${ctx.input}, ${ctx.ts});`);
};
