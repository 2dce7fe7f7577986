/**
 * How records and watermarks cross a stage boundary through a Kafka
 * repartition topic. A record's value is `[flags][timestamp?][record]`: flags
 * bit 0 says a float64 event timestamp follows, and the record is encoded by
 * the edge's codec, generated from the TypeScript type of the records
 * (manifest edge `schema`, see runtime/internal/codec/), so Date, Map, Set,
 * bigint, typed arrays, undefined, NaN and -0 arrive exactly as they left. On
 * hash edges the Kafka key is the key's text (partition = murmur2(key) mod
 * partitions, Kafka's own choice). A watermark is a marker sent to every
 * partition with header `pipec-wm: <producer>` and the watermark (or
 * "idle"/"active") as value; a partition's watermark is the minimum over its
 * producers, and a task's edge watermark that of its partition.
 */
import { ByteReader, createCodec, sharedWriter, ANY_SCHEMA, type EdgeCodec, type RecordSchema } from '../codec/index.ts';
import type { Manifest } from '../manifest.ts';

/**
 * Namespaces the topics and groups pipec owns (repartition topics, default
 * consumer groups, the dead-letter topic) with PIPEC_TOPIC_PREFIX, so several
 * deployments of one pipeline, or test runs, can share a cluster.
 */
export function namespaced(name: string): string {
  return `${process.env.PIPEC_TOPIC_PREFIX ?? ''}${name}`;
}

/** Header that marks a watermark record, naming the upstream task that sent it. */
export const WATERMARK_HEADER = 'pipec-wm';

/** The part of a manifest edge the codec needs. */
type ManifestEdge = Manifest['edges'][number];

const HAS_TIMESTAMP = 1;

/** Encodes and decodes the records of one edge (see the file header). */
export class EdgeRecordCodec {
  private readonly codec: EdgeCodec;
  private readonly reader = new ByteReader();

  constructor(schema: RecordSchema) { this.codec = createCodec(schema); }

  /** One record with its event timestamp, as the bytes of a Kafka record value. */
  encode(value: unknown, ts: number | undefined): Buffer {
    const w = sharedWriter;
    w.begin();
    if (ts === undefined) w.u8(0);
    else { w.u8(HAS_TIMESTAMP); w.f64(ts); }
    this.codec.write(w, value);
    return w.finish();
  }

  /** A record from a Kafka record value; throws on truncated, corrupt or foreign bytes. */
  decode(bytes: Uint8Array): { value: unknown; ts: number | undefined } {
    const r = this.reader;
    r.reset(bytes);
    const ts = r.u8() & HAS_TIMESTAMP ? r.f64() : undefined;
    const value = this.codec.read(r);
    r.done();
    return { value, ts };
  }
}

const codecsByManifest = new WeakMap<Manifest, Map<string, EdgeRecordCodec>>();

/** The codec of an edge, built once per edge and manifest (building generates code). */
export function edgeRecordCodec(manifest: Manifest, edgeId: string): EdgeRecordCodec {
  let codecs = codecsByManifest.get(manifest);
  if (!codecs) { codecs = new Map(); codecsByManifest.set(manifest, codecs); }
  let codec = codecs.get(edgeId);
  if (!codec) {
    const edge: ManifestEdge | undefined = manifest.edges.find((e) => e.id === edgeId);
    if (!edge) throw new Error(`internal: no edge ${edgeId} in the manifest`);
    codec = new EdgeRecordCodec(edge.schema ?? ANY_SCHEMA);
    codecs.set(edgeId, codec);
  }
  return codec;
}

/** Encodes a watermark message (JSON has no Infinity). */
export function encodeWatermark(message: number | 'idle' | 'active'): string {
  return message === Infinity ? '"end"' : JSON.stringify(message);
}

/** Decodes a watermark message. */
export function decodeWatermark(bytes: Buffer): number | 'idle' | 'active' {
  const parsed = JSON.parse(bytes.toString('utf8')) as number | 'idle' | 'active' | 'end';
  return parsed === 'end' ? Infinity : parsed;
}

/** The watermark of one partition: the minimum over the upstream tasks that write to it. */
export class PartitionWatermark {
  private readonly producers = new Map<string, { watermark: number; idle: boolean }>();
  constructor(private readonly expectedProducers: number) {}

  /** Records a marker; returns the partition's watermark or status when it changed. */
  update(producer: string, message: number | 'idle' | 'active'): number | 'idle' | 'active' | null {
    const before = this.current();
    const state = this.producers.get(producer) ?? { watermark: -Infinity, idle: false };
    if (message === 'idle') state.idle = true;
    else if (message === 'active') state.idle = false;
    else { state.watermark = Math.max(state.watermark, message); state.idle = false; }
    this.producers.set(producer, state);
    const after = this.current();
    return after === before ? null : after;
  }

  /** The largest watermark any producer has sent (passed on before the partition goes idle). */
  maxWatermark(): number {
    let max = -Infinity;
    for (const p of this.producers.values()) if (p.watermark > max) max = p.watermark;
    return max;
  }

  /** The producers' states, for a checkpoint. */
  snapshot(): Array<[string, number, boolean]> {
    return [...this.producers].map(([id, p]) => [id, p.watermark, p.idle]);
  }

  restore(producers: Array<[string, number, boolean]>): void {
    for (const [id, watermark, idle] of producers) this.producers.set(id, { watermark, idle });
  }

  /** Minimum over producers; producers not heard from yet count as −∞ unless all known ones are idle. */
  current(): number | 'idle' {
    const known = [...this.producers.values()];
    const active = known.filter((p) => !p.idle);
    if (active.length === 0 && known.length > 0 && known.length >= this.expectedProducers) return 'idle';
    if (known.length < this.expectedProducers) return -Infinity;
    return active.length ? Math.min(...active.map((p) => p.watermark)) : -Infinity;
  }
}
