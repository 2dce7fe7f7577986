/**
 * The internal-edge codec: how records cross a repartition topic between two
 * stages. Built once per edge from the edge's RecordSchema (in manifest.json)
 * and exact for every value the schema allows: bigint, Date (also invalid),
 * Map, Set, typed arrays, undefined (fields, elements, holes), NaN, -0,
 * ±Infinity, nested and recursive types, optional fields, unions.
 *
 * A record is `[mode][body]`: mode 1 is the typed layout (./compile.ts)
 * preceded by the schema's 32-bit fingerprint, so a record written by another
 * version of the pipeline is refused instead of misread; mode 2 is the tagged
 * encoding (./tagged.ts), used when the value does not match its declared type.
 * User-facing topics (kafka.source / kafka.sink) never use this: they keep the
 * format the user chose.
 */
import { ByteReader, ByteWriter } from './bytes.ts';
import { compileSchema, MISMATCH } from './compile.ts';
import type { RecordSchema } from './schema.ts';
import { readTagged, writeTagged } from './tagged.ts';

export { ByteReader, ByteWriter } from './bytes.ts';
export { ANY_SCHEMA, schemaText, TYPED_ARRAYS, type FieldSchema, type RecordSchema, type TypedArrayName } from './schema.ts';

const TYPED = 1;
const TAGGED = 2;

/** FNV-1a over the schema's JSON: identical schemas give identical fingerprints on every machine. */
export function schemaFingerprint(schema: RecordSchema): number {
  const text = JSON.stringify(schema);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return h >>> 0;
}

/** The encoder and decoder of one edge. */
export interface EdgeCodec<T = unknown> {
  readonly schema: RecordSchema;
  /** The generated encoder and decoder source. */
  readonly source: string;
  /** Records that did not match the schema and travelled tagged (for tests and metrics). */
  readonly fallbacks: number;
  /** One record as a fresh Buffer. */
  encode(value: T): Buffer;
  /** One record from bytes `encode` produced; throws on truncated, corrupt or foreign records. */
  decode(bytes: Uint8Array): T;
  /** Appends one record to a writer (for framing several things in one buffer). */
  write(w: ByteWriter, value: T): void;
  /** Reads one record at the reader's position. */
  read(r: ByteReader): T;
}

/** The writer and reader every codec of this process shares (encoding and decoding are synchronous). */
export const sharedWriter = new ByteWriter();
const sharedReader = new ByteReader();

/** Builds the codec of a schema (once per edge: this generates and compiles code). */
export function createCodec<T = unknown>(schema: RecordSchema): EdgeCodec<T> {
  const compiled = compileSchema(schema);
  const fingerprint = schemaFingerprint(schema);
  const typedEncode = compiled.encode, typedDecode = compiled.decode;
  const codec = {
    schema,
    source: compiled.source,
    fallbacks: 0,
    write(w: ByteWriter, value: T): void {
      w.ensure(5);
      const start = w.pos;
      // Relative to the record's start: the writer may move the record to a new slab while it grows.
      const offset = start - w.start;
      const buf = w.buf;
      buf[start] = TYPED;
      buf[start + 1] = fingerprint & 0xff; buf[start + 2] = (fingerprint >>> 8) & 0xff;
      buf[start + 3] = (fingerprint >>> 16) & 0xff; buf[start + 4] = fingerprint >>> 24;
      w.pos = start + 5;
      try {
        typedEncode(w, value);
      } catch (error) {
        if (error !== MISMATCH) throw error;
        codec.fallbacks++;
        w.pos = w.start + offset;
        w.u8(TAGGED);
        writeTagged(w, value);
      }
    },
    read(r: ByteReader): T {
      const mode = r.u8();
      if (mode === TAGGED) return readTagged(r) as T;
      if (mode !== TYPED) throw new Error(`edge record: unknown format ${mode}`);
      const buf = r.buf, pos = r.pos;
      const written = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0;
      if (written !== fingerprint) {
        throw new Error(`edge record: written for another record type (schema ${written.toString(16)}, this stage expects ${fingerprint.toString(16)}); was the pipeline changed while records were still in the repartition topic?`);
      }
      r.pos = pos + 4;
      return typedDecode(r) as T;
    },
    encode(value: T): Buffer {
      sharedWriter.begin();
      codec.write(sharedWriter, value);
      return sharedWriter.finish();
    },
    decode(bytes: Uint8Array): T {
      sharedReader.reset(bytes);
      const value = codec.read(sharedReader);
      sharedReader.done();
      return value;
    },
  };
  return codec;
}
