/**
 * RecordSchema: a JSON description of the records on one internal edge,
 * computed by the compiler from the TypeScript type of the stream
 * (compiler/phases/3-analyze/edge-types.ts), written into manifest.json, and
 * turned into a specialised encoder/decoder by the runtime (./compile.ts).
 * It describes what a value may be, not how it is laid out in bytes.
 */

/** Typed arrays an edge carries as their raw bytes (`Buffer` is Node's Uint8Array subclass). */
export const TYPED_ARRAYS = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Buffer',
] as const;

/** The name of a typed-array class. */
export type TypedArrayName = (typeof TYPED_ARRAYS)[number];

/** One field of an object type. */
export interface FieldSchema {
  name: string;
  schema: RecordSchema;
  /** Declared with `?`: the key may be absent. */
  optional: boolean;
}

/** The type of the values on an edge. */
export type RecordSchema =
  | { kind: 'number' }
  | { kind: 'string' }
  | { kind: 'boolean' }
  | { kind: 'bigint' }
  | { kind: 'null' }
  | { kind: 'undefined' }
  | { kind: 'date' }
  | { kind: 'regexp' }
  /** A single literal type; a bigint literal is its decimal text with `bigint: true`. */
  | { kind: 'literal'; value: string | number | boolean; bigint?: true }
  | { kind: 'array'; element: RecordSchema }
  /** A fixed-length tuple (tuples with optional or rest elements are described as `any`). */
  | { kind: 'tuple'; elements: RecordSchema[] }
  | { kind: 'object'; fields: FieldSchema[] }
  /** An object used as a dictionary: `Record<string, V>` or `{ [key: string]: V }`. */
  | { kind: 'dictionary'; value: RecordSchema }
  | { kind: 'map'; key: RecordSchema; value: RecordSchema }
  | { kind: 'set'; element: RecordSchema }
  | { kind: 'typedArray'; type: TypedArrayName }
  | { kind: 'union'; variants: RecordSchema[] }
  /** A recursive type: `schema` may contain `{ kind: 'ref', name }` meaning this type again. */
  | { kind: 'recursive'; name: string; schema: RecordSchema }
  | { kind: 'ref'; name: string }
  /** Unknown or `any`: a self-describing encoding that still keeps Date, Map, Set, bigint, undefined, NaN and -0. */
  | { kind: 'any' };

/** The schema of values whose type is not known. */
export const ANY_SCHEMA: RecordSchema = { kind: 'any' };

/** A short readable form of a schema, for messages and tests: `{ user: string; at?: date }`. */
export function schemaText(schema: RecordSchema): string {
  switch (schema.kind) {
    case 'literal': return schema.bigint ? `${schema.value}n` : JSON.stringify(schema.value);
    case 'array': return `${schemaText(schema.element)}[]`;
    case 'tuple': return `[${schema.elements.map(schemaText).join(', ')}]`;
    case 'object': return `{ ${schema.fields.map((f) => `${f.name}${f.optional ? '?' : ''}: ${schemaText(f.schema)}`).join('; ')} }`;
    case 'dictionary': return `{ [key: string]: ${schemaText(schema.value)} }`;
    case 'map': return `Map<${schemaText(schema.key)}, ${schemaText(schema.value)}>`;
    case 'set': return `Set<${schemaText(schema.element)}>`;
    case 'typedArray': return schema.type;
    case 'union': return schema.variants.map(schemaText).join(' | ');
    case 'recursive': return `${schema.name} = ${schemaText(schema.schema)}`;
    case 'ref': return schema.name;
    default: return schema.kind;
  }
}
