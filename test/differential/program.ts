/**
 * Generated pipeline programs for the differential test: a small graph model
 * (sources, map / filter / flatMap, keyBy + rolling aggregate, union, forks,
 * sinks), a seeded generator that fills it with lambdas from the shape
 * catalogue, the renderer to TypeScript source, and the shrinking steps that
 * make a failing program smaller.
 *
 * Programs are built so that Flink defines their output as a multiset per
 * sink: a rolling aggregate only reads a stream whose per-key order is fixed
 * (one source, no union, parallelism 1, not after a batch aggregate), or, in
 * batch mode, records reduced to (key, value) so order cannot matter.
 */
import { Random } from './random.ts';
import { RECORD_TYPES, ShapeContext, shapesFor, simplestShape, type RecordType, type Role, type Shape } from './shapes.ts';

/** A user function in a program: the shape it came from and its rendered text. */
export interface Lambda { shape: string; text: string; prelude: string[]; canonical?: boolean }

/** The rolling aggregations of a keyed stream. */
export type RollingOp = 'sum' | 'min' | 'max' | 'minBy' | 'maxBy' | 'reduce';

/** One node of a generated program. Ids are indexes into Program.nodes. */
export type ProgramNode =
  | { id: number; op: 'source'; type: RecordType; items: unknown[] }
  | { id: number; op: 'map' | 'filter' | 'flatMap'; input: number; type: RecordType; fn: Lambda; normalizer?: true }
  | { id: number; op: 'rolling'; input: number; type: RecordType; key: Lambda; agg: RollingOp; field?: string; reduce?: Lambda }
  | { id: number; op: 'union'; inputs: number[]; type: RecordType }
  | { id: number; op: 'sink'; input: number; type: RecordType };

/** A node before it has an id. */
type NewNode = ProgramNode extends infer N ? (N extends ProgramNode ? Omit<N, 'id'> : never) : never;

/** A generated program. */
export interface Program {
  seed: number;
  mode: 'auto' | 'streaming';
  parallelism: 1 | 2;
  nodes: ProgramNode[];
}

/** Inputs of a node. */
export function inputsOf(node: ProgramNode): number[] {
  if (node.op === 'source') return [];
  if (node.op === 'union') return node.inputs;
  return [node.input];
}

/** The sources' items, in source order (what the harness pushes). */
export function sourceItems(program: Program): unknown[][] {
  return program.nodes.filter((n) => n.op === 'source').map((n) => (n as Extract<ProgramNode, { op: 'source' }>).items);
}

/** Whether a program contains a rolling aggregate (stage-worker runs need streaming mode for those). */
export function hasRolling(program: Program): boolean {
  return program.nodes.some((n) => n.op === 'rolling');
}

// ---- generation ----------------------------------------------------------------

const STRINGS = ['x', 'héllo', 'a\uE000b', 'two\nlines', '', 'q"uote', '\uE0020\uE003'];

function makeItems(rng: Random, type: RecordType): unknown[] {
  const count = rng.int(2, 6);
  return Array.from({ length: count }, (_, id) => {
    const k = rng.pick(['a', 'b', 'c']);
    const n = rng.int(-3, 9);
    if (type === 'pair') return [k, n];
    if (type === 'odd') return JSON.parse(`{"k":${JSON.stringify(k)},"__proto__":${n}}`);
    return { id, k, n, tags: Array.from({ length: rng.int(0, 3) }, () => rng.int(0, 5)), s: rng.pick(STRINGS) };
  });
}

function lambda(rng: Random, topLevel: Set<string>, s: Shape): Lambda {
  const c = new ShapeContext(rng, topLevel);
  const text = s.render(c);
  return { shape: `${s.role}:${s.name}`, text, prelude: c.prelude, canonical: s.canonical };
}

function pickShape(rng: Random, role: Role, from: RecordType, filter?: (s: Shape) => boolean): Shape | undefined {
  const shapes = shapesFor(role, from, filter);
  return shapes.length ? rng.weighted(shapes.map((s) => [s, s.weight] as const)) : undefined;
}

const FIELDS: Record<RecordType, string[]> = { rec: ['n', 'id'], pair: ['1'], odd: ['__proto__'] };
const AGGS: Record<RecordType, RollingOp[]> = {
  rec: ['sum', 'sum', 'min', 'max', 'minBy', 'maxBy', 'reduce', 'reduce'],
  pair: ['sum', 'sum', 'min', 'max', 'maxBy', 'reduce'],
  odd: ['sum', 'sum', 'max', 'reduce'],
};

/** The program for a seed. */
export function generateProgram(seed: number, options: { streamingOnly?: boolean } = {}): Program {
  const rng = new Random(seed);
  const topLevel = new Set<string>();
  const program: Program = {
    seed,
    mode: options.streamingOnly || rng.chance(0.35) ? 'streaming' : 'auto',
    parallelism: rng.chance(0.15) ? 2 : 1,
    nodes: [],
  };
  const add = (node: NewNode): ProgramNode => {
    const full = { ...node, id: program.nodes.length } as ProgramNode;
    program.nodes.push(full);
    return full;
  };
  const sourceCount = rng.chance(0.2) ? 2 : 1;
  for (let i = 0; i < sourceCount; i++) {
    const type: RecordType = rng.weighted([['rec', 8], ['pair', 1], ['odd', 1]]);
    add({ op: 'source', type, items: makeItems(rng, type) });
  }
  const operators = rng.int(2, 8);
  for (let added = 0; added < operators;) {
    const streams = program.nodes.filter((n) => n.op !== 'sink');
    // Mostly extend the newest stream; sometimes go back to an older one (a fork).
    const input = rng.chance(0.7) ? streams[streams.length - 1] : rng.pick(streams);
    if (rng.chance(0.1)) { add({ op: 'sink', input: input.id, type: input.type }); continue; }
    added++;
    const kind = rng.weighted([['map', 4], ['filter', 2], ['flatMap', 2], ['rolling', 3], ['union', 1]] as const);
    if (kind === 'union') {
      const others = streams.filter((s) => s.type === input.type && s.id !== input.id);
      if (others.length) { add({ op: 'union', inputs: [input.id, rng.pick(others).id], type: input.type }); continue; }
    }
    if (kind === 'rolling') {
      if (addRolling(rng, topLevel, program, input, add)) continue;
    }
    const role = kind === 'filter' ? 'filter' : kind === 'flatMap' ? 'flatMap' : 'map';
    const s = pickShape(rng, role, input.type) ?? pickShape(rng, 'map', input.type)!;
    add({ op: s.role as 'map' | 'filter' | 'flatMap', input: input.id, type: s.to, fn: lambda(rng, topLevel, s) });
  }
  // Every stream nobody reads gets a sink.
  const read = new Set(program.nodes.flatMap(inputsOf));
  for (const node of [...program.nodes]) if (node.op !== 'sink' && !read.has(node.id)) add({ op: 'sink', input: node.id, type: node.type });
  return program;
}

function addRolling(rng: Random, topLevel: Set<string>, program: Program, input: ProgramNode, add: (node: NewNode) => ProgramNode): boolean {
  const agg = rng.pick(AGGS[input.type]);
  let field = agg === 'reduce' ? undefined : rng.pick(FIELDS[input.type]);
  if (isOrdered(program, input.id)) {
    const keyShape = pickShape(rng, 'key', input.type)!;
    const reduceShape = agg === 'reduce' ? pickShape(rng, 'reduce', input.type) : undefined;
    add({ op: 'rolling', input: input.id, type: input.type, key: lambda(rng, topLevel, keyShape), agg, field, reduce: reduceShape && lambda(rng, topLevel, reduceShape) });
    return true;
  }
  // Order is not defined here: only a batch aggregate of (key, value) records has one answer.
  if (program.mode === 'streaming') return false;
  let from = input;
  // The normalizer keeps only k and n: aggregating any other field would take n from whichever record came first.
  if (field !== undefined && input.type === 'rec') field = 'n';
  if (input.type === 'rec') {
    from = add({ op: 'map', input: input.id, type: 'rec', normalizer: true, fn: { shape: 'map:normalize', text: "(r): Rec => ({ id: 0, k: r.k, n: r.n, tags: [], s: '' })", prelude: [] } });
  }
  const keyShape = pickShape(rng, 'key', input.type, (s) => !!s.canonical)!;
  const reduceShape = agg === 'reduce' ? pickShape(rng, 'reduce', input.type, (s) => !!s.canonical) : undefined;
  add({ op: 'rolling', input: from.id, type: input.type, key: lambda(rng, topLevel, keyShape), agg, field, reduce: reduceShape && lambda(rng, topLevel, reduceShape) });
  return true;
}

/** Whether Flink fixes the order of records within a key on this stream. */
export function isOrdered(program: Program, id: number): boolean {
  const node = program.nodes[id];
  if (node.op === 'source') return true;
  if (program.parallelism !== 1) return false;
  if (node.op === 'union') return false;
  if (node.op === 'rolling' && program.mode !== 'streaming') return false;
  return isOrdered(program, inputsOf(node)[0]);
}

/** Whether every rolling aggregate of a program has one defined answer (shrinking must keep this true). */
export function isWellDefined(program: Program): boolean {
  return program.nodes.every((node) => {
    if (node.op !== 'rolling' || isOrdered(program, node.input)) return true;
    if (program.mode === 'streaming') return false;
    const from = program.nodes[node.input];
    const normalized = node.type !== 'rec' || (from.op === 'map' && !!from.normalizer && (node.field === undefined || node.field === 'n'));
    return normalized && !!node.key.canonical && (node.agg !== 'reduce' || !!node.reduce?.canonical);
  });
}

// ---- rendering -----------------------------------------------------------------

/** How sinks are written: print sinks (in-process harness and local.mjs) or Kafka topics (stage workers). */
export type SinkStyle = 'print' | 'kafka';

/** The program as a pipeline file. */
export function renderProgram(program: Program, sinks: SinkStyle = 'print'): string {
  const name = `diff-${program.seed}`;
  const lines: string[] = [];
  lines.push(`// Differential test program, seed ${program.seed} (test/differential). Regenerate: npm run fuzz -- --seed ${program.seed} --runs 1`);
  lines.push(`import { pipeline, collection, ${sinks === 'print' ? 'print' : 'kafka'} } from 'pipec';`, '');
  lines.push(...RECORD_TYPES, '');
  const prelude = new Set<string>();
  for (const node of program.nodes) for (const fn of lambdasOf(node)) for (const decl of fn.prelude) prelude.add(decl);
  if (prelude.size) lines.push(...prelude, '');
  if (sinks === 'kafka') lines.push("const RUN = process.env.DIFF_RUN ?? 'diff';", '');
  const typeName: Record<RecordType, string> = { rec: 'Rec', pair: 'Pair', odd: 'Odd' };
  program.nodes.forEach((node) => {
    if (node.op === 'source') lines.push(`const items${node.id}: ${typeName[node.type]}[] = ${renderItems(node.items)};`);
  });
  lines.push('', `export default pipeline('${name}', (p) => {`);
  let sinkIndex = 0;
  for (const node of program.nodes) {
    const s = (id: number) => `s${id}`;
    switch (node.op) {
      case 'source': lines.push(`  const s${node.id} = p.source(collection(items${node.id}));`); break;
      case 'map': case 'filter': case 'flatMap':
        lines.push(`  const s${node.id} = ${s(node.input)}.${node.op}(${indent(node.fn.text)});`); break;
      case 'rolling': {
        const agg = node.agg === 'reduce' ? `reduce(${indent(node.reduce!.text)})` : `${node.agg}('${node.field}')`;
        lines.push(`  const s${node.id} = ${s(node.input)}.keyBy(${indent(node.key.text)}).${agg};`);
        break;
      }
      case 'union': lines.push(`  const s${node.id} = ${s(node.inputs[0])}.union(${node.inputs.slice(1).map(s).join(', ')});`); break;
      case 'sink': {
        const i = sinkIndex++;
        lines.push(sinks === 'print' ? `  ${s(node.input)}.sink(print('sink${i}'));` : `  ${s(node.input)}.sink(kafka.sink({ topic: \`\${RUN}-sink${i}\`, format: 'json' }));`);
        break;
      }
    }
  }
  const options: string[] = [];
  if (program.mode === 'streaming') options.push("mode: 'streaming'");
  if (program.parallelism !== 1) options.push(`parallelism: ${program.parallelism}`);
  lines.push(`}${options.length ? `, { ${options.join(', ')} }` : ''});`, '');
  return lines.join('\n');
}

/** Indents a lambda's continuation lines under its call (literal text included: the reference reads the same source). */
function indent(text: string): string {
  return text.replace(/\n/g, '\n  ');
}

function renderItems(items: unknown[]): string {
  // Own '__proto__' fields must stay fields: written as computed keys, which define a property.
  return `[${items.map((item) => renderValue(item)).join(', ')}]`;
}

function renderValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(renderValue).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{ ${Object.keys(value).map((k) => `${k === '__proto__' ? "['__proto__']" : /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${renderValue((value as Record<string, unknown>)[k])}`).join(', ')} }`;
  }
  return JSON.stringify(value);
}

function lambdasOf(node: ProgramNode): Lambda[] {
  if (node.op === 'map' || node.op === 'filter' || node.op === 'flatMap') return [node.fn];
  if (node.op === 'rolling') return node.reduce ? [node.key, node.reduce] : [node.key];
  return [];
}

/** The shapes a program uses (for reports). */
export function shapesUsed(program: Program): string[] {
  return [...new Set(program.nodes.flatMap(lambdasOf).map((l) => l.shape))];
}

// ---- shrinking -----------------------------------------------------------------

/** Removes nodes (and what only they fed), renumbering ids; null when no sink would be left. */
function without(program: Program, remove: Set<number>, redirect: Map<number, number> = new Map()): Program | null {
  const nodes = program.nodes;
  const gone = new Set(remove);
  const resolve = (i: number) => redirect.get(i) ?? i;
  const liveInputs = (node: ProgramNode) => inputsOf(node).map(resolve).filter((i) => !gone.has(i));
  // Everything downstream of a removed, not redirected node goes too (a union goes when all its inputs did).
  let changed = true;
  while (changed) {
    changed = false;
    for (const node of nodes) {
      if (gone.has(node.id) || node.op === 'source') continue;
      const live = liveInputs(node).length;
      if (node.op === 'union' ? live === 0 : live < inputsOf(node).length) { gone.add(node.id); changed = true; }
    }
  }
  // Streams nobody reads any more (not sinks) go as well.
  changed = true;
  while (changed) {
    changed = false;
    const read = new Set(nodes.filter((n) => !gone.has(n.id)).flatMap(liveInputs));
    for (const node of nodes) if (!gone.has(node.id) && node.op !== 'sink' && !read.has(node.id)) { gone.add(node.id); changed = true; }
  }
  const kept = nodes.filter((n) => !gone.has(n.id));
  if (!kept.some((n) => n.op === 'sink')) return null;
  const newId = new Map(kept.map((n, i) => [n.id, i]));
  const renumbered = kept.map((node, i): ProgramNode => {
    if (node.op === 'source') return { ...node, id: i };
    const inputs = [...new Set(liveInputs(node).map((x) => newId.get(x)!))];
    if (node.op === 'union') {
      return inputs.length === 1 ? { id: i, op: 'map', input: inputs[0], type: node.type, fn: { shape: 'map:identity', text: '(r) => r', prelude: [] } } : { ...node, id: i, inputs };
    }
    return { ...node, id: i, input: inputs[0] } as ProgramNode;
  });
  const result = { ...program, nodes: renumbered };
  return isWellDefined(result) ? result : null;
}

/** Smaller variants of a program, most promising first. */
export function* shrinkCandidates(program: Program): Generator<Program> {
  const nodes = program.nodes;
  const sinks = nodes.filter((n) => n.op === 'sink');
  // Drop whole sinks (and what only they read).
  if (sinks.length > 1) for (const sink of sinks) { const p = without(program, new Set([sink.id])); if (p) yield p; }
  // Bypass an operator whose input and output types agree, or cut it with its downstream.
  for (const node of [...nodes].reverse()) {
    if (node.op === 'source' || node.op === 'sink') continue;
    const input = inputsOf(node)[0];
    if (nodes[input].type === node.type) { const p = without(program, new Set([node.id]), new Map([[node.id, input]])); if (p) yield p; }
    const p = without(program, new Set([node.id])); if (p) yield p;
    // Or cut it with its downstream and sink its input instead (keeps what fed it observable).
    const withSink: Program = { ...program, nodes: [...nodes, { id: nodes.length, op: 'sink', input, type: nodes[input].type }] };
    const q = without(withSink, new Set([node.id])); if (q) yield q;
  }
  // Drop a second source with everything it feeds alone.
  for (const node of nodes) if (node.op === 'source' && nodes.filter((n) => n.op === 'source').length > 1) { const p = without(program, new Set([node.id])); if (p) yield p; }
  // Simpler settings.
  if (program.parallelism !== 1) yield { ...program, parallelism: 1 };
  if (program.mode !== 'auto') { const p = { ...program, mode: 'auto' as const }; if (isWellDefined(p)) yield p; }
  // Simpler lambdas.
  for (const node of nodes) {
    if (node.op === 'map' || node.op === 'filter' || node.op === 'flatMap') {
      if (node.normalizer) continue;
      const from = nodes[node.input].type;
      const simple = simplestShape(node.op, from, node.type);
      if (simple && `${node.op}:${simple.name}` !== node.fn.shape) yield replaceNode(program, { ...node, fn: renderSimple(simple) });
    }
    if (node.op === 'rolling' && node.agg === 'reduce') {
      const simple = simplestShape('reduce', node.type, node.type);
      if (simple && `reduce:${simple.name}` !== node.reduce!.shape) yield replaceNode(program, { ...node, reduce: renderSimple(simple) });
    }
    if (node.op === 'rolling') {
      const simple = simplestShape('key', node.type, node.type);
      if (simple && `key:${simple.name}` !== node.key.shape) yield replaceNode(program, { ...node, key: renderSimple(simple) });
      if (node.agg !== 'sum' && node.agg !== 'reduce') yield replaceNode(program, { ...node, agg: 'sum' });
    }
  }
  // Fewer input records.
  for (const node of nodes) {
    if (node.op !== 'source' || node.items.length <= 1) continue;
    for (let i = 0; i < node.items.length; i++) yield replaceNode(program, { ...node, items: node.items.filter((_, j) => j !== i) });
  }
}

function replaceNode(program: Program, node: ProgramNode): Program {
  return { ...program, nodes: program.nodes.map((n) => (n.id === node.id ? node : n)) };
}

function renderSimple(s: Shape): Lambda {
  const c = new ShapeContext(new Random(1), new Set());
  return { shape: `${s.role}:${s.name}`, text: s.render(c), prelude: c.prelude, canonical: s.canonical };
}
