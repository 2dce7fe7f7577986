/**
 * Rolling aggregations on a keyed stream (reduce, sum, min, max, minBy, maxBy),
 * generated per execution mode: in batch mode the state is updated in place
 * and each key's final value is emitted when the input ends; in streaming
 * mode every update is a new record, emitted at once.
 *
 * The stored value is never an object anyone else holds: batch mode stores a
 * copy of the first record of a key, streaming `sum` builds a new record, and a
 * reduce function that changes its accumulator gets a copy of it (the record
 * emitted before is downstream and must not change).
 */
import { recordArguments, siteLabel } from '../inline.ts';
import type { NodeEmitter, StageGen } from '../context.ts';
import type { LogicalNodeOf } from '../../../ir/logical-plan.ts';

const HELPERS: Record<string, string> = { min: 'rollingMin', max: 'rollingMax', minBy: 'rollingMinBy', maxBy: 'rollingMaxBy' };

/** Whether `field` can be written as `.field` and as an object-literal key (not `__proto__`, which a literal would treat as the prototype). */
function isPlainName(field: string): boolean {
  return /^[A-Za-z_$][\w$]*$/.test(field) && field !== '__proto__';
}

/**
 * The exact keys of the records node `id` produces, when analysis knows them:
 * a map whose body is an object literal, passed on unchanged by filters that
 * leave their input alone, keyBy, and flatMaps that return `[input]`.
 */
function recordKeysOf(gen: StageGen, id: number): string[] | null {
  const node = gen.node(id);
  const fp = gen.analysis.functions[id];
  switch (node.kind) {
    case 'map': return fp?.resultKeys ?? null;
    case 'keyBy': return recordKeysOf(gen, node.inputs[0]);
    case 'filter': return fp?.mutates[0] === false ? recordKeysOf(gen, node.inputs[0]) : null;
    case 'flatMap': {
      const only = fp?.strategy === 'inline' && fp.inline?.arrayElements?.length === 1 ? fp.inline.arrayElements[0].pieces : null;
      const passesInput = only?.length === 1 && typeof only[0] === 'object' && 'param' in only[0] && only[0].param === 0;
      return passesInput ? recordKeysOf(gen, node.inputs[0]) : null;
    }
    default: return null;
  }
}

/**
 * A copy of the first record of a key, which batch mode then updates in place.
 * With known keys it is a literal of the fields (no call the record escapes
 * into, so V8 need not allocate records that never start a key); otherwise
 * rt.copy.
 */
function firstRecordCopy(gen: StageGen, node: LogicalNodeOf<'rollingAggregate'>, input: string): string {
  const keys = recordKeysOf(gen, node.inputs[0]);
  if (!keys || !keys.every(isPlainName)) return `rt.copy(${input})`;
  return `{ ${keys.map((k) => `${k}: ${input}.${k}`).join(', ')} }`;
}

function access(object: string, field: string): string {
  return isPlainName(field) ? `${object}.${field}` : `${object}[${JSON.stringify(field)}]`;
}

export const RollingAggregate: NodeEmitter<'rollingAggregate'> = (node, ctx, gen) => {
  const id = node.id;
  const { op, field } = node.spec;
  const batch = gen.plan.mode === 'batch';
  const w = ctx.w;
  const state = gen.declare(`state${id}`, `env.keyedState<any>(${id})`, `${node.label} (${siteLabel(node.site)}): the current value per key`);
  const emit = gen.head(id);
  const key = ctx.key ?? gen.name('key');
  const acc = gen.name('acc');
  const out = gen.name(`v${id}`);
  w.line(`// ${node.label} (${siteLabel(node.site)})${batch ? ': batch mode, one final value per key' : ''}`, node.site);
  w.line(`const ${acc} = ${state}.get(${key});`);
  if (batch && op === 'sum') {
    w.line(`if (${acc} === undefined) ${state}.set(${key}, ${firstRecordCopy(gen, node, ctx.input)});`);
    w.line(`else ${access(acc, field!)} += ${access(ctx.input, field!)};`);
  } else {
    let next: string;
    if (op === 'sum' && isPlainName(field!)) next = `{ ...${acc}, ${field}: ${access(acc, field!)} + ${access(ctx.input, field!)} }`;
    else if (op === 'sum') next = `rt.withField(${acc}, ${JSON.stringify(field)}, ${access(acc, field!)} + ${access(ctx.input, field!)})`;
    else if (op === 'reduce') {
      const [accArg, valueArg] = recordArguments(w, gen.analysis.functions[id], id, [acc, ctx.input], gen);
      next = `${gen.reference(id)}(${accArg}, ${valueArg})`;
    } else next = `rt.${HELPERS[op]}(${acc}, ${ctx.input}, ${JSON.stringify(field)})`;
    w.line(`const ${out} = ${acc} === undefined ? ${ctx.input} : ${next};`);
    w.line(`${state}.set(${key}, ${out});`);
    if (!batch) w.line(`${emit}(${out}, ${ctx.ts});`);
  }
  if (batch) gen.finish.line(`for (const ${out} of ${state}.values()) ${emit}(${out}, undefined);`);
};
