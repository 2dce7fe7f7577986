/**
 * Record values as Flink treats them: each operator works on its own record.
 * Generated code passes records by reference where the compiler proved the
 * receiving function leaves them alone, and calls `copy` where it may not;
 * `withField` builds a changed record without touching the one it came from.
 */

/**
 * A deep copy of a record: plain objects and arrays (prototypes kept, so class
 * instances stay instances), Map, Set, Date, RegExp, typed arrays and
 * ArrayBuffers; primitives and functions as they are. Shared references and
 * cycles are copied once.
 */
export function copy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  return copyObject(value as object, new Map()) as T;
}

function copyValue(value: unknown, seen: Map<object, unknown>): unknown {
  return typeof value !== 'object' || value === null ? value : copyObject(value, seen);
}

function copyObject(value: object, seen: Map<object, unknown>): unknown {
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    seen.set(value, out);
    for (let i = 0; i < value.length; i++) if (i in value) out[i] = copyValue(value[i], seen);
    return out;
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Map) {
    const out = new Map();
    seen.set(value, out);
    for (const [k, v] of value) out.set(copyValue(k, seen), copyValue(v, seen));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    seen.set(value, out);
    for (const v of value) out.add(copyValue(v, seen));
    return out;
  }
  if (ArrayBuffer.isView(value)) return (value as unknown as { slice(): unknown }).slice?.() ?? structuredClone(value);
  if (value instanceof ArrayBuffer) return value.slice(0);
  if (value instanceof RegExp) return new RegExp(value.source, value.flags);
  const out = Object.create(Object.getPrototypeOf(value)) as Record<string | symbol, unknown>;
  seen.set(value, out);
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if ('value' in descriptor) descriptor.value = copyValue(descriptor.value, seen);
    Object.defineProperty(out, key, descriptor);
  }
  return out;
}

/**
 * A shallow copy of `record` with `field` set to `value`: an array stays an
 * array (tuple records), and a field named `__proto__` is an own property, as
 * in the record that came in, not the prototype.
 */
export function withField<T>(record: T, field: string, value: unknown): T {
  const out: any = Array.isArray(record) ? record.slice() : { ...record };
  Object.defineProperty(out, field, { value, writable: true, enumerable: true, configurable: true });
  return out as T;
}

/**
 * A collector that hands on a copy of each record: what process functions emit
 * through (Flink's collector copies at collect time), so a function that
 * changes a record, or a state object, after emitting it never changes what
 * the operators after it already hold.
 */
export function copying(emit: (value: any, ts: number | undefined) => void): (value: any, ts: number | undefined) => void {
  return (value, ts) => emit(copy(value), ts);
}
