/**
 * Key hashing shared by every exchange: murmur2 over the key's UTF-8 bytes,
 * positive-masked, modulo the partition count, as Kafka's default partitioner
 * does, so local channels and repartition topics agree on where a key goes.
 */

const encoder = new TextEncoder();

/** The canonical text of a key (string, number or bigint). */
export function keyText(key: unknown): string {
  switch (typeof key) {
    case 'string': return key;
    case 'number': case 'bigint': return String(key);
    default: throw new TypeError(`invalid key ${JSON.stringify(key) ?? String(key)}: keys must be a string, a number or a bigint`);
  }
}

/**
 * Why a value cannot be a key, or null when it can. Keys are strings, finite
 * numbers and bigints: their text (keyText) names one key on every worker.
 */
export function invalidKeyReason(key: unknown): string | null {
  switch (typeof key) {
    case 'string': case 'bigint': return null;
    case 'number': return Number.isFinite(key) ? null : `the key is ${key}`;
    case 'undefined': return 'the key is undefined';
    case 'object': {
      if (key === null) return 'the key is null';
      let text: string | undefined;
      try { text = JSON.stringify(key); } catch { text = undefined; }
      return `the key is ${Array.isArray(key) ? 'an array' : 'an object'}${text ? ` (${text.length > 60 ? `${text.slice(0, 57)}...` : text})` : ''}`;
    }
    default: return `the key is a ${typeof key}`;
  }
}

/** A key function returned something that cannot be a key; the record goes to the dead-letter output. */
export class InvalidKeyError extends Error {
  constructor(readonly keyNode: number | null, reason: string) {
    super(`${reason}: a key must be a string, a finite number or a bigint`);
    this.name = 'InvalidKeyError';
  }
}

/** A timestamp function returned something that is not a finite number (ms); the record goes to the dead-letter output. */
export class InvalidTimestampError extends Error {
  constructor(readonly node: number, value: unknown) {
    super(`the timestamp is ${typeof value === 'number' ? value : value === undefined ? 'undefined' : value === null ? 'null' : `a ${typeof value} (${String(JSON.stringify(value)).slice(0, 40)})`}: a timestamp must be a finite number of milliseconds`);
    this.name = 'InvalidTimestampError';
  }
}

/** Throws InvalidTimestampError (generated code calls it when a record's timestamp is not a finite number). */
export function invalidTimestamp(node: number, value: unknown): never {
  throw new InvalidTimestampError(node, value);
}

/** Throws InvalidKeyError unless `key` is a valid key (checked on every hash edge, at every parallelism). */
export function checkKey(key: unknown, keyNode: number | null): void {
  if (typeof key === 'string') return;
  const reason = invalidKeyReason(key);
  if (reason !== null) throw new InvalidKeyError(keyNode, reason);
}

/** Kafka's murmur2 (Utils.murmur2). */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const blocks = length >> 2;
  for (let i = 0; i < blocks; i++) {
    const o = i << 2;
    let k = (data[o] & 0xff) | ((data[o + 1] & 0xff) << 8) | ((data[o + 2] & 0xff) << 16) | ((data[o + 3] & 0xff) << 24);
    k = Math.imul(k, m); k ^= k >>> 24; k = Math.imul(k, m);
    h = Math.imul(h, m); h ^= k;
  }
  const tail = blocks << 2;
  switch (length & 3) {
    case 3: h ^= (data[tail + 2] & 0xff) << 16; // falls through
    case 2: h ^= (data[tail + 1] & 0xff) << 8; // falls through
    case 1: h ^= data[tail] & 0xff; h = Math.imul(h, m);
  }
  h ^= h >>> 13; h = Math.imul(h, m); h ^= h >>> 15;
  return h | 0;
}

/** The partition (0..partitions-1) a key goes to. */
export function partitionForKey(key: unknown, partitions: number): number {
  if (partitions === 1) return 0;
  return (murmur2(encoder.encode(keyText(key))) & 0x7fffffff) % partitions;
}
