/**
 * `npm run bench -- codec`: the internal-edge codec against JSON on the same
 * records, in one warmed process, rounds interleaved so machine noise hits
 * both alike; medians of the rounds. A round encodes and decodes every record
 * once. Baselines: JSON.stringify + JSON.parse (strings, as the brief states
 * it) and the same with the Buffer conversion a Kafka record needs (what
 * edges did before the codec); for records with Date, Map and bigint, JSON
 * with a replacer and a reviver that restore them. The schemas come from
 * bench/codec/pipeline.ts through the compiler, as in a real build.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { check, nodeHost } from '../../compiler/index.ts';
import { createCodec, type EdgeCodec, type RecordSchema } from '../../runtime/internal/codec/index.ts';
import type { Click, Rich } from './pipeline.ts';
import { median, root } from '../lib.ts';

/** Schemas of the two keyBy edges of the bench pipeline, in order. */
async function schemas(): Promise<[RecordSchema, RecordSchema]> {
  const checked = await check(nodeHost(root), 'bench/codec/pipeline.ts');
  if (!checked.plan || !checked.analysis?.edgeSchemas) throw new Error(`bench/codec/pipeline.ts: ${JSON.stringify(checked.diagnostics)}`);
  const keyBys = checked.plan.nodes.filter((n) => n.kind === 'keyBy').map((n) => checked.analysis!.edgeSchemas![n.id]);
  return [keyBys[0], keyBys[1]];
}

function clicks(n: number): Click[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: 1_700_000_000_000 + i * 37, user: `user-${(i * 7919) % 5000}`, sex: i % 2 ? 'M' : 'F', action: i % 5 ? 'click' : 'scroll', count: i % 97,
    page: { url: `/products/${(i * 31) % 1000}?ref=home`, referrer: 'https://www.example.com/landing', loadMs: 120 + (i % 400) / 8 },
    tags: ['web', i % 3 ? 'mobile' : 'desktop', `campaign-${i % 12}`],
  }));
}

function richRecords(n: number): Rich[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `order-${i}`, at: new Date(1_700_000_000_000 + i * 1000), counts: new Map([['apples', i % 7], ['pears', i % 11], ['plums', i % 3]]),
    total: BigInt(i) * 1_000_000_007n, score: i % 10 === 0 ? NaN : i / 3, ...(i % 2 ? { note: 'gift wrap' } : {}),
  }));
}

/** JSON that keeps Date, Map and bigint: the usual replacer/reviver pair. */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Date) return { $date: raw.getTime() };
  if (raw instanceof Map) return { $map: [...raw] };
  if (typeof raw === 'bigint') return { $bigint: raw.toString() };
  return value;
}
function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if ('$date' in v) return new Date(v.$date as number);
    if ('$map' in v) return new Map(v.$map as Array<[unknown, unknown]>);
    if ('$bigint' in v) return BigInt(v.$bigint as string);
  }
  return value;
}

type Variant = { label: string; roundTrip: (records: unknown[]) => number };

function codecVariant(codec: EdgeCodec): Variant {
  return { label: 'edge codec', roundTrip: (records) => { let bytes = 0; for (const r of records) { const b = codec.encode(r); bytes += b.length; codec.decode(b); } return bytes; } };
}
const jsonStrings: Variant = { label: 'JSON.stringify + parse', roundTrip: (records) => { let bytes = 0; for (const r of records) { const s = JSON.stringify(r); bytes += s.length; JSON.parse(s); } return bytes; } };
const jsonBytes: Variant = { label: 'JSON as Kafka bytes', roundTrip: (records) => { let bytes = 0; for (const r of records) { const b = Buffer.from(JSON.stringify(r)); bytes += b.length; JSON.parse(b.toString('utf8')); } return bytes; } };
const jsonReviver: Variant = { label: 'JSON + replacer/reviver', roundTrip: (records) => { let bytes = 0; for (const r of records) { const s = JSON.stringify(r, replacer); bytes += s.length; JSON.parse(s, reviver); } return bytes; } };

function measure(title: string, records: unknown[], variants: Variant[], rounds: number): void {
  const times = new Map<string, number[]>(variants.map((v) => [v.label, []]));
  const sizes = new Map<string, number>();
  for (const v of variants) sizes.set(v.label, v.roundTrip(records)); // warm-up round, not counted
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      const start = process.hrtime.bigint();
      v.roundTrip(records);
      times.get(v.label)!.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  const codecMs = median(times.get('edge codec')!);
  console.log(`\n${title}: ${records.length.toLocaleString('en')} records, encode + decode each, median of ${rounds} rounds`);
  console.log('variant                    records/s      ms   bytes/record   codec speed-up');
  for (const v of variants) {
    const ms = median(times.get(v.label)!);
    console.log(`${v.label.padEnd(24)} ${Math.round((records.length / ms) * 1000).toLocaleString('en').padStart(11)} ${ms.toFixed(1).padStart(7)}   ${(sizes.get(v.label)! / records.length).toFixed(1).padStart(12)}   ${v.label === 'edge codec' ? '' : `${(ms / codecMs).toFixed(2)}x`}`);
  }
}

/** Runs the codec benchmark. */
export async function codecBench(options: { records: number; rounds: number }): Promise<void> {
  const [clickSchema, richSchema] = await schemas();
  const clickCodec = createCodec(clickSchema), richCodec = createCodec(richSchema);
  const plain = clicks(options.records), rich = richRecords(options.records);
  // The benchmark is only worth something if the codec is exact: check every record once, and that none fell back to the tagged layout.
  for (const r of plain) assert.deepStrictEqual(clickCodec.decode(clickCodec.encode(r)), r);
  for (const r of rich) assert.deepStrictEqual(richCodec.decode(richCodec.encode(r)), r);
  assert.equal(clickCodec.fallbacks + richCodec.fallbacks, 0, 'every record used the typed layout');
  const loadBefore = os.loadavg();
  console.log(`codec: node ${process.version}, ${os.cpus().length} CPUs, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} (1/5/15 min) before`);
  measure('click record (strings, numbers, nested object, array)', plain, [codecVariant(clickCodec), jsonStrings, jsonBytes], options.rounds);
  measure('record with Date, Map, bigint, NaN, optional field', rich, [codecVariant(richCodec), jsonReviver], options.rounds);
  console.log(`\nload average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} after; target: edge codec >= 2x JSON.stringify + parse on the click record`);
}
