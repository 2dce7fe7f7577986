// The internal-edge codec (runtime/internal/codec) and the record types the
// compiler gives it (compiler/phases/3-analyze/edge-types.ts): exact round
// trips of everything a type allows, a seeded property test over random
// schemas and values, values that lie about their type, refused and corrupt
// records, schemas extracted from real pipelines, PC1120, and the manifest.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { build, check, memoryHost } from '../compiler/index.ts';
import { createCodec, schemaText, TYPED_ARRAYS, type RecordSchema } from '../runtime/internal/codec/index.ts';
import { EdgeRecordCodec } from '../runtime/internal/distributed/edges.ts';
import { repoRoot } from './helpers.ts';

const S = {
  number: { kind: 'number' }, string: { kind: 'string' }, boolean: { kind: 'boolean' }, bigint: { kind: 'bigint' },
  null: { kind: 'null' }, undefined: { kind: 'undefined' }, date: { kind: 'date' }, any: { kind: 'any' },
} as const satisfies Record<string, RecordSchema>;
const field = (name: string, schema: RecordSchema, optional = false) => ({ name, schema, optional });
const object = (...fields: ReturnType<typeof field>[]): RecordSchema => ({ kind: 'object', fields });
const union = (...variants: RecordSchema[]): RecordSchema => ({ kind: 'union', variants });

/** Keys of every object in a value, in order: deepStrictEqual does not compare key order, but a JSON sink after the edge would. */
function keyOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keyOrder);
  if (v instanceof Map) return [...v].map(([k, x]) => [keyOrder(k), keyOrder(x)]);
  if (v instanceof Set) return [...v].map(keyOrder);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.entries(v).map(([k, x]) => [k, keyOrder(x)]);
  return null;
}

/** Asserts that a value arrives exactly as it left. */
function assertRoundTrip(schema: RecordSchema, value: unknown, message?: string): unknown {
  const codec = createCodec(schema);
  const back = codec.decode(codec.encode(value));
  assert.deepStrictEqual(back, value, message);
  assert.deepStrictEqual(keyOrder(back), keyOrder(value), `${message ?? ''} (key order)`);
  return back;
}

const TREE: RecordSchema = { kind: 'recursive', name: 'Tree', schema: object(field('label', S.string), field('children', { kind: 'array', element: { kind: 'ref', name: 'Tree' } })) };
const EVENT: RecordSchema = object(
  field('id', S.string), field('at', S.date), field('tags', { kind: 'map', key: S.string, value: S.number }),
  field('seen', { kind: 'set', element: S.bigint }), field('big', S.bigint), field('n', S.number),
  field('maybe', union(S.undefined, S.string)), field('opt', union(S.undefined, S.number), true),
  field('kind', union({ kind: 'literal', value: 'a' }, { kind: 'literal', value: 'b' })), field('flag', S.boolean),
  field('pair', { kind: 'tuple', elements: [S.string, S.number] }), field('bytes', { kind: 'typedArray', type: 'Float64Array' }),
  field('buf', { kind: 'typedArray', type: 'Buffer' }), field('dict', { kind: 'dictionary', value: { kind: 'set', element: S.number } }),
  field('nul', union(S.null, S.string)), field('items', { kind: 'array', element: union(S.undefined, S.number) }),
  field('shape', union(object(field('type', { kind: 'literal', value: 'circle' }), field('r', S.number)), object(field('type', { kind: 'literal', value: 'rect' }), field('w', S.number), field('h', S.number)))),
  field('tree', TREE), field('re', { kind: 'regexp' }), field('free', S.any),
);

test('every value the type allows arrives exactly, on the typed layout', () => {
  const codec = createCodec(EVENT);
  const value = {
    id: 'ünï-€-😀', at: new Date(1_700_000_000_123), tags: new Map([['a', NaN], ['b', -0], ['c', Infinity], ['d', -Infinity]]),
    seen: new Set([0n, -1n, 2n ** 64n, -(2n ** 100n)]), big: 9_007_199_254_740_993n, n: -0,
    maybe: undefined, kind: 'b', flag: false, pair: ['x', 1.5], bytes: new Float64Array([NaN, -0, 1e308]), buf: Buffer.from([0, 255, 7]),
    dict: { __proto__x: new Set([1]), 7: new Set<number>() }, nul: null, items: [1, undefined, 3],
    shape: { type: 'rect', w: 2, h: 3 }, tree: { label: 'root', children: [{ label: 'leaf', children: [] }] }, re: /a+b/giu,
    free: { when: new Date(0), m: new Map<unknown, unknown>([[1n, [undefined, NaN]]]), s: 'lone \ud800 surrogate', arr: [1, , 3] },
  };
  const back = codec.decode(codec.encode(value)) as typeof value;
  assert.deepStrictEqual(back, value);
  assert.equal(codec.fallbacks, 0, 'a record of the declared type uses the typed layout');
  assert.ok(Object.is(back.n, -0) && Object.is(back.tags.get('b'), -0));
  assert.ok(back.at instanceof Date && back.bytes instanceof Float64Array && Buffer.isBuffer(back.buf));
  assert.ok('maybe' in back && !('opt' in back), 'a present undefined field stays, an absent optional field stays absent');
  assert.ok(!(1 in (back.free.arr as unknown[])), 'a hole stays a hole');
  assert.equal(back.free.s, 'lone \ud800 surrogate', 'a lone surrogate survives (UTF-8 cannot carry it)');
  // An invalid Date (deepStrictEqual does not compare two of them as equal on Node 20).
  const invalid = codec.decode(codec.encode({ ...value, at: new Date(NaN) })) as typeof value;
  assert.ok(invalid.at instanceof Date && Number.isNaN(invalid.at.getTime()));
  // Optional field present, other union variants.
  assertRoundTrip(EVENT, { ...value, opt: 4, maybe: 'x', nul: 'y', shape: { type: 'circle', r: 1 }, kind: 'a' });
});

test('strings of every length and script round-trip', () => {
  for (const s of ['', 'a', 'x'.repeat(63), 'x'.repeat(64), 'é'.repeat(21), 'é'.repeat(22), '€'.repeat(63), '😀'.repeat(40), 'ascii then é', 'z'.repeat(100_000) + 'é', '\udc00', 'a\ud83d', 'é'.repeat(5000) + '\ud800']) {
    assertRoundTrip(S.string, s, `length ${s.length}`);
    assertRoundTrip(S.any, s, `length ${s.length}, tagged`);
  }
});

/** A small seeded PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMBERS = [0, -0, 1, -1, 0.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31), 1e-300, Number.MAX_VALUE];
const STRINGS = ['', 'a', 'hello world', 'ünïcödé', '😀x', '\ud800', 'x'.repeat(70), '__proto__', 'constructor', '0'];

function randomSchema(rand: () => number, depth: number): RecordSchema {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)];
  const leaves: RecordSchema[] = [S.number, S.string, S.boolean, S.bigint, S.null, S.undefined, S.date, S.any, { kind: 'regexp' }, { kind: 'literal', value: pick(['on', 'off']) }, { kind: 'typedArray', type: pick(TYPED_ARRAYS) }];
  if (depth <= 0 || rand() < 0.3) return pick(leaves);
  switch (Math.floor(rand() * 8)) {
    case 0: return { kind: 'array', element: randomSchema(rand, depth - 1) };
    case 1: return { kind: 'tuple', elements: Array.from({ length: 1 + Math.floor(rand() * 3) }, () => randomSchema(rand, depth - 1)) };
    case 2: return { kind: 'map', key: randomSchema(rand, depth - 1), value: randomSchema(rand, depth - 1) };
    case 3: return { kind: 'set', element: randomSchema(rand, depth - 1) };
    case 4: return { kind: 'dictionary', value: randomSchema(rand, depth - 1) };
    case 5: return union(randomSchema(rand, depth - 1), randomSchema(rand, depth - 1), pick(leaves));
    default: {
      const names = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick(['a', 'b', 'c', 'id', '10', '2', 'x y', '__proto__', 'ts'])))];
      return object(...names.map((name) => field(name, randomSchema(rand, depth - 1), rand() < 0.3)));
    }
  }
}

/** A random value of a schema; null when the schema has no value here (a union whose variants the generator cannot tell apart). */
function randomValue(schema: RecordSchema, rand: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)];
  const count = () => Math.floor(rand() * 4);
  switch (schema.kind) {
    case 'number': return pick(NUMBERS);
    case 'string': return pick(STRINGS);
    case 'boolean': return rand() < 0.5;
    case 'bigint': return pick([0n, -5n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n, -(10n ** 30n)]);
    case 'null': return null;
    case 'undefined': return undefined;
    case 'date': return new Date(pick([0, -1, 8.64e15, 1_700_000_000_000]));
    case 'regexp': return pick([/a/g, /[é]+/u, /x/]);
    case 'literal': return schema.value;
    case 'typedArray': {
      const bytes = new Uint8Array(8 * count());
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      return schema.type === 'Buffer' ? Buffer.from(bytes) : new ({ Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array } as Record<string, new (b: ArrayBuffer) => unknown>)[schema.type](bytes.buffer);
    }
    case 'any': return depth > 3 ? pick([1, 'x', undefined, -0]) : pick([() => NaN, () => new Map([[1n, new Date(3)]]), () => ({ k: [undefined, , 2] }), () => new Set(['x']), () => -0, () => new Uint16Array([1, 2])])();
    case 'array': return Array.from({ length: count() }, () => randomValue(schema.element, rand, depth + 1));
    case 'tuple': return schema.elements.map((e) => randomValue(e, rand, depth + 1));
    case 'map': return new Map(Array.from({ length: count() }, () => [randomValue(schema.key, rand, depth + 1), randomValue(schema.value, rand, depth + 1)]));
    case 'set': return new Set(Array.from({ length: count() }, () => randomValue(schema.element, rand, depth + 1)));
    case 'dictionary': {
      const o: Record<string, unknown> = {};
      for (let i = count(); i > 0; i--) Object.defineProperty(o, pick(STRINGS), { value: randomValue(schema.value, rand, depth + 1), enumerable: true, writable: true, configurable: true });
      return o;
    }
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const f of schema.fields) if (!f.optional || rand() < 0.5) Object.defineProperty(o, f.name, { value: randomValue(f.schema, rand, depth + 1), enumerable: true, writable: true, configurable: true });
      return o;
    }
    case 'union': return randomValue(pick(schema.variants), rand, depth + 1);
    case 'recursive': case 'ref': return null;
  }
}

test('seeded property: random schemas, random values of them, exact round trips', () => {
  // CODEC_SEED=<n> tries another seed; a failure prints the schema and the value.
  const rand = prng(Number(process.env.CODEC_SEED ?? 20240611));
  let typed = 0, total = 0;
  for (let s = 0; s < 300; s++) {
    const schema = randomSchema(rand, 4);
    const codec = createCodec(schema);
    for (let v = 0; v < 15; v++) {
      const value = randomValue(schema, rand);
      const before = codec.fallbacks;
      let back: unknown;
      try {
        back = codec.decode(codec.encode(value));
        assert.deepStrictEqual(back, value);
        assert.deepStrictEqual(keyOrder(back), keyOrder(value));
      } catch (error) {
        throw new Error(`schema ${schemaText(schema)} (#${s}), value ${JSON.stringify(value, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))}: ${(error as Error).message}`);
      }
      total++;
      if (codec.fallbacks === before) typed++;
    }
  }
  // Values of the declared type take the typed layout, except ambiguous unions (e.g. two array variants) that travel tagged by design.
  assert.ok(typed / total > 0.9, `typed layout for ${typed} of ${total} values`);
});

test('values that do not match their declared type still arrive exactly (tagged fallback)', () => {
  const click = object(field('user', S.string), field('ts', S.number), field('page', object(field('url', S.string))));
  const codec = createCodec(click);
  class Point { constructor(public user: string, public ts: number) {} }
  const lies: unknown[] = [
    { user: 'a', ts: 1, page: { url: '/' }, extra: new Map([[1, 2]]) },  // a structural subtype with more keys
    { ts: 1, user: 'a', page: { url: '/' } },                              // another key order
    { user: 'a', ts: '1', page: { url: '/' } },                            // a JSON source whose data is not what it declares
    { user: 'a', page: { url: '/' } },                                     // a missing field
    { user: 'a', ts: 1, page: new Date(5) },
    Object.assign(Object.create(null), { user: 'a', ts: 1, page: { url: '/' } }),
    [1, , 3], null, undefined, 12n,
  ];
  for (const value of lies) {
    const back = codec.decode(codec.encode(value));
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === null) assert.deepEqual({ ...back as object }, { ...value });
    else { assert.deepStrictEqual(back, value); assert.deepStrictEqual(keyOrder(back), keyOrder(value)); }
  }
  assert.equal(codec.fallbacks, lies.length);
  // A class instance arrives as a plain object with its fields (its prototype stays behind, as with structuredClone).
  assert.deepStrictEqual(codec.decode(codec.encode(new Point('a', 1))), { user: 'a', ts: 1 });
});

test('functions and symbols are refused with the path of the value', () => {
  const codec = createCodec(object(field('page', S.any)));
  assert.throws(() => codec.encode({ page: { fmt: () => 1 } }), /a function cannot be sent to another stage \(at page\.fmt\)/);
  assert.throws(() => codec.encode({ page: [Symbol('x')] }), /a symbol cannot be sent to another stage \(at page\[0\]\)/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => codec.encode({ page: cyclic }), /a cycle/);
});

test('truncated, corrupt and foreign records are refused, not misread', () => {
  const a = createCodec(object(field('user', S.string), field('n', S.number)));
  const b = createCodec(object(field('user', S.string), field('n', S.bigint)));
  const bytes = a.encode({ user: 'alice', n: 3 });
  assert.throws(() => a.decode(bytes.subarray(0, bytes.length - 2)), /truncated/);
  assert.throws(() => a.decode(Buffer.concat([bytes, Buffer.from([0])])), /trailing bytes/);
  assert.throws(() => b.decode(bytes), /written for another record type/);
  assert.throws(() => a.decode(Buffer.from([9, 1, 2])), /unknown format/);
});

test('edge records carry the event timestamp next to the value', () => {
  const edge = new EdgeRecordCodec(object(field('at', S.date)));
  const value = { at: new Date(42) };
  assert.deepStrictEqual(edge.decode(edge.encode(value, 1_700_000_000_000.5)), { value, ts: 1_700_000_000_000.5 });
  assert.deepStrictEqual(edge.decode(edge.encode(value, undefined)), { value, ts: undefined });
  // Records keep their bytes after later ones are written (the writer hands out views of a slab).
  const many = Array.from({ length: 5000 }, (_, i) => edge.encode({ at: new Date(i) }, i));
  many.forEach((bytes, i) => assert.deepStrictEqual(edge.decode(bytes), { value: { at: new Date(i) }, ts: i }));
});

const virtualRoot = path.join(repoRoot, 'test/.virtual-project');

/** Checks an in-memory pipeline file; returns diagnostics and the schema of each keyBy, in order. */
async function schemasOf(source: string) {
  const checked = await check(memoryHost(virtualRoot, { 'job.ts': source }), 'job.ts');
  const keyBys = (checked.plan?.nodes ?? []).filter((n) => n.kind === 'keyBy').map((n) => checked.analysis?.edgeSchemas?.[n.id]);
  return { diagnostics: checked.diagnostics, keyBys, checked };
}

test('record types come from the TypeScript types of real pipelines', async () => {
  const { diagnostics, keyBys, checked } = await schemasOf(`import { pipeline, collection, print } from 'pipec';
interface Tree { label: string; children: Tree[] }
type Shape = { type: 'circle'; r: number } | { type: 'rect'; w: number; h: number };
interface Event {
  id: string; at: Date; tags: ReadonlyMap<string, number>; seen: Set<bigint>; big: bigint; n: number; note?: string;
  kind: 'a' | 'b'; flag: boolean; pair: [string, number]; bytes: Float64Array; dict: Record<string, number[]>;
  nul: string | null; shape: Shape; tree: Tree; free: unknown; id2: string & { __brand: 'Id' }; one: 1n; anything: {};
}
export default pipeline('types', (p) => {
  const events = p.source(collection<Event>([]));
  events.keyBy((e) => e.id).reduce((a) => a).sink(print());
  events.map((e) => ({ user: e.id, total: e.big })).rebalance().sink(print());
  events.map((e) => e.n).setParallelism(2).sink(print());
});
`);
  assert.deepEqual(diagnostics, []);
  assert.equal(schemaText(keyBys[0]!), '{ id: string; at: date; tags: Map<string, number>; seen: Set<bigint>; big: bigint; n: number; note?: undefined | string; '
    + 'kind: "a" | "b"; flag: boolean; pair: [string, number]; bytes: Float64Array; dict: { [key: string]: number[] }; nul: null | string; '
    + 'shape: { type: "circle"; r: number } | { type: "rect"; w: number; h: number }; tree: Tree = { label: string; children: Tree[] }; free: any; id2: string; one: 1n; anything: any }');
  const nodes = checked.plan!.nodes;
  const schemaOf = (kind: string) => schemaText(checked.analysis!.edgeSchemas![nodes.find((n) => n.kind === kind)!.id]);
  assert.equal(schemaOf('rebalance'), '{ user: string; total: bigint }');
  const [chainedMap, parallelMap] = nodes.filter((n) => n.kind === 'map');
  assert.equal(schemaText(checked.analysis!.edgeSchemas![parallelMap.inputs[0]]), schemaText(keyBys[0]!), 'the source feeding a parallelism change crosses');
  assert.equal(schemaText(checked.analysis!.edgeSchemas![parallelMap.id]), 'number', 'and so does the map at parallelism 2 feeding a sink at 1');
  assert.equal(checked.analysis!.edgeSchemas![chainedMap.id], undefined, 'a node whose output stays in its stage has no schema');
  // The extracted schema round-trips a real record of the type.
  assertRoundTrip(keyBys[0]!, {
    id: 'e1', at: new Date(1), tags: new Map([['x', 1]]), seen: new Set([1n]), big: 2n ** 70n, n: NaN, kind: 'a', flag: true, pair: ['p', -0],
    bytes: new Float64Array([1]), dict: { a: [1, 2] }, nul: null, shape: { type: 'circle', r: 2 }, tree: { label: 'r', children: [] }, free: new Map(), id2: 'x', one: 1n, anything: new Date(2),
  });
});

test('PC1120 names the field and the operator when a record that crosses holds a function, a symbol or a class instance with methods', async () => {
  const { diagnostics } = await schemasOf(`import { pipeline, collection, print } from 'pipec';
class Money { constructor(readonly cents: number) {} format(): string { return (this.cents / 100).toFixed(2); } }
interface Order { id: string; total: Money; tag: symbol; page: { render: () => string } }
export default pipeline('bad', (p) => {
  const orders = p.source(collection<Order>([]));
  orders.keyBy((o) => o.id).reduce((a) => a).sink(print());
  orders.map((o) => ({ id: o.id, cents: o.total.cents })).keyBy((o) => o.id).reduce((a) => a).sink(print());
  orders.filter((o) => o.id !== '').sink(print());
});
`);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.line, d.column]), [['PC1120', 6, 10], ['PC1120', 6, 10], ['PC1120', 6, 10]], 'only the edge that carries them, at its keyBy');
  assert.match(diagnostics[0].message, /The records keyBy sends to reduce in another stage cannot cross a process boundary: field 'total' is an instance of class Money, which has methods \(format\)/);
  assert.match(diagnostics[1].message, /field 'tag' is a symbol/);
  assert.match(diagnostics[2].message, /field 'page\.render' is a function/);
  assert.match(diagnostics[0].hint!, /plain data .* before the keyBy/);
});

test('the manifest carries each edge schema to the workers', async () => {
  const host = memoryHost(virtualRoot, { 'job.ts': `import { pipeline, collection, print } from 'pipec';
export default pipeline('manifest-schema', (p) => {
  p.source(collection([{ k: 'a', at: new Date(0), n: 1n }])).keyBy((r) => r.k).reduce((a, b) => ({ ...a, n: a.n + b.n })).sink(print());
});
` });
  const built = await build(host, 'job.ts', 'out');
  assert.deepEqual(built.diagnostics, []);
  const edge = built.emitted!.manifest.edges[0];
  assert.equal(schemaText(edge.schema), '{ k: string; at: date; n: bigint }');
  const written = JSON.parse(String(host.written.get(path.join(virtualRoot, 'out/manifest-schema/manifest.json'))));
  assert.deepStrictEqual(written.edges[0].schema, edge.schema);
});
