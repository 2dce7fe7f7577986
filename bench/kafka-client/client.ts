/**
 * What the kafka-client benchmark asks of a Kafka client: the runtime's
 * KafkaClient (runtime/internal/kafka/client.ts) in the shape it is being
 * reworked into (transactional producers that commit records and consumed
 * offsets in one call, batches that can heartbeat, consumers that can stop),
 * minus readPartitions, plus topic deletion. The shapes are copied here with
 * the runtime's names rather than imported, so the benchmark keeps compiling
 * while that file changes. kafkajs.ts and platformatic.ts implement them;
 * nothing of either library's types passes these interfaces. Consumers read
 * read_committed, as the runtime's do (kafkajs's default).
 */

/** A record to send (a null value: a tombstone). */
export interface OutgoingRecord { topic: string; partition?: number; key?: string | null; value: string | Buffer | null; timestamp?: number; headers?: Record<string, string> }

/** A record received. */
export interface IncomingRecord { topic: string; partition: number; offset: string; key: string | null; value: Buffer | null; timestamp: number; headers: Record<string, string> }

/** Partition ownership changes: after each rebalance, the partitions this member lost, then those it gained. */
export interface RebalanceListener {
  assigned(partitions: Array<{ topic: string; partition: number }>): void;
  revoked(partitions: Array<{ topic: string; partition: number }>): void;
}

/** A producer (idempotent). */
export interface RecordProducer {
  send(records: OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** A consumed position, as commits take it: the next offset to read. */
export interface PartitionOffset { topic: string; partition: number; offset: string }

/** A batch of records of one partition, handed to the consumer's handler. */
export interface IncomingBatch { topic: string; partition: number; records: IncomingRecord[]; heartbeat(): Promise<void> }

/** A consumer in a group, committing offsets by hand. */
export interface GroupConsumer {
  run(topics: Array<{ topic: string; fromBeginning: boolean }>, onBatch: (batch: IncomingBatch) => Promise<void>, listener: RebalanceListener): Promise<void>;
  commit(offsets: PartitionOffset[]): Promise<void>;
  /** Stops fetching; resolves once the batch in hand is handled (the member stays in the group until close). */
  stop(): Promise<void>;
  pause(topics: string[]): void;
  resume(topics: string[]): void;
  close(): Promise<void>;
}

/** Consumed offsets to commit for a consumer group. */
export interface GroupOffsets { group: string; offsets: PartitionOffset[] }

/** A transactional producer: creating it fences earlier producers with its id. */
export interface TransactionalProducer {
  /** Sends the records and commits the offsets in one transaction; throws FencedError once another producer took the id. */
  commit(records: OutgoingRecord[], offsets: GroupOffsets | null): Promise<void>;
  close(): Promise<void>;
}

/** Another producer took over this producer's transactional id. */
export class FencedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'FencedError'; }
}

/** The client. */
export interface BenchKafkaClient {
  producer(): Promise<RecordProducer>;
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  consumer(group: string, options?: { sessionTimeout?: number; coPartitioned?: boolean }): GroupConsumer;
  ensureTopics(topics: Array<{ topic: string; partitions: number; compact?: boolean }>, options?: { grow?: boolean }): Promise<void>;
  partitions(topic: string): Promise<number>;
  deleteTopics(topics: string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Splits records into runs under `limit` bytes (brokers refuse record batches
 * over message.max.bytes, 1 MB by default), as the runtime's kafkajs client
 * does; both clients of the benchmark send through it.
 */
export function chunksBySize(records: OutgoingRecord[], limit = 512 * 1024): OutgoingRecord[][] {
  const chunks: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let size = 0;
  for (const r of records) {
    const bytes = (r.value === null ? 0 : typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length) + (r.key ? Buffer.byteLength(r.key) : 0) + 70;
    if (current.length && size + bytes > limit) { chunks.push(current); current = []; size = 0; }
    current.push(r);
    size += bytes;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/** Co-partitioning (Kafka Streams'): partition p of every topic goes to member p mod n, members sorted by id. */
export function coPartitionedAssignment(memberIds: string[], partitionsOf: (topic: string) => number, topics: Iterable<string>): Map<string, Map<string, number[]>> {
  const sorted = [...memberIds].sort((a, b) => a.localeCompare(b));
  const assignment = new Map<string, Map<string, number[]>>(sorted.map((m) => [m, new Map()]));
  for (const topic of topics) {
    for (let p = 0; p < partitionsOf(topic); p++) {
      const member = assignment.get(sorted[p % sorted.length])!;
      const list = member.get(topic);
      if (list) list.push(p); else member.set(topic, [p]);
    }
  }
  return assignment;
}

/** The partitions a rebalance took away and gave, from the assignments before and after (keys `topic\0partition`). */
export function assignmentChange(before: Set<string>, after: Set<string>): { revoked: Array<{ topic: string; partition: number }>; assigned: Array<{ topic: string; partition: number }> } {
  const parse = (id: string) => { const at = id.lastIndexOf('\u0000'); return { topic: id.slice(0, at), partition: Number(id.slice(at + 1)) }; };
  return { revoked: [...before].filter((id) => !after.has(id)).map(parse), assigned: [...after].filter((id) => !before.has(id)).map(parse) };
}
