/**
 * asyncMap: an AsyncWaitOperator (runtime) that calls your function by
 * reference with up to `capacity` calls in flight; the chain that feeds it
 * ends at it, and its results continue in emitN when their calls complete.
 * It receives the watermark (and idleness) and holds it back behind its calls.
 */
import { recordArguments, siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';
import { literal } from '../literal.ts';

export const AsyncMap: NodeEmitter<'asyncMap'> = (node, ctx, gen) => {
  const id = node.id;
  const { capacity, ordered } = node.spec;
  const operator = gen.declare(`async${id}`, `rt.asyncWaitOperator(env, ${id}, ${literal(node.spec)}, ${gen.head(id)})`,
    `${node.label} (${siteLabel(node.site)}): your async function, up to ${capacity} calls in flight, results ${ordered ? 'in input order' : 'as they complete'}`);
  if (gen.registerOnce(id)) {
    gen.hoisted.line(`env.onWatermark(${id}, (wm) => ${operator}.onWatermark(wm), (idle) => ${operator}.onIdle(idle));`);
    gen.open.line(`await ${operator}.open();`);
    gen.drain.line(`await ${operator}.drained();`);
  }
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)}): the call starts here; its result continues in ${gen.head(id)}`, node.site);
  const [record] = recordArguments(ctx.w, gen.analysis.functions[id], id, [ctx.input], gen);
  ctx.w.line(`${operator}.processElement(${record}, ${ctx.ts});`);
};
