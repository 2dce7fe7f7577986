/**
 * The peers benchmark's data: the input records (one topic, read by every
 * workload and every system), what each workload must output for them
 * (computed here, independently of both systems), and the multiset digest
 * the runs' outputs are compared by.
 *
 * Input: `records` JSON events of ~150 bytes over 1,000 users, keyed by user,
 * in 4 partitions placed by Kafka's default partitioner (murmur2 of the key),
 * in event-time order within each partition (event time spans 100 s whatever
 * the size, so a 1 s window holds 1% of the input: ~10 records per user at the
 * full size). Then one sentinel per partition: action 'noise' (the filter
 * drops it), a user of its own whose key hashes to that partition, and a time
 * 2 s past the last event, so that every window of the real users closes in
 * both systems (Kafka Streams' stream time is per partition of its
 * repartition topic, which Kafka Streams places by the same hash, so a
 * partition's records and its sentinel stay together there; pipec's watermark
 * is the minimum over the upstream tasks, each of which reads one input
 * partition in order). The sentinels' own windows never close.
 *
 * Outputs, as records `key → JSON value` (field order as written here, which
 * is the order of pipec's object literals and of the Java records):
 * - stateless: every event but 'noise' → `user → {id, user, action, url, kb}`, kb = ⌊bytes / 1024⌋;
 * - count: per event, the running count of its user → `user → {user, count}`;
 * - window: per user and closed 1 s tumbling window → `user → {user, start, end, count}`.
 */
import { partitionForKey } from '../../runtime/internal/partitioning.ts';

/** An input record's value. */
export interface Event { id: number; ts: number; user: string; action: string; url: string; agent: string; bytes: number }
/** The stateless workload's output value. */
export interface Projected { id: number; user: string; action: string; url: string; kb: number }
/** The count workload's output value. */
export interface UserCount { user: string; count: number }
/** The window workload's output value. */
export interface WindowCount { user: string; start: number; end: number; count: number }

/** The benchmark's three workloads. */
export type Workload = 'stateless' | 'count' | 'window';
export const WORKLOADS: Workload[] = ['stateless', 'count', 'window'];

export const KEYS = 1000;
export const PARTITIONS = 4;
export const WINDOW_MS = 1000;
/** Event time of the first record (a multiple of the window size). */
const T0 = 1_700_000_000_000;
/** Event time the input spans, whatever its size (ms). */
const SPAN_MS = 100_000;

/** The i-th input event of an input of `records` events. */
export function event(i: number, records: number): Event {
  return {
    id: i,
    ts: T0 + Math.floor((i * SPAN_MS) / records),
    user: `u${(i * 7919) % KEYS}`,
    action: i % 10 === 0 ? 'noise' : i % 10 === 5 ? 'click' : 'view',
    url: `/catalog/item/${i % 977}?ref=home`,
    agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
    bytes: (i * 37) % 65536,
  };
}

/** The sentinels that close every real window: one per input partition, after the last event (see the header). */
export function sentinels(records: number): Event[] {
  const ts = T0 + SPAN_MS + 2 * WINDOW_MS;
  const result: Event[] = [];
  for (let p = 0, j = 0; p < PARTITIONS; j++) {
    const user = `~end-${j}`;
    if (partitionForKey(user, PARTITIONS) !== p) continue;
    result.push({ id: records + p, ts, user, action: 'noise', url: '/', agent: '-', bytes: 0 });
    p++;
  }
  return result;
}

/** Every input record in order: key, value and partition. */
export function* inputRecords(records: number): Generator<{ key: string; value: string; partition: number }> {
  for (let i = 0; i < records; i++) {
    const e = event(i, records);
    yield { key: e.user, value: JSON.stringify(e), partition: partitionForKey(e.user, PARTITIONS) };
  }
  for (const e of sentinels(records)) yield { key: e.user, value: JSON.stringify(e), partition: partitionForKey(e.user, PARTITIONS) };
}

/** Every input event, sentinels included (the order within a user's events is the input's). */
function* allEvents(records: number): Generator<Event> {
  for (let i = 0; i < records; i++) yield event(i, records);
  yield* sentinels(records);
}

/** What a workload outputs for the input, as `[key, value]` pairs (in no particular order). */
export function* expectedOutput(workload: Workload, records: number): Generator<[string, string]> {
  switch (workload) {
    case 'stateless':
      for (const e of allEvents(records)) {
        if (e.action === 'noise') continue;
        const out: Projected = { id: e.id, user: e.user, action: e.action, url: e.url, kb: Math.floor(e.bytes / 1024) };
        yield [e.user, JSON.stringify(out)];
      }
      return;
    case 'count': {
      const counts = new Map<string, number>();
      for (const e of allEvents(records)) {
        const count = (counts.get(e.user) ?? 0) + 1;
        counts.set(e.user, count);
        const out: UserCount = { user: e.user, count };
        yield [e.user, JSON.stringify(out)];
      }
      return;
    }
    case 'window': {
      const windows = new Map<string, WindowCount>();
      for (const e of allEvents(records)) {
        if (e.user.startsWith('~end-')) continue;
        const start = e.ts - (e.ts % WINDOW_MS);
        const id = `${e.user}@${start}`;
        const w = windows.get(id);
        if (w) w.count++; else windows.set(id, { user: e.user, start, end: start + WINDOW_MS, count: 1 });
      }
      for (const w of windows.values()) yield [w.user, JSON.stringify(w)];
    }
  }
}

/** How many records a workload outputs for the input. */
export function expectedCount(workload: Workload, records: number): number {
  let n = 0;
  for (const _ of expectedOutput(workload, records)) n++;
  return n;
}

/** 32-bit FNV-1a over key bytes, a tab and value bytes, from `seed`. */
function fnv(seed: number, key: Uint8Array | null, value: Uint8Array): number {
  let h = seed;
  if (key) for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i], 0x01000193);
  h = Math.imul(h ^ 9, 0x01000193);
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value[i], 0x01000193);
  return h >>> 0;
}

/**
 * An order-independent digest of a multiset of records (key and value bytes):
 * their count and three sums, modulo 2³², of two 32-bit hashes of each record
 * and of their product. Two outputs with the same digest hold the same records
 * the same number of times (up to a ~2⁻⁹⁶ chance). Cheap enough to run on every
 * record as it arrives.
 */
export class OutputDigest {
  count = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  add(key: Uint8Array | null, value: Uint8Array): void {
    const h1 = fnv(0x811c9dc5, key, value);
    const h2 = fnv(0x2b7e1516, key, value);
    this.s1 = (this.s1 + h1) >>> 0;
    this.s2 = (this.s2 + h2) >>> 0;
    this.s3 = (this.s3 + Math.imul(h1, h2 | 1)) >>> 0;
    this.count++;
  }

  get value(): string { return `${this.count}:${this.s1.toString(16)}:${this.s2.toString(16)}:${this.s3.toString(16)}`; }
}

/** The digest of a workload's expected output. */
export function expectedDigest(workload: Workload, records: number): OutputDigest {
  const digest = new OutputDigest();
  for (const [key, value] of expectedOutput(workload, records)) digest.add(Buffer.from(key), Buffer.from(value));
  return digest;
}

/** A record's value in a canonical form (JSON with sorted keys), for the report of a mismatch whose bytes differ. */
export function canonical(key: string | null, value: string): string {
  let parsed: unknown;
  try { parsed = JSON.parse(value); } catch { return `${key}\t${value}`; }
  const sorted = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v);
  return `${key}\t${JSON.stringify(sorted(parsed))}`;
}
