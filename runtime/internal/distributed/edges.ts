/**
 * How records and watermarks cross a stage boundary through a Kafka
 * repartition topic. A record's value is `[timestamp | null, value]` as JSON,
 * keyed by the key's text on hash edges (partition = murmur2(key) mod
 * partitions, Kafka's own choice). A watermark is a marker sent to every
 * partition with header `pipec-wm: <producer>` and the watermark (or
 * "idle"/"active") as value; a partition's watermark is the minimum over its
 * producers, and a task's edge watermark that of its partition.
 */

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

/** Encodes a record for a repartition topic. */
export function encodeEdgeRecord(value: unknown, ts: number | undefined): string {
  return JSON.stringify([ts ?? null, value]);
}

/** Decodes a record from a repartition topic. */
export function decodeEdgeRecord(bytes: Buffer): { value: unknown; ts: number | undefined } {
  const [ts, value] = JSON.parse(bytes.toString('utf8')) as [number | null, unknown];
  return { value, ts: ts ?? undefined };
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

  /** Minimum over producers; producers not heard from yet count as −∞ unless all known ones are idle. */
  current(): number | 'idle' {
    const known = [...this.producers.values()];
    const active = known.filter((p) => !p.idle);
    if (active.length === 0 && known.length > 0 && known.length >= this.expectedProducers) return 'idle';
    if (known.length < this.expectedProducers) return -Infinity;
    return active.length ? Math.min(...active.map((p) => p.watermark)) : -Infinity;
  }
}
