/**
 * process (non-keyed ProcessFunction): called by reference with a context whose
 * emit is the continuation of the chain, whose output routes side-output tags,
 * and whose currentWatermark follows the stage's event time.
 */
import { recordArguments, siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const Process: NodeEmitter = (node, ctx, gen) => {
  const id = node.id;
  const fn = gen.declare(`process${id}`, `env.fn<any>(${id})`, `${node.label} (${siteLabel(node.site)}): your ProcessFunction`);
  const context = gen.declare(`ctx${id}`, `rt.processContext(env, ${id}, ${gen.processCollector(id)}, ${gen.sideRoutes(id, true)})`);
  if (gen.registerOnce(id)) {
    gen.hoisted.line(`env.onWatermark(${id}, (wm) => { ${context}.currentWatermark = wm; });`);
    gen.open.line(`await ${fn}.open?.(${context});`);
    gen.close.line(`await ${fn}.close?.();`);
  }
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})`, node.site);
  ctx.w.line(`${context}.timestamp = ${ctx.ts};`);
  const [record] = recordArguments(ctx.w, gen.analysis.functions[id], id, [ctx.input], gen);
  ctx.w.line(`${fn}.processElement(${record}, ${context});`);
};
