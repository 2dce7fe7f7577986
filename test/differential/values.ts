/**
 * Record values as the differential test sees them: Flink's copy of a record
 * (what an operator receives when object reuse is off) and a typed canonical
 * text for comparing outputs (arrays stay arrays, own `__proto__` keys, -0,
 * NaN, undefined and class instances are all told apart).
 */

/** A deep copy the way Flink's serializers copy a record: own enumerable fields, arrays stay arrays, prototypes kept. */
export function copyRecord<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyRecord) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [copyRecord(k), copyRecord(v)])) as T;
  if (value instanceof Set) return new Set([...value].map(copyRecord)) as T;
  const copy = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
  // defineProperty, not assignment: an own '__proto__' field must stay a field.
  for (const key of Object.keys(value)) Object.defineProperty(copy, key, { value: copyRecord((value as Record<string, unknown>)[key]), writable: true, enumerable: true, configurable: true });
  return copy as T;
}

/** A typed, order-preserving text of a value: equal texts mean equal records as a downstream reader would see them. */
export function canonical(value: unknown): string {
  switch (typeof value) {
    case 'undefined': return 'undefined';
    case 'number': return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint': return `${value}n`;
    case 'string': return JSON.stringify(value);
    case 'boolean': return String(value);
    case 'function': return `function ${value.name}`;
    case 'symbol': return String(value);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value instanceof Date) return `Date(${value.toISOString()})`;
  if (value instanceof Map) return `Map{${[...value].map(([k, v]) => `${canonical(k)}=>${canonical(v)}`).join(',')}}`;
  if (value instanceof Set) return `Set{${[...value].map(canonical).join(',')}}`;
  const proto = Object.getPrototypeOf(value);
  const tag = proto === Object.prototype ? '' : proto === null ? 'null-proto' : `${proto.constructor?.name ?? 'anonymous'}`;
  const entries = Object.keys(value as object).map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
  return `${tag}{${entries.join(',')}}`;
}

/** The text a print sink or JSON topic shows for a record (what survives local.mjs and Kafka). */
export function jsonText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
