/**
 * process (non-keyed ProcessFunction): called by reference with a context whose
 * emit is the continuation of the chain and whose output routes side-output tags.
 */
import { siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

export const Process: NodeEmitter = (node, ctx, gen) => {
  const id = node.id;
  const sideOutputs = (gen.consumers.get(id) ?? []).map((c) => gen.node(c)).filter((c) => c.kind === 'sideOutput');
  const routes = sideOutputs.map((s) => `${JSON.stringify(s.props.tag)}: ${gen.head(s.id)}`).join(', ');
  const fn = gen.declare(`process${id}`, `env.fn<any>(${id})`, `${node.label} (${siteLabel(node.site)}): your ProcessFunction`);
  gen.declare(`ctx${id}`, `rt.processContext(env, ${gen.head(id)}, { ${routes} })`);
  if (!gen.hoistedOpen.has(id)) { gen.hoistedOpen.add(id); gen.hoisted.line(`${fn}.open?.(ctx${id});`); gen.finish.line(`${fn}.close?.();`); }
  gen.importFrom('pipec/internal', '*');
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})`, node.site);
  ctx.w.line(`ctx${id}.timestamp = ${ctx.ts};`);
  ctx.w.line(`${fn}.processElement(${ctx.input}, ctx${id});`);
};
