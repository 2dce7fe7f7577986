/**
 * The self-describing encoding: one tag byte per value, then its data. Used
 * where the schema says `any` (unknown or `any` types), and for a whole record
 * whose runtime value does not match its declared type (a `number` field that
 * holds a string because a JSON source lied, extra or reordered keys, a class
 * instance where a plain object was declared): slower than the typed layout,
 * but it still keeps everything an edge must keep — undefined, holes, NaN, -0,
 * bigint, Date, Map, Set, typed arrays, RegExp, key order. Functions and
 * symbols cannot cross a process boundary and are an error naming the path.
 */
import { ByteReader, ByteWriter } from './bytes.ts';
import { TYPED_ARRAYS, type TypedArrayName } from './schema.ts';

const enum Tag {
  Undefined = 0, Null = 1, False = 2, True = 3, Number = 4, Int = 5, NegInt = 6, String = 7, BigInt = 8,
  Date = 9, Array = 10, Hole = 11, Object = 12, Map = 13, Set = 14, TypedArray = 15, RegExp = 16,
}

/** Deeper values are taken to be cycles (which cannot cross either). */
const MAX_DEPTH = 512;

/** Constructors of the typed arrays, in TYPED_ARRAYS order (Buffer is rebuilt with Buffer.from). */
export const TYPED_ARRAY_CONSTRUCTORS: Record<TypedArrayName, { new (buffer: ArrayBuffer): ArrayBufferView; prototype: object }> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, Buffer: Buffer as never,
};
const TYPED_ARRAY_BY_PROTOTYPE = new Map<object, number>(TYPED_ARRAYS.map((name, i) => [TYPED_ARRAY_CONSTRUCTORS[name].prototype, i]));

/** Rebuilds a typed array of the named class from its bytes. */
export function typedArrayFrom(name: TypedArrayName, bytes: ArrayBuffer): ArrayBufferView {
  return name === 'Buffer' ? Buffer.from(bytes) : new TYPED_ARRAY_CONSTRUCTORS[name](bytes);
}

/** Defines an own property, also for the key `__proto__` (which assignment would treat as the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Writes any value with tags. */
export function writeTagged(w: ByteWriter, v: unknown, path = '', depth = 0): void {
  switch (typeof v) {
    case 'undefined': w.u8(Tag.Undefined); return;
    case 'boolean': w.u8(v ? Tag.True : Tag.False); return;
    case 'number':
      // Small non-negative and negative integers are common (counts, ids) and take a varint instead of 8 bytes.
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) { if (v >= 0) { w.u8(Tag.Int); w.varint(v); } else { w.u8(Tag.NegInt); w.varint(-v); } }
      else { w.u8(Tag.Number); w.f64(v); }
      return;
    case 'string': w.u8(Tag.String); w.str(v); return;
    case 'bigint': w.u8(Tag.BigInt); w.bigint(v); return;
    case 'function': case 'symbol':
      throw new Error(`a ${typeof v} cannot be sent to another stage (at ${path || 'the record itself'}): convert it to plain data before the shuffle`);
  }
  if (v === null) { w.u8(Tag.Null); return; }
  if (depth > MAX_DEPTH) throw new Error(`a value nested deeper than ${MAX_DEPTH} levels (a cycle?) cannot be sent to another stage (at ${path})`);
  if (Array.isArray(v)) {
    w.u8(Tag.Array);
    w.varint(v.length);
    for (let i = 0; i < v.length; i++) {
      if (v[i] === undefined && !(i in v)) w.u8(Tag.Hole);
      else writeTagged(w, v[i], `${path}[${i}]`, depth + 1);
    }
    return;
  }
  if (v instanceof Date) { w.u8(Tag.Date); w.f64(v.getTime()); return; }
  if (v instanceof Map) {
    w.u8(Tag.Map);
    w.varint(v.size);
    for (const [key, value] of v) { writeTagged(w, key, `${path}<key>`, depth + 1); writeTagged(w, value, `${path}.get(${String(key)})`, depth + 1); }
    return;
  }
  if (v instanceof Set) {
    w.u8(Tag.Set);
    w.varint(v.size);
    for (const item of v) writeTagged(w, item, `${path}<item>`, depth + 1);
    return;
  }
  if (ArrayBuffer.isView(v)) {
    const index = TYPED_ARRAY_BY_PROTOTYPE.get(Object.getPrototypeOf(v));
    if (index !== undefined) { w.u8(Tag.TypedArray); w.u8(index); w.bytes(v); return; }
  }
  if (v instanceof RegExp) { w.u8(Tag.RegExp); w.str(v.source); w.str(v.flags); return; }
  // Any other object travels as its own enumerable string-keyed properties, as structuredClone does.
  const keys = Object.keys(v as object);
  w.u8(Tag.Object);
  w.varint(keys.length);
  for (const key of keys) { w.str(key); writeTagged(w, (v as Record<string, unknown>)[key], path ? `${path}.${key}` : key, depth + 1); }
}

/** Reads a value written by writeTagged. */
export function readTagged(r: ByteReader): unknown {
  const tag = r.u8();
  switch (tag) {
    case Tag.Undefined: return undefined;
    case Tag.Null: return null;
    case Tag.False: return false;
    case Tag.True: return true;
    case Tag.Number: return r.f64();
    case Tag.Int: return r.varint();
    case Tag.NegInt: return -r.varint();
    case Tag.String: return r.str();
    case Tag.BigInt: return r.bigint();
    case Tag.Date: return new Date(r.f64());
    case Tag.Array: {
      const n = r.varint();
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) {
        // Growing the length over index i leaves a hole there; the next push goes after it.
        if (r.buf[r.pos] === Tag.Hole) { r.pos++; a.length = i + 1; } else a.push(readTagged(r));
      }
      return a;
    }
    case Tag.Object: {
      const n = r.varint();
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) { const key = r.str(); setOwn(o, key, readTagged(r)); }
      return o;
    }
    case Tag.Map: {
      const n = r.varint();
      const m = new Map<unknown, unknown>();
      for (let i = 0; i < n; i++) { const key = readTagged(r); m.set(key, readTagged(r)); }
      return m;
    }
    case Tag.Set: {
      const n = r.varint();
      const s = new Set<unknown>();
      for (let i = 0; i < n; i++) s.add(readTagged(r));
      return s;
    }
    case Tag.TypedArray: { const name = TYPED_ARRAYS[r.u8()]; if (!name) break; return typedArrayFrom(name, r.bytes()); }
    case Tag.RegExp: { const source = r.str(); return new RegExp(source, r.str()); }
  }
  throw new Error(`edge record: unknown tag ${tag} at byte ${r.pos - 1}`);
}

