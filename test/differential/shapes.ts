/**
 * The catalogue of lambda shapes the differential generator draws from: what
 * TypeScript users write in map / filter / flatMap / keyBy / reduce bodies.
 * Each shape is parametrised (names, constants, labels) by the generator's
 * random source, and many deliberately use names generated code uses (`v3`,
 * `keep2`, `value`, `rt`, `fn4`...), private-use marker characters in string
 * literals, multi-line literal text, early returns in nested constructs,
 * parameter reassignment and mutation of the input record.
 *
 * In: a ShapeContext (random choices, name pools). Out: the lambda's source
 * text, plus top-level declarations it needs.
 */
import type { Random } from './random.ts';

/** The record types a generated stream carries. */
export type RecordType = 'rec' | 'pair' | 'odd';

/** The TypeScript declarations of the record types (top of every program). */
export const RECORD_TYPES = [
  'interface Rec { id: number; k: string; n: number; tags: number[]; s: string }',
  'type Pair = [string, number];',
  "interface Odd { k: string; ['__proto__']: number }",
];

/** What a lambda is for. */
export type Role = 'map' | 'filter' | 'flatMap' | 'key' | 'reduce';

/** Names generated code uses (or used): user code must be free to use them too. */
export const GENERATED_LIKE = [
  'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'keep3', 'keep1', 'items2', 'items4', 'ts', 'ts3', 'fn4', 'fn2',
  'value', 'key', 'env', 'rt', 'emit2', 'emit1', 'acc', 'out3', 'state2', 'branch1_0', 'input3_0', 'k1', 'record2', 'skip',
];
const PARAMS = ['r', 'row', 'item', 'value', 'value', 'v1', 'v2', 'v4', 'acc', 'key', 'input3_0', 'ts', 'env'];
const LABELS = ['outer', 'fn1', 'fn2', 'fn3', 'fn4', 'fn5', 'record1', 'record3', 'scan', 'v2'];

/** Random choices and fresh names for one lambda; names never repeat inside it. */
export class ShapeContext {
  private readonly used = new Set<string>();
  /** Top-level declarations this lambda needs (closures over module constants, helpers, classes). */
  readonly prelude: string[] = [];
  constructor(readonly rng: Random, private readonly topLevel: Set<string>) {}
  /** A name from `pool` not used yet in this lambda. */
  name(pool: readonly string[] = GENERATED_LIKE): string {
    const free = pool.filter((n) => !this.used.has(n));
    const name = free.length ? this.rng.pick(free) : `n${this.used.size}`;
    this.used.add(name);
    return name;
  }
  /** A parameter name. */
  param(): string { return this.name(PARAMS); }
  /** A label. */
  label(): string { return this.name(LABELS); }
  /** A small integer. */
  int(min = 0, max = 5): number { return this.rng.int(min, max); }
  /** A key value that occurs in the data. */
  keyValue(): string { return this.rng.pick(['a', 'b', 'c']); }
  /** A module-level name (unique in the program) for a declaration this lambda closes over. */
  global(pool: readonly string[]): string {
    const free = pool.filter((n) => !this.topLevel.has(n));
    const name = free.length ? this.rng.pick(free) : `G${this.topLevel.size}`;
    this.topLevel.add(name);
    return name;
  }
}

/** One shape: renders a lambda text for its role and record types. */
export interface Shape {
  readonly name: string;
  readonly role: Role;
  readonly from: RecordType;
  /** Output record type (map, flatMap); the input type otherwise. */
  readonly to: RecordType;
  /** Relative frequency. */
  readonly weight: number;
  /** key shapes: returns exactly the record's `k` (or pair[0]); reduce shapes: order does not change the result. */
  readonly canonical?: boolean;
  render(c: ShapeContext): string;
}

function shape(role: Role, from: RecordType, name: string, render: (c: ShapeContext) => string, options: { to?: RecordType; weight?: number; canonical?: boolean } = {}): Shape {
  return { name, role, from, to: options.to ?? from, weight: options.weight ?? 1, canonical: options.canonical, render };
}

// U+E000..U+E003: the compiler's private-use marker characters, written raw into string literals.
const M0 = '\uE000', M1 = '\uE001', M2 = '\uE002', M3 = '\uE003';
const BT = '`';

/** Every shape, by role and record type. */
export const SHAPES: Shape[] = [
  // ---- map: Rec -> Rec --------------------------------------------------------
  shape('map', 'rec', 'spread-expression', (c) => { const p = c.param(); return `(${p}) => ({ ...${p}, n: ${p}.n + ${c.int(1, 9)} })`; }, { weight: 2 }),
  shape('map', 'rec', 'identity', (c) => { const p = c.param(); return `(${p}) => ${p}`; }),
  shape('map', 'rec', 'fields-expression', (c) => { const p = c.param(); return `(${p}) => ({ ...${p}, s: ${p}.s + ${p}.k, tags: [...${p}.tags, ${p}.id] })`; }),
  shape('map', 'rec', 'block-local-generated-name', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  const ${l} = ${p}.n * ${c.int(2, 4)};\n  return { ...${p}, n: ${l} };\n}`;
  }, { weight: 2 }),
  shape('map', 'rec', 'for-of-early-return', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  for (const ${l} of ${p}.tags) {\n    if (${l} > ${c.int(0, 3)}) return { ...${p}, n: ${l} };\n  }\n  return ${p};\n}`;
  }),
  shape('map', 'rec', 'while-early-return', (c) => {
    const p = c.param(), i = c.name();
    return `(${p}) => {\n  let ${i} = 0;\n  while (${i} < ${p}.tags.length) {\n    if (${p}.tags[${i}] % 2 === 0) return { ...${p}, s: ${p}.s + ${i} };\n    ${i}++;\n  }\n  return { ...${p}, s: ${p}.s + '!' };\n}`;
  }),
  shape('map', 'rec', 'switch-return', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  switch (${p}.k) {\n    case '${c.keyValue()}':\n      return { ...${p}, n: ${p}.n + 1 };\n    case '${c.keyValue()}': {\n      const ${l} = ${c.int(2, 3)};\n      return { ...${p}, n: ${p}.n * ${l} };\n    }\n    default:\n      break;\n  }\n  return { ...${p}, id: -${p}.id };\n}`;
  }),
  shape('map', 'rec', 'try-finally-return', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  let ${l} = ${p}.n;\n  try {\n    if (${l} > ${c.int(0, 4)}) return { ...${p}, n: ${l} };\n    ${l} = -${l};\n  } finally {\n    ${l} += 1;\n  }\n  return { ...${p}, n: ${l} };\n}`;
  }),
  shape('map', 'rec', 'finally-overrides-return', (c) => {
    const p = c.param();
    return `(${p}) => {\n  try {\n    return { ...${p}, s: 'try' };\n  } finally {\n    if (${p}.n % 2 === 0) {\n      // eslint-disable-next-line no-unsafe-finally\n      return { ...${p}, s: 'finally' };\n    }\n  }\n}`;
  }),
  shape('map', 'rec', 'labeled-loops', (c) => {
    const p = c.param(), l = c.name(), label = c.label();
    return `(${p}) => {\n  let ${l} = 0;\n  ${label}: for (const a of ${p}.tags) {\n    for (const b of ${p}.tags) {\n      if (a === b) continue ${label};\n      if (a + b > ${c.int(3, 7)}) break ${label};\n      ${l} += a * b;\n    }\n  }\n  return { ...${p}, n: ${l} };\n}`;
  }),
  shape('map', 'rec', 'recursive-function-expression-inside', (c) => {
    const p = c.param(), l = c.name(), f = c.name();
    return `(${p}) => {\n  const ${l} = function ${f}(m: number): number {\n    return m <= 1 ? 1 : m * ${f}(m - 1);\n  };\n  return { ...${p}, n: ${l}(Math.abs(${p}.n) % 6) };\n}`;
  }),
  shape('map', 'rec', 'self-recursive-lambda', (c) => {
    const p = c.param(), f = c.name();
    return `function ${f}(${p}: Rec): Rec {\n  if (${p}.n < ${c.int(2, 6)}) return ${f}({ ...${p}, n: ${p}.n + 3 });\n  return ${p};\n}`;
  }),
  shape('map', 'rec', 'reads-arguments', (c) => {
    const p = c.param();
    return `function (${p}: Rec) {\n  return { ...${p}, n: ${p}.n * 10 + arguments.length };\n}`;
  }),
  shape('map', 'rec', 'nested-function-reads-arguments', (c) => {
    const p = c.param(), f = c.name();
    return `(${p}) => {\n  function ${f}(..._xs: number[]) {\n    return arguments.length;\n  }\n  return { ...${p}, n: ${f}(${p}.n, ${p}.id, 0) + ${p}.n };\n}`;
  }),
  shape('map', 'rec', 'this-void-parameter', (c) => {
    const p = c.param();
    return `function (this: void, ${p}: Rec): Rec {\n  return { ...${p}, n: ${p}.n * 2, s: ${p}.k };\n}`;
  }),
  shape('map', 'rec', 'getter-with-return', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  const ${l} = {\n    base: ${p}.id,\n    get twice() {\n      return ${p}.n * 2;\n    },\n  };\n  return { ...${p}, n: ${l}.twice + ${l}.base };\n}`;
  }),
  shape('map', 'rec', 'class-with-methods', (c) => {
    const p = c.param(), cls = c.name(['Acc', 'env', 'rt', 'value', 'v1', 'emit2', 'Totals']), l = c.name();
    return `(${p}) => {\n  class ${cls} {\n    total = 0;\n    add(x: number) {\n      this.total += x;\n      return this;\n    }\n    get doubled() {\n      return this.total * 2;\n    }\n  }\n  const ${l} = new ${cls}();\n  for (const t of ${p}.tags) ${l}.add(t);\n  return { ...${p}, n: ${l}.doubled };\n}`;
  }),
  shape('map', 'rec', 'nested-function-return', (c) => {
    const p = c.param(), f = c.name();
    return `(${p}) => {\n  function ${f}(x: number) {\n    if (x < 0) return -x;\n    return x * 2;\n  }\n  return { ...${p}, n: ${f}(${p}.n) };\n}`;
  }),
  shape('map', 'rec', 'closure', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  const ${l} = (x: number) => x + ${p}.n;\n  return { ...${p}, tags: ${p}.tags.map(${l}) };\n}`;
  }),
  shape('map', 'rec', 'closure-over-module-const', (c) => {
    const p = c.param(), g = c.global(['SCALE', 'rt1', 'env2', 'value3', 'v7', 'OFFSET']);
    c.prelude.push(`const ${g} = ${c.int(2, 5)};`);
    return `(${p}) => ({ ...${p}, n: ${p}.n * ${g} })`;
  }),
  shape('map', 'rec', 'module-function-and-class', (c) => {
    const p = c.param(), f = c.global(['emit1', 'fn3', 'helper', 'v5']), k = c.global(['Box', 'rt2', 'State2']);
    c.prelude.push(`function ${f}(x: number): number {\n  return x + 1;\n}`, `class ${k} {\n  constructor(readonly inner: number) {}\n  get value() {\n    return this.inner * 3;\n  }\n}`);
    return `(${p}) => ({ ...${p}, n: new ${k}(${f}(${p}.n)).value })`;
  }),
  shape('map', 'rec', 'destructuring-parameter-defaults', (c) => {
    const rest = c.name(['rest', 'value', 'v3', 'env']);
    return `({ n, tags = [], ...${rest} }: Rec) => ({ ...${rest}, n: n + 1, tags })`;
  }),
  shape('map', 'rec', 'destructuring-local-defaults', (c) => {
    const p = c.param(), l = c.name(), first = c.name();
    return `(${p}) => {\n  const { n: ${l} = 0, s = '', tags: [${first} = -1] = [] } = ${p};\n  return { ...${p}, n: ${l} + ${first} + s.length };\n}`;
  }),
  shape('map', 'rec', 'multiline-template-literal', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  const ${l} = ${BT}\${${p}.k}:\n    indented line\n\ttab \${${p}.n}\n  end${BT};\n  return { ...${p}, s: ${l} };\n}`;
  }),
  shape('map', 'rec', 'backslash-continued-string', (c) => {
    const p = c.param();
    return `(${p}) => {\n  const text = 'one \\\n    two';\n  return { ...${p}, s: text + ${p}.s };\n}`;
  }),
  shape('map', 'rec', 'marker-characters-in-strings', (c) => {
    const p = c.param();
    return `(${p}) => ({ ...${p}, s: ${p}.s + '${M0}${c.int(0, 1)}${M1}' + "${M2}x${M3}" })`;
  }),
  shape('map', 'rec', 'marker-characters-in-block', (c) => {
    const p = c.param();
    return `(${p}) => {\n  // a comment with ${M2} and ${M3}\n  if (${p}.n > 2) return { ...${p}, s: '${M2}${p}${M3}' };\n  return { ...${p}, s: ${BT}${M0}0${M1}\${${p}.s}${BT} };\n}`;
  }),
  shape('map', 'rec', 'reassigns-parameter', (c) => {
    const p = c.param();
    return `(${p}) => {\n  ${p} = { ...${p}, n: ${p}.n + 1 };\n  return ${p};\n}`;
  }, { weight: 2 }),
  shape('map', 'rec', 'reassigns-parameter-expression', (c) => {
    const p = c.param();
    return `(${p}) => (${p} = { ...${p}, k: ${p}.k + '2' }, { ...${p} })`;
  }),
  shape('map', 'rec', 'mutates-field', (c) => {
    const p = c.param();
    return `(${p}) => {\n  ${p}.n += ${c.int(1, 9)};\n  return ${p};\n}`;
  }, { weight: 3 }),
  shape('map', 'rec', 'mutates-array-then-copies', (c) => {
    const p = c.param();
    return `(${p}) => {\n  ${p}.tags.push(${p}.n);\n  return { ...${p}, s: ${p}.s + '+' };\n}`;
  }, { weight: 2 }),
  shape('map', 'rec', 'deletes-field', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  const ${l} = { ...${p} };\n  delete (${p} as Partial<Rec>).s;\n  return { ...${l}, n: ${l}.n + (${p}.s === undefined ? 1 : 0) };\n}`;
  }),
  shape('map', 'rec', 'sorts-in-place', (c) => {
    const p = c.param();
    return `(${p}) => {\n  ${p}.tags.sort((a, b) => b - a);\n  ${p}.n = -${p}.n;\n  return { ...${p}, tags: [...${p}.tags] };\n}`;
  }),
  // ---- map: conversions and other record types ---------------------------------
  shape('map', 'rec', 'to-pair', (c) => { const p = c.param(); return `(${p}): Pair => [${p}.k, ${p}.n]`; }, { to: 'pair' }),
  shape('map', 'rec', 'to-pair-block', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  const ${l}: Pair = [${p}.k, ${p}.n + ${p}.tags.length];\n  return ${l};\n}`;
  }, { to: 'pair' }),
  shape('map', 'rec', 'to-odd', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  const ${l}: Odd = { k: ${p}.k, ['__proto__']: ${p}.n };\n  return ${l};\n}`;
  }, { to: 'odd' }),
  shape('map', 'pair', 'pair-to-rec', (c) => {
    const a = c.name(['k', 'key', 'v1', 'name']), b = c.name(['n', 'value', 'v2', 'count']);
    return `([${a}, ${b}]: Pair) => ({ id: ${b}, k: ${a}, n: ${b}, tags: [${b}], s: ${a} })`;
  }, { to: 'rec' }),
  shape('map', 'pair', 'pair-scale', (c) => { const p = c.param(); return `(${p}): Pair => [${p}[0], ${p}[1] * 2]`; }),
  shape('map', 'pair', 'pair-mutates', (c) => { const p = c.param(); return `(${p}) => {\n  ${p}[1] += ${c.int(1, 5)};\n  return ${p};\n}`; }, { weight: 2 }),
  shape('map', 'pair', 'pair-reassigns', (c) => { const p = c.param(); return `(${p}) => {\n  ${p} = [${p}[0], ${p}[1] - 1];\n  return ${p};\n}`; }),
  shape('map', 'odd', 'odd-to-rec', (c) => {
    const p = c.param();
    return `(${p}): Rec => ({ id: 0, k: ${p}.k, n: ${p}['__proto__'], tags: [], s: 'odd' })`;
  }, { to: 'rec' }),
  shape('map', 'odd', 'odd-spread', (c) => { const p = c.param(); return `(${p}) => ({ ...${p}, k: ${p}.k + '.' })`; }),
  shape('map', 'odd', 'odd-mutates', (c) => { const p = c.param(); return `(${p}) => {\n  ${p}['__proto__'] += ${c.int(1, 5)};\n  return ${p};\n}`; }),

  // ---- filter: Rec ------------------------------------------------------------
  shape('filter', 'rec', 'compare-expression', (c) => { const p = c.param(); return `(${p}) => ${p}.n > ${c.int(-1, 4)}`; }, { weight: 2 }),
  shape('filter', 'rec', 'key-compare', (c) => { const p = c.param(); return `(${p}) => ${p}.k !== '${c.keyValue()}'`; }),
  shape('filter', 'rec', 'loop-early-return', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  for (const ${l} of ${p}.tags) if (${l} === ${c.int(0, 4)}) return false;\n  return true;\n}`;
  }),
  shape('filter', 'rec', 'switch-return', (c) => {
    const p = c.param();
    return `(${p}) => {\n  switch (${p}.k) {\n    case 'a':\n      return ${p}.n % 2 === 0;\n    case 'b': {\n      if (${p}.n > 2) return true;\n      break;\n    }\n  }\n  return ${p}.id % 3 !== 0;\n}`;
  }),
  shape('filter', 'rec', 'try-finally-return', (c) => {
    const p = c.param(), l = c.name();
    return `(${p}) => {\n  let ${l} = 0;\n  try {\n    ${l} = ${p}.n;\n    return ${l} > ${c.int(0, 3)};\n  } finally {\n    ${l} = -1;\n  }\n}`;
  }),
  shape('filter', 'rec', 'type-guard', (c) => { const p = c.param(); return `(${p}): ${p} is Rec => ${p}.tags.length > 0`; }),
  shape('filter', 'rec', 'named-recursive', (c) => {
    const p = c.param(), f = c.name();
    return `function ${f}(${p}: Rec): boolean {\n  return ${p}.n > 0 || (${p}.n < -1 && ${f}({ ...${p}, n: -${p}.n }));\n}`;
  }),
  shape('filter', 'rec', 'reads-arguments', (c) => { const p = c.param(); return `function (${p}: Rec) {\n  return arguments.length === 1 && ${p}.n !== ${c.int(0, 3)};\n}`; }),
  shape('filter', 'rec', 'this-void-parameter', (c) => { const p = c.param(); return `function (this: void, ${p}: Rec) {\n  return ${p}.n % 2 !== 0;\n}`; }),
  shape('filter', 'rec', 'destructuring-defaults', (c) => {
    const first = c.name();
    return `({ n, tags: [${first} = 0] = [] }: Rec) => n + ${first} > ${c.int(0, 4)}`;
  }),
  shape('filter', 'rec', 'reassigns-parameter', (c) => {
    const p = c.param();
    return `(${p}) => {\n  ${p} = { ...${p}, n: ${p}.n - 100, s: 'reassigned' };\n  return ${p}.n < 0;\n}`;
  }, { weight: 2 }),
  shape('filter', 'rec', 'mutates-input', (c) => {
    const p = c.param();
    return `(${p}) => {\n  ${p}.tags.push(${c.int(0, 9)});\n  ${p}.n += 1;\n  return ${p}.n % 2 === 0;\n}`;
  }, { weight: 2 }),
  shape('filter', 'rec', 'labeled-break', (c) => {
    const p = c.param(), l = c.name(), label = c.label();
    return `(${p}) => {\n  let ${l} = false;\n  ${label}: for (const a of ${p}.tags) {\n    for (const b of ${p}.tags) {\n      if (a + b === ${c.int(2, 6)}) {\n        ${l} = true;\n        break ${label};\n      }\n    }\n  }\n  return !${l};\n}`;
  }),
  shape('filter', 'rec', 'closure', (c) => { const p = c.param(); return `(${p}) => [${p}.n, ${p}.id].some((x) => x > ${c.int(1, 5)})`; }),
  shape('filter', 'rec', 'getter-and-class', (c) => {
    const p = c.param(), cls = c.name(['Check', 'keep3', 'rt', 'value']);
    return `(${p}) => {\n  class ${cls} {\n    constructor(readonly r: Rec) {}\n    get ok() {\n      return this.r.n >= 0;\n    }\n  }\n  return new ${cls}(${p}).ok;\n}`;
  }),
  shape('filter', 'rec', 'marker-characters', (c) => { const p = c.param(); return `(${p}) => ${p}.s !== '${M0}${c.int(0, 1)}${M1}' && '${M2}'.length === 1`; }),
  shape('filter', 'rec', 'template-literal', (c) => { const p = c.param(); return `(${p}) => ${BT}\${${p}.k}\n  x${BT}.length === 5`; }),
  shape('filter', 'pair', 'pair-compare', (c) => { const p = c.param(); return `(${p}) => ${p}[1] > ${c.int(-1, 3)}`; }),
  shape('filter', 'pair', 'pair-mutates', (c) => { const p = c.param(); return `(${p}) => {\n  ${p}[1] *= 2;\n  return true;\n}`; }),
  shape('filter', 'odd', 'odd-compare', (c) => { const p = c.param(); return `(${p}) => ${p}['__proto__'] !== ${c.int(0, 3)}`; }),

  // ---- flatMap: Rec -> Rec -------------------------------------------------------
  shape('flatMap', 'rec', 'one-element-array', (c) => { const p = c.param(); return `(${p}) => [${p}]`; }),
  shape('flatMap', 'rec', 'one-element-array-new', (c) => { const p = c.param(); return `(${p}) => [{ ...${p}, n: ${p}.n + 1 }]`; }),
  shape('flatMap', 'rec', 'two-elements', (c) => { const p = c.param(); return `(${p}) => [${p}, { ...${p}, id: ${p}.id + 100 }]`; }, { weight: 2 }),
  shape('flatMap', 'rec', 'array-map', (c) => { const p = c.param(); return `(${p}) => ${p}.tags.map((t) => ({ ...${p}, n: t }))`; }),
  shape('flatMap', 'rec', 'generator-function', (c) => {
    const p = c.param(), t = c.name();
    return `function* (${p}: Rec) {\n  for (const ${t} of ${p}.tags) yield { ...${p}, n: ${t} };\n  if (${p}.tags.length === 0) yield ${p};\n}`;
  }),
  shape('flatMap', 'rec', 'generator-yield-star', (c) => {
    const p = c.param();
    return `function* (${p}: Rec): Generator<Rec> {\n  yield* [${p}];\n  yield* (function* () {\n    yield { ...${p}, s: 'inner' };\n  })();\n}`;
  }),
  shape('flatMap', 'rec', 'arrow-returns-generator', (c) => {
    const p = c.param(), f = c.name();
    return `(${p}) => (function* ${f}() {\n  yield ${p};\n  if (${p}.n > 1) yield { ...${p}, n: 1 };\n})()`;
  }),
  shape('flatMap', 'rec', 'same-record-twice-mutated', (c) => {
    const p = c.param();
    return `(${p}) => {\n  ${p}.n *= 2;\n  return [${p}, ${p}];\n}`;
  }, { weight: 2 }),
  shape('flatMap', 'rec', 'yield-then-mutate', (c) => {
    const p = c.param();
    return `function* (${p}: Rec) {\n  yield ${p};\n  ${p}.n += 100;\n  ${p}.tags.push(7);\n  yield ${p};\n}`;
  }),
  shape('flatMap', 'rec', 'block-early-return', (c) => {
    const p = c.param(), l = c.name(), i = c.name();
    return `(${p}) => {\n  if (${p}.n < 0) return [];\n  const ${l}: Rec[] = [];\n  for (let ${i} = 0; ${i} < ${p}.n % 3; ${i}++) ${l}.push({ ...${p}, id: ${p}.id * 10 + ${i} });\n  return ${l};\n}`;
  }),
  shape('flatMap', 'rec', 'reassigns-parameter', (c) => {
    const p = c.param();
    return `(${p}) => {\n  ${p} = { ...${p}, s: ${p}.s + '*' };\n  return [${p}];\n}`;
  }),
  shape('flatMap', 'rec', 'class-iterator', (c) => {
    const p = c.param(), cls = c.name(['Pairs', 'items2', 'v3', 'env']);
    return `(${p}) => {\n  class ${cls} {\n    *[Symbol.iterator]() {\n      yield ${p};\n      yield { ...${p}, n: 0 };\n    }\n  }\n  return new ${cls}();\n}`;
  }),
  shape('flatMap', 'rec', 'set-of-same-record', (c) => { const p = c.param(); return `(${p}) => new Set([${p}, ${p}])`; }),
  shape('flatMap', 'rec', 'destructuring-rest', (c) => {
    const rest = c.name(['rest', 'value', 'v1', 'items4']);
    return `({ tags, ...${rest} }: Rec) => tags.map((t) => ({ ...${rest}, tags: [t] }))`;
  }),
  shape('flatMap', 'rec', 'marker-characters', (c) => { const p = c.param(); return `(${p}) => [{ ...${p}, s: '${M2}${M0}0${M1}${M3}' }]`; }),
  shape('flatMap', 'pair', 'pair-two', (c) => { const p = c.param(); return `(${p}) => [${p}, [${p}[0], -${p}[1]] as Pair]`; }),
  shape('flatMap', 'odd', 'odd-one', (c) => { const p = c.param(); return `(${p}) => [${p}]`; }),

  // ---- keyBy -------------------------------------------------------------------
  shape('key', 'rec', 'field', (c) => { const p = c.param(); return `(${p}) => ${p}.k`; }, { weight: 3, canonical: true }),
  shape('key', 'rec', 'destructured', () => '({ k }) => k', { canonical: true }),
  shape('key', 'rec', 'this-void', (c) => { const p = c.param(); return `function (this: void, ${p}: Rec) {\n  return ${p}.k;\n}`; }, { canonical: true }),
  shape('key', 'rec', 'block-local', (c) => { const p = c.param(), l = c.name(); return `(${p}) => {\n  const ${l} = ${p}.k;\n  return ${l};\n}`; }, { canonical: true }),
  shape('key', 'rec', 'number-modulo', (c) => { const p = c.param(); return `(${p}) => Math.abs(${p}.n) % 3`; }),
  shape('key', 'rec', 'switch', (c) => {
    const p = c.param();
    return `(${p}) => {\n  switch (${p}.k) {\n    case 'a':\n      return 'A';\n    default:\n      return ${p}.k;\n  }\n}`;
  }),
  shape('key', 'pair', 'pair-first', (c) => { const p = c.param(); return `(${p}) => ${p}[0]`; }, { canonical: true }),
  shape('key', 'pair', 'pair-destructured', (c) => { const a = c.name(['k', 'key', 'v1']); return `([${a}]: Pair) => ${a}`; }, { canonical: true }),
  shape('key', 'odd', 'odd-field', (c) => { const p = c.param(); return `(${p}) => ${p}.k`; }, { canonical: true }),

  // ---- reduce ------------------------------------------------------------------
  shape('reduce', 'rec', 'spread-sum', (c) => { const [a, b] = reduceParams(c); return `(${a}, ${b}) => ({ ...${a}, n: ${a}.n + ${b}.n })`; }, { canonical: true, weight: 2 }),
  shape('reduce', 'rec', 'mutates-accumulator', (c) => {
    const [a, b] = reduceParams(c);
    return `(${a}, ${b}) => {\n  ${a}.n += ${b}.n;\n  ${a}.tags.push(...${b}.tags);\n  return ${a};\n}`;
  }, { weight: 2 }),
  shape('reduce', 'rec', 'pick-larger', (c) => { const [a, b] = reduceParams(c); return `(${a}, ${b}) => (${b}.n > ${a}.n ? ${b} : ${a})`; }),
  shape('reduce', 'rec', 'reassigns-parameter', (c) => {
    const [a, b] = reduceParams(c);
    return `(${a}, ${b}) => {\n  ${a} = { ...${a}, s: ${a}.s + ${b}.s };\n  return ${a};\n}`;
  }),
  shape('reduce', 'rec', 'loop-early-return', (c) => {
    const [a, b] = reduceParams(c);
    return `(${a}, ${b}) => {\n  for (const t of ${b}.tags) {\n    if (t > ${c.int(2, 4)}) return { ...${a}, n: ${a}.n + t };\n  }\n  return { ...${a}, n: ${a}.n + ${b}.n };\n}`;
  }),
  shape('reduce', 'rec', 'reads-arguments', (c) => {
    const [a, b] = reduceParams(c);
    return `function (${a}: Rec, ${b}: Rec) {\n  return { ...${a}, n: ${a}.n + ${b}.n + arguments.length };\n}`;
  }),
  shape('reduce', 'pair', 'pair-sum', (c) => { const [a, b] = reduceParams(c); return `(${a}, ${b}): Pair => [${a}[0], ${a}[1] + ${b}[1]]`; }, { canonical: true }),
  shape('reduce', 'pair', 'pair-mutates', (c) => { const [a, b] = reduceParams(c); return `(${a}, ${b}) => {\n  ${a}[1] += ${b}[1];\n  return ${a};\n}`; }, { canonical: true }),
  shape('reduce', 'odd', 'odd-sum', (c) => {
    const [a, b] = reduceParams(c);
    return `(${a}, ${b}): Odd => ({ k: ${a}.k, ['__proto__']: ${a}['__proto__'] + ${b}['__proto__'] })`;
  }, { canonical: true }),
];

function reduceParams(c: ShapeContext): [string, string] {
  return c.rng.pick([['a', 'b'], ['acc', 'value'], ['v1', 'v2'], ['value', 'key'], ['acc', 'x'], ['ts', 'env']] as Array<[string, string]>);
}

/** Shapes for a role and input type. */
export function shapesFor(role: Role, from: RecordType, filter: (s: Shape) => boolean = () => true): Shape[] {
  return SHAPES.filter((s) => s.role === role && s.from === from && filter(s));
}

/** The simplest shape for a role and types (what shrinking tries instead of a complex body). */
export function simplestShape(role: Role, from: RecordType, to: RecordType): Shape | undefined {
  return shapesFor(role, from, (s) => s.to === to)[0];
}
