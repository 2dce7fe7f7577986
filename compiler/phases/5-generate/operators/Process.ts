/**
 * process (non-keyed ProcessFunction): called by reference with a context whose
 * emit is the continuation of the chain, whose output routes side-output tags,
 * and whose currentWatermark follows the stage's event time.
 */
import { siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const Process: NodeEmitter = (node, ctx, gen) => {
  const id = node.id;
  const fn = gen.declare(`process${id}`, `env.fn<any>(${id})`, `${node.label} (${siteLabel(node.site)}): your ProcessFunction`);
  gen.declare(`ctx${id}`, `rt.processContext(env, ${id}, ${gen.head(id)}, ${gen.sideRoutes(id)})`);
  if (gen.registerOnce(id)) {
    gen.hoisted.line(`env.onWatermark(${id}, (wm) => { ctx${id}.currentWatermark = wm; });`);
    gen.hoisted.line(`${fn}.open?.(ctx${id});`);
    gen.close.line(`${fn}.close?.();`);
  }
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})`, node.site);
  ctx.w.line(`ctx${id}.timestamp = ${ctx.ts};`);
  ctx.w.line(`${fn}.processElement(${ctx.input}, ctx${id});`);
};
