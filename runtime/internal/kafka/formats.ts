/** Kafka value formats: json, string, csv (one row per record) or a user codec. */
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import type { Codec, KafkaFormat } from '../connectors/kafka/api.ts';

/** Decodes a record value; throws with a readable reason when it cannot. */
export function decodeValue(format: KafkaFormat<unknown>, bytes: Buffer | null): unknown {
  if (bytes === null) throw new Error('the record has no value (a tombstone)');
  if (typeof format === 'object') return (format as Codec<unknown>).decode(bytes);
  const text = bytes.toString('utf8');
  if (format === 'string') return text;
  if (format === 'json') {
    let value: unknown;
    try { value = JSON.parse(text); } catch (error) { throw new Error(`invalid JSON: ${(error as Error).message}`); }
    if (value === null) throw new Error('the JSON value is null, not a record');
    return value;
  }
  const rows = parseCsv(text, { relax_column_count: false }) as string[][];
  if (rows.length !== 1) throw new Error(`invalid CSV: expected one row, found ${rows.length}`);
  return rows[0];
}

/** Encodes a record value. */
export function encodeValue(format: KafkaFormat<unknown>, value: unknown): string | Buffer {
  if (typeof format === 'object') { const out = (format as Codec<unknown>).encode(value); return typeof out === 'string' ? out : Buffer.from(out); }
  if (format === 'string') return String(value);
  if (format === 'json') return JSON.stringify(value);
  const row = Array.isArray(value) ? value : Object.values(value as object);
  return stringifyCsv([row]).replace(/\n$/, '');
}
