/**
 * assignTimestamps: the record's timestamp becomes `tsN`; the rest of the chain
 * runs with it, and then the watermark generator sees it — so the record is
 * processed before the watermark it causes, whatever filters skip.
 */
import { CodeWriter } from '../writer.ts';
import { siteLabel, writeCall } from '../inline.ts';
import { LabelSkip, type NodeEmitter } from '../context.ts';
import { literal } from '../literal.ts';

/** What the generated comment calls a strategy. */
const STRATEGY_TEXT = { bounded: 'bounded out-of-orderness watermarks', monotonous: 'monotonous timestamps (watermark = largest − 1)', generator: 'your watermark generator' } as const;

export const AssignTimestamps: NodeEmitter<'assignTimestamps'> = (node, ctx, gen) => {
  const id = node.id;
  const fp = gen.analysis.functions[id];
  const strategy = node.spec.strategy ?? 'bounded';
  const generator = gen.declare(`watermarks${id}`, `env.watermarkGenerator(${id}, ${literal(node.spec)})`, `${node.label} (${siteLabel(node.site)}): ${STRATEGY_TEXT[strategy]}`);
  // A user generator's node holds [timestamps, generator factory]: a timestamp function called by reference is the first.
  const names = strategy === 'generator'
    ? { name: (raw: string) => gen.name(raw), reference: (nodeId: number) => gen.declare(`fn${nodeId}`, `env.fn<any[]>(${nodeId})[0]`, `${node.label} (${siteLabel(node.site)}): your timestamp function, called by reference`) }
    : gen;
  if (strategy === 'generator' && gen.registerOnce(id)) gen.close.line(`${generator}.close();`);
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})${fp?.strategy === 'reference' ? ` — by reference: ${fp.reason}` : ''}`, node.site);
  const ts = gen.name(`ts${id}`);
  writeCall(ctx.w, fp, id, [ctx.input], ts, names);
  // A missing or non-numeric timestamp sends the record to the dead-letter output instead of into event time.
  ctx.w.line(`if (typeof ${ts} !== 'number' || !Number.isFinite(${ts})) rt.invalidTimestamp(${id}, ${ts});`);
  const skip = new LabelSkip(gen.name(`record${id}`));
  const inner = new CodeWriter();
  gen.writeConsumers(id, { ...ctx, w: inner, ts, skip });
  if (skip.used) ctx.w.block(`${skip.label}: {`, () => ctx.w.append(inner));
  else ctx.w.append(inner);
  ctx.w.line(strategy === 'generator' ? `${generator}.onEvent(${ts}, ${ctx.input});` : `${generator}.onEvent(${ts});`);
};
