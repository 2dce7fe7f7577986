/**
 * Builds the encoder and decoder of one edge from its RecordSchema, once, as
 * generated JavaScript (`new Function`): straight-line code per field, the
 * field names as constants, no per-value dispatch — the same idea as the fused
 * operator chains, applied to serialization.
 *
 * Layout of a typed value (no tags, no field names): number → float64;
 * string → varint header + UTF-8; boolean → 1 byte; bigint → int64 or text;
 * null, undefined and literals → nothing; Date → float64 time; array, Map, Set
 * → varint count + items; tuple → items; object → a varint bitmask of the
 * optional fields present, then the fields in order; union → 1 byte variant
 * index + variant; `any` → the tagged encoding (./tagged.ts).
 *
 * The encoder checks every value against the schema as it goes (a `typeof`,
 * the prototype and the exact key sequence of objects). A record whose value
 * does not match its declared type — types can lie: casts, JSON sources,
 * structural subtypes with extra keys — throws MISMATCH and is re-encoded whole
 * with the tagged encoding, so it still arrives exactly as it left.
 */
import type { ByteReader, ByteWriter } from './bytes.ts';
import type { FieldSchema, RecordSchema } from './schema.ts';
import { readTagged, setOwn, TYPED_ARRAY_CONSTRUCTORS, typedArrayFrom, writeTagged } from './tagged.ts';

/** Thrown by generated encoders when a value does not match the schema; a constant, so throwing it costs no stack trace. */
export const MISMATCH = { mismatch: true } as const;

/** More optional fields than fit in one small-integer bitmask: the object travels tagged. */
const MAX_OPTIONAL_FIELDS = 30;

/** The generated functions of one schema. */
export interface CompiledSchema {
  encode(w: ByteWriter, value: unknown): void;
  decode(r: ByteReader): unknown;
  /** The generated source, for reading and debugging. */
  source: string;
}

type Category = string;

/** What a union variant is told apart by at run time; null for `any`. */
function categoryOf(schema: RecordSchema, recursives: Map<string, RecordSchema>): Category | null {
  switch (schema.kind) {
    case 'literal': return schema.bigint ? 'bigint' : typeof schema.value;
    case 'tuple': return 'array';
    case 'dictionary': return 'object';
    case 'typedArray': return `typedArray:${schema.type}`;
    case 'recursive': return categoryOf(schema.schema, recursives);
    case 'ref': { const target = recursives.get(schema.name); return target ? categoryOf(target, recursives) : null; }
    case 'union': return null;
    case 'any': return null;
    default: return schema.kind;
  }
}

/** A union's variants, flattened, with literals widened to their primitive (so `'M' | 'F'` is a string). */
function flatVariants(schema: RecordSchema): RecordSchema[] {
  if (schema.kind === 'union') return schema.variants.flatMap(flatVariants);
  if (schema.kind === 'literal') return [{ kind: schema.bigint ? 'bigint' : typeof schema.value as 'string' | 'number' | 'boolean' }];
  return [schema];
}

/** The values a field can take when its schema is one or more literals, else null. */
function literalValues(schema: RecordSchema): Array<string | number | boolean> | null {
  if (schema.kind === 'literal' && !schema.bigint) return [schema.value];
  if (schema.kind === 'union') {
    const all = schema.variants.map(literalValues);
    return all.every((v) => v !== null) ? all.flat() as Array<string | number | boolean> : null;
  }
  return null;
}

/** A field whose literal values tell a union's object variants apart (a discriminated union), or null. */
function discriminant(objects: Array<Extract<RecordSchema, { kind: 'object' }>>): { field: string; values: Array<Array<string | number | boolean>> } | null {
  for (const candidate of objects[0].fields) {
    if (candidate.optional) continue;
    const values = objects.map((o) => { const f = o.fields.find((x) => x.name === candidate.name && !x.optional); return f ? literalValues(f.schema) : null; });
    if (values.some((v) => v === null)) continue;
    const seen = new Set<unknown>();
    if ((values as Array<Array<string | number | boolean>>).every((vs) => vs.every((v) => !seen.has(v) && seen.add(v)))) return { field: candidate.name, values: values as Array<Array<string | number | boolean>> };
  }
  return null;
}

/** V8 enumerates integer-like keys first, ascending, then the others in insertion order: expect keys in that order. */
function enumerationOrder(fields: FieldSchema[]): FieldSchema[] {
  const isIndex = (k: string) => /^(0|[1-9]\d*)$/.test(k) && Number(k) < 2 ** 32 - 1;
  return [...fields.filter((f) => isIndex(f.name)).sort((a, b) => Number(a.name) - Number(b.name)), ...fields.filter((f) => !isIndex(f.name))];
}

/** Whether a value of this schema may be `undefined` (then array slots must tell a hole from an undefined). */
function allowsUndefined(schema: RecordSchema, recursives: Map<string, RecordSchema>): boolean {
  switch (schema.kind) {
    case 'undefined': case 'any': return true;
    case 'union': return schema.variants.some((v) => allowsUndefined(v, recursives));
    case 'recursive': return allowsUndefined(schema.schema, recursives);
    case 'ref': return false;
    default: return false;
  }
}

class Generator {
  private next = 0;
  readonly constants: unknown[] = [];
  readonly functions: string[] = [];
  private readonly recursives = new Map<string, RecordSchema>();
  private readonly recursiveFunctions = new Map<string, string>();

  fresh(prefix: string): string { return `${prefix}${this.next++}`; }

  constant(value: unknown): string {
    this.constants.push(value);
    return `K${this.constants.length - 1}`;
  }

  /** Statements that check `x` against the schema and write it; `path` names the value in errors. */
  encode(schema: RecordSchema, x: string, out: string[], indent: string, path = ''): void {
    const line = (s: string) => out.push(indent + s);
    switch (schema.kind) {
      case 'number': line(`if (typeof ${x} !== 'number') throw M;`); line(`w.f64(${x});`); return;
      case 'string': line(`if (typeof ${x} !== 'string') throw M;`); line(`w.str(${x});`); return;
      case 'boolean': line(`if (${x} === true) w.u8(1); else if (${x} === false) w.u8(0); else throw M;`); return;
      case 'bigint': line(`if (typeof ${x} !== 'bigint') throw M;`); line(`w.bigint(${x});`); return;
      case 'null': line(`if (${x} !== null) throw M;`); return;
      case 'undefined': line(`if (${x} !== undefined) throw M;`); return;
      case 'literal':
        line(schema.value === 0 && !schema.bigint ? `if (!Object.is(${x}, 0)) throw M;` : `if (${x} !== ${literalCode(schema)}) throw M;`);
        return;
      case 'date': line(`if (!(${x} instanceof Date)) throw M;`); line(`w.f64(${x}.getTime());`); return;
      case 'regexp': line(`if (!(${x} instanceof RegExp)) throw M;`); line(`w.str(${x}.source); w.str(${x}.flags);`); return;
      case 'typedArray':
        line(`if (!ArrayBuffer.isView(${x}) || Object.getPrototypeOf(${x}) !== ${this.constant(TYPED_ARRAY_CONSTRUCTORS[schema.type].prototype)}) throw M;`);
        line(`w.bytes(${x});`);
        return;
      case 'any': line(`writeTagged(w, ${x}, ${JSON.stringify(path)});`); return;
      case 'array': {
        const n = this.fresh('n'), i = this.fresh('i'), e = this.fresh('e');
        line(`if (!Array.isArray(${x})) throw M;`);
        line(`const ${n} = ${x}.length;`);
        line(`w.varint(${n});`);
        line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
        line(`  const ${e} = ${x}[${i}];`);
        if (allowsUndefined(schema.element, this.recursives)) line(`  if (${e} === undefined && !(${i} in ${x})) throw M;`);
        this.encode(schema.element, e, out, indent + '  ', `${path}[]`);
        line('}');
        return;
      }
      case 'tuple': {
        line(`if (!Array.isArray(${x}) || ${x}.length !== ${schema.elements.length}) throw M;`);
        schema.elements.forEach((element, index) => {
          const e = this.fresh('e');
          line(`const ${e} = ${x}[${index}];`);
          if (allowsUndefined(element, this.recursives)) line(`if (${e} === undefined && !(${index} in ${x})) throw M;`);
          this.encode(element, e, out, indent, `${path}[${index}]`);
        });
        return;
      }
      case 'object': return this.encodeObject(schema.fields, x, out, indent, path);
      case 'dictionary': {
        const keys = this.fresh('keys'), k = this.fresh('k'), e = this.fresh('e');
        line(`if (typeof ${x} !== 'object' || ${x} === null || Object.getPrototypeOf(${x}) !== OP) throw M;`);
        line(`const ${keys} = Object.keys(${x});`);
        line(`w.varint(${keys}.length);`);
        line(`for (const ${k} of ${keys}) {`);
        line(`  w.str(${k});`);
        line(`  const ${e} = ${x}[${k}];`);
        this.encode(schema.value, e, out, indent + '  ', `${path}[key]`);
        line('}');
        return;
      }
      case 'map': {
        const k = this.fresh('k'), v = this.fresh('v');
        line(`if (!(${x} instanceof Map)) throw M;`);
        line(`w.varint(${x}.size);`);
        line(`for (const [${k}, ${v}] of ${x}) {`);
        this.encode(schema.key, k, out, indent + '  ', `${path}<key>`);
        this.encode(schema.value, v, out, indent + '  ', `${path}<value>`);
        line('}');
        return;
      }
      case 'set': {
        const e = this.fresh('e');
        line(`if (!(${x} instanceof Set)) throw M;`);
        line(`w.varint(${x}.size);`);
        line(`for (const ${e} of ${x}) {`);
        this.encode(schema.element, e, out, indent + '  ', `${path}<item>`);
        line('}');
        return;
      }
      case 'union': return this.encodeUnion(schema, x, out, indent, path);
      case 'recursive': {
        const fn = this.recursiveFunction(schema);
        line(`enc_${fn}(w, ${x});`);
        return;
      }
      case 'ref': {
        const fn = this.recursiveFunctions.get(schema.name);
        line(fn ? `enc_${fn}(w, ${x});` : `writeTagged(w, ${x});`);
        return;
      }
    }
  }

  private encodeObject(declared: FieldSchema[], x: string, out: string[], indent: string, path: string): void {
    const line = (s: string) => out.push(indent + s);
    const fields = enumerationOrder(declared);
    const optional = fields.filter((f) => f.optional);
    if (optional.length > MAX_OPTIONAL_FIELDS) return this.encode({ kind: 'any' }, x, out, indent, path);
    const names = this.constant(fields.map((f) => f.name));
    line(`if (typeof ${x} !== 'object' || ${x} === null || Object.getPrototypeOf(${x}) !== OP) throw M;`);
    const k = this.fresh('k'), j = this.fresh('j');
    if (optional.length === 0) {
      // The exact key sequence: extra, missing or reordered keys make the record travel tagged.
      line(`let ${j} = 0;`);
      line(`for (const ${k} in ${x}) if (${k} !== ${names}[${j}++]) throw M;`);
      line(`if (${j} !== ${fields.length}) throw M;`);
    } else {
      const bits = this.constant(fields.map((f) => (f.optional ? 2 ** optional.indexOf(f) : 0)));
      const present = this.fresh('present');
      line(`let ${j} = 0, ${present} = 0;`);
      line(`for (const ${k} in ${x}) {`);
      line(`  while (${k} !== ${names}[${j}]) { if (${j} >= ${fields.length} || ${bits}[${j}] === 0) throw M; ${j}++; }`);
      line(`  ${present} |= ${bits}[${j}++];`);
      line('}');
      line(`for (; ${j} < ${fields.length}; ${j}++) if (${bits}[${j}] === 0) throw M;`);
      line(`w.varint(${present});`);
      for (const field of fields) {
        const e = this.fresh('e');
        if (field.optional) {
          line(`if (${present} & ${2 ** optional.indexOf(field)}) {`);
          line(`  const ${e} = ${x}[${JSON.stringify(field.name)}];`);
          this.encode(field.schema, e, out, indent + '  ', fieldPath(path, field.name));
          line('}');
        } else {
          line(`const ${e} = ${x}[${JSON.stringify(field.name)}];`);
          this.encode(field.schema, e, out, indent, fieldPath(path, field.name));
        }
      }
      return;
    }
    for (const field of fields) {
      const e = this.fresh('e');
      line(`const ${e} = ${x}[${JSON.stringify(field.name)}];`);
      this.encode(field.schema, e, out, indent, fieldPath(path, field.name));
    }
  }

  /** The variants of a union and how each is recognised, or null when they cannot be told apart (then it travels tagged). */
  unionPlan(schema: RecordSchema): Array<{ schema: RecordSchema; test: (x: string) => string }> | null {
    const variants = flatVariants(schema);
    const byCategory = new Map<Category, RecordSchema[]>();
    for (const v of variants) {
      const category = categoryOf(v, this.recursives);
      if (category === null) return null;
      if (!byCategory.has(category)) byCategory.set(category, []);
      const list = byCategory.get(category)!;
      if (!list.some((s) => JSON.stringify(s) === JSON.stringify(v))) list.push(v);
    }
    // Objects last: Date, Map, arrays... are objects too, and are recognised first.
    const order = [...byCategory.keys()].sort((a, b) => Number(a === 'object') - Number(b === 'object'));
    const plan: Array<{ schema: RecordSchema; test: (x: string) => string }> = [];
    for (const category of order) {
      const list = byCategory.get(category)!;
      if (list.length > 1) {
        const objects = list.map((s) => this.resolve(s));
        if (category !== 'object' || !objects.every((o) => o.kind === 'object')) return null;
        const d = discriminant(objects as Array<Extract<RecordSchema, { kind: 'object' }>>);
        if (!d) return null;
        list.forEach((s, i) => plan.push({
          schema: s,
          test: (x) => `typeof ${x} === 'object' && ${x} !== null && (${d.values[i].map((v) => `${x}[${JSON.stringify(d.field)}] === ${JSON.stringify(v)}`).join(' || ')})`,
        }));
        continue;
      }
      const s = list[0];
      plan.push({ schema: s, test: (x) => testFor(category, x, (p) => this.constant(p)) });
    }
    return plan;
  }

  private resolve(schema: RecordSchema): RecordSchema {
    if (schema.kind === 'recursive') return this.resolve(schema.schema);
    if (schema.kind === 'ref') return this.recursives.get(schema.name) ?? schema;
    return schema;
  }

  private encodeUnion(schema: RecordSchema, x: string, out: string[], indent: string, path: string): void {
    const plan = this.unionPlan(schema);
    if (!plan) return this.encode({ kind: 'any' }, x, out, indent, path);
    if (plan.length === 1) return this.encode(plan[0].schema, x, out, indent, path);
    plan.forEach((variant, index) => {
      out.push(`${indent}${index ? 'else ' : ''}if (${variant.test(x)}) {`);
      out.push(`${indent}  w.u8(${index});`);
      this.encode(variant.schema, x, out, indent + '  ', path);
      out.push(`${indent}}`);
    });
    out.push(`${indent}else throw M;`);
  }

  /** Statements that read a value; returns the name of the variable holding it. */
  decode(schema: RecordSchema, out: string[], indent: string): string {
    const line = (s: string) => out.push(indent + s);
    const d = this.fresh('d');
    switch (schema.kind) {
      case 'number': line(`const ${d} = r.f64();`); return d;
      case 'string': line(`const ${d} = r.str();`); return d;
      case 'boolean': line(`const ${d} = r.u8() === 1;`); return d;
      case 'bigint': line(`const ${d} = r.bigint();`); return d;
      case 'null': return 'null';
      case 'undefined': return 'undefined';
      case 'literal': return schema.value === 0 && !schema.bigint ? '0' : literalCode(schema);
      case 'date': line(`const ${d} = new Date(r.f64());`); return d;
      case 'regexp': line(`const ${d} = new RegExp(r.str(), r.str());`); return d;
      case 'typedArray': line(`const ${d} = typedArrayFrom(${JSON.stringify(schema.type)}, r.bytes());`); return d;
      case 'any': line(`const ${d} = readTagged(r);`); return d;
      case 'array': {
        const n = this.fresh('n'), i = this.fresh('i');
        line(`const ${n} = r.varint();`);
        line(`const ${d} = [];`);
        line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
        const e = this.decode(schema.element, out, indent + '  ');
        line(`  ${d}.push(${e});`);
        line('}');
        return d;
      }
      case 'tuple': {
        const items = schema.elements.map((element) => this.decode(element, out, indent));
        line(`const ${d} = [${items.join(', ')}];`);
        return d;
      }
      case 'object': return this.decodeObject(schema.fields, d, out, indent);
      case 'dictionary': {
        const n = this.fresh('n'), i = this.fresh('i'), k = this.fresh('k');
        line(`const ${n} = r.varint();`);
        line(`const ${d} = {};`);
        line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
        line(`  const ${k} = r.str();`);
        const v = this.decode(schema.value, out, indent + '  ');
        line(`  if (${k} === '__proto__') setOwn(${d}, ${k}, ${v}); else ${d}[${k}] = ${v};`);
        line('}');
        return d;
      }
      case 'map': {
        const n = this.fresh('n'), i = this.fresh('i');
        line(`const ${n} = r.varint();`);
        line(`const ${d} = new Map();`);
        line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
        const k = this.decode(schema.key, out, indent + '  ');
        const v = this.decode(schema.value, out, indent + '  ');
        line(`  ${d}.set(${k}, ${v});`);
        line('}');
        return d;
      }
      case 'set': {
        const n = this.fresh('n'), i = this.fresh('i');
        line(`const ${n} = r.varint();`);
        line(`const ${d} = new Set();`);
        line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
        const e = this.decode(schema.element, out, indent + '  ');
        line(`  ${d}.add(${e});`);
        line('}');
        return d;
      }
      case 'union': {
        const plan = this.unionPlan(schema);
        if (!plan) return this.decode({ kind: 'any' }, out, indent);
        if (plan.length === 1) return this.decode(plan[0].schema, out, indent);
        line(`let ${d};`);
        line(`switch (r.u8()) {`);
        plan.forEach((variant, index) => {
          line(`  case ${index}: {`);
          const v = this.decode(variant.schema, out, indent + '    ');
          line(`    ${d} = ${v};`);
          line('    break;');
          line('  }');
        });
        line(`  default: throw new Error('edge record: unknown union variant');`);
        line('}');
        return d;
      }
      case 'recursive': {
        const fn = this.recursiveFunction(schema);
        line(`const ${d} = dec_${fn}(r);`);
        return d;
      }
      case 'ref': {
        const fn = this.recursiveFunctions.get(schema.name);
        line(fn ? `const ${d} = dec_${fn}(r);` : `const ${d} = readTagged(r);`);
        return d;
      }
    }
  }

  private decodeObject(declared: FieldSchema[], d: string, out: string[], indent: string): string {
    const line = (s: string) => out.push(indent + s);
    const fields = enumerationOrder(declared);
    const optional = fields.filter((f) => f.optional);
    if (optional.length > MAX_OPTIONAL_FIELDS) return this.decode({ kind: 'any' }, out, indent);
    if (optional.length === 0) {
      // An object literal: V8 creates it from a boilerplate with the final shape.
      const values = fields.map((f) => this.decode(f.schema, out, indent));
      const props = fields.map((f, i) => `${f.name === '__proto__' ? '["__proto__"]' : JSON.stringify(f.name)}: ${values[i]}`);
      line(`const ${d} = { ${props.join(', ')} };`);
      return d;
    }
    const present = this.fresh('present');
    line(`const ${present} = r.varint();`);
    line(`const ${d} = {};`);
    for (const field of fields) {
      const inner = field.optional ? indent + '  ' : indent;
      if (field.optional) line(`if (${present} & ${2 ** optional.indexOf(field)}) {`);
      const v = this.decode(field.schema, out, inner);
      out.push(inner + (field.name === '__proto__' ? `setOwn(${d}, '__proto__', ${v});` : `${d}[${JSON.stringify(field.name)}] = ${v};`));
      if (field.optional) line('}');
    }
    return d;
  }

  /** Generates `enc_<n>` / `dec_<n>` for a recursive type (once) and returns `<n>`. */
  private recursiveFunction(schema: Extract<RecordSchema, { kind: 'recursive' }>): string {
    const existing = this.recursiveFunctions.get(schema.name);
    if (existing && this.recursives.get(schema.name) === schema.schema) return existing;
    const fn = `${schema.name.replace(/\W/g, '_')}_${this.next++}`;
    this.recursives.set(schema.name, schema.schema);
    this.recursiveFunctions.set(schema.name, fn);
    const enc: string[] = [], dec: string[] = [];
    this.encode(schema.schema, 'x', enc, '  ');
    const result = this.decode(schema.schema, dec, '  ');
    this.functions.push(`function enc_${fn}(w, x) {\n${enc.join('\n')}\n}`, `function dec_${fn}(r) {\n${dec.join('\n')}\n  return ${result};\n}`);
    return fn;
  }
}

function fieldPath(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function literalCode(schema: Extract<RecordSchema, { kind: 'literal' }>): string {
  return schema.bigint ? `${schema.value}n` : JSON.stringify(schema.value);
}

function testFor(category: Category, x: string, constant: (value: unknown) => string): string {
  switch (category) {
    case 'undefined': return `${x} === undefined`;
    case 'null': return `${x} === null`;
    case 'boolean': case 'number': case 'string': case 'bigint': return `typeof ${x} === '${category}'`;
    case 'date': return `${x} instanceof Date`;
    case 'regexp': return `${x} instanceof RegExp`;
    case 'map': return `${x} instanceof Map`;
    case 'set': return `${x} instanceof Set`;
    case 'array': return `Array.isArray(${x})`;
    case 'object': return `typeof ${x} === 'object' && ${x} !== null`;
  }
  const typedArray = category.slice('typedArray:'.length) as keyof typeof TYPED_ARRAY_CONSTRUCTORS;
  return `ArrayBuffer.isView(${x}) && Object.getPrototypeOf(${x}) === ${constant(TYPED_ARRAY_CONSTRUCTORS[typedArray].prototype)}`;
}

/** Generates and compiles the encoder and decoder of a schema. */
export function compileSchema(schema: RecordSchema): CompiledSchema {
  const gen = new Generator();
  const enc: string[] = [], dec: string[] = [];
  gen.encode(schema, 'value', enc, '  ');
  const result = gen.decode(schema, dec, '  ');
  const source = [
    ...gen.constants.map((_, i) => `const K${i} = C[${i}];`),
    ...gen.functions,
    `function encode(w, value) {\n${enc.join('\n')}\n}`,
    `function decode(r) {\n${dec.join('\n')}\n  return ${result};\n}`,
  ].join('\n');
  const factory = new Function('M', 'OP', 'C', 'writeTagged', 'readTagged', 'setOwn', 'typedArrayFrom', `'use strict';\n${source}\nreturn { encode, decode };`);
  const { encode, decode } = factory(MISMATCH, Object.prototype, gen.constants, writeTagged, readTagged, setOwn, typedArrayFrom) as Pick<CompiledSchema, 'encode' | 'decode'>;
  return { encode, decode, source };
}
