/**
 * Rolling aggregations on a keyed stream (reduce, sum, min, max, minBy, maxBy),
 * generated per execution mode: in batch mode the state is updated in place
 * and each key's final value is emitted when the input ends; in streaming
 * mode every update is a new record, emitted at once.
 */
import { siteLabel } from '../inline.ts';
import type { NodeEmitter } from '../context.ts';

const HELPERS: Record<string, string> = { min: 'rollingMin', max: 'rollingMax', minBy: 'rollingMinBy', maxBy: 'rollingMaxBy' };

function access(object: string, field: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(field) ? `${object}.${field}` : `${object}[${JSON.stringify(field)}]`;
}

export const RollingAggregate: NodeEmitter = (node, ctx, gen) => {
  const id = node.id;
  const op = String(node.props.op);
  const field = node.props.field as string | undefined;
  const batch = gen.plan.mode === 'batch';
  const w = ctx.w;
  const state = gen.declare(`state${id}`, `env.keyedState<any>(${id})`, `${node.label} (${siteLabel(node.site)}): the current value per key`);
  const emit = gen.head(id);
  const key = ctx.key ?? 'key';
  w.line(`// ${node.label} (${siteLabel(node.site)})${batch ? ': batch mode, one final value per key' : ''}`, node.site);
  w.line(`const acc = ${state}.get(${key});`);
  if (batch && op === 'sum') {
    w.line(`if (acc === undefined) ${state}.set(${key}, { ...${ctx.input} });`);
    w.line(`else ${access('acc', field!)} += ${access(ctx.input, field!)};`);
  } else {
    let next: string;
    if (op === 'sum') next = `{ ...acc, ${/^[A-Za-z_$][\w$]*$/.test(field!) ? field : JSON.stringify(field)}: ${access('acc', field!)} + ${access(ctx.input, field!)} }`;
    else if (op === 'reduce') next = `${gen.reference(id)}(acc, ${ctx.input})`;
    else { gen.importFrom('pipec/internal', '*'); next = `rt.${HELPERS[op]}(acc, ${ctx.input}, ${JSON.stringify(field)})`; }
    w.line(`const v${id} = acc === undefined ? ${ctx.input} : ${next};`);
    w.line(`${state}.set(${key}, v${id});`);
    if (!batch) w.line(`${emit}(v${id}, ${ctx.ts});`);
  }
  if (batch) gen.finish.line(`for (const v${id} of ${state}.values()) ${emit}(v${id}, undefined);`);
};
