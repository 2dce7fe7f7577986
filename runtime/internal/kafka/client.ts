/**
 * The Kafka client pipec needs, and nothing more: produce, consume with
 * manual commits and pause/resume, topic creation, transactions with
 * sendOffsets. Implemented with kafkajs; narrow enough that another client
 * (@platformatic/kafka) could implement it instead. Brokers come from
 * PIPEC_KAFKA_BROKERS (or --brokers), never from the pipeline file.
 */
import { AssignerProtocol, Kafka, logLevel, type Consumer, type PartitionAssigner, type Producer } from 'kafkajs';
import type { Logger } from '../log.ts';

/** A record to send. */
export interface OutgoingRecord { topic: string; partition?: number; key?: string | null; value: string | Buffer; timestamp?: number; headers?: Record<string, string> }

/** A record received. */
export interface IncomingRecord { topic: string; partition: number; offset: string; key: string | null; value: Buffer | null; timestamp: number; headers: Record<string, string> }

/** A batch of records of one partition, handed to the consumer's handler. */
export interface IncomingBatch { topic: string; partition: number; records: IncomingRecord[] }

/** Partition ownership changes (Kafka consumer-group rebalances): every rebalance revokes all partitions, then assigns the new set. */
export interface RebalanceListener {
  assigned(partitions: Array<{ topic: string; partition: number }>): void;
  revoked(partitions: Array<{ topic: string; partition: number }>): void;
}

/** A consumer in a group, committing offsets by hand. */
export interface GroupConsumer {
  /** Subscribes and runs `onBatch` for each batch; offsets are committed only through `commit`. */
  run(topics: Array<{ topic: string; fromBeginning: boolean }>, onBatch: (batch: IncomingBatch) => Promise<void>, listener: RebalanceListener): Promise<void>;
  commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>;
  pause(topics: string[]): void;
  resume(topics: string[]): void;
  close(): Promise<void>;
}

/** A producer (idempotent; transactional when given a transactional id). */
export interface RecordProducer {
  send(records: OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** The client. */
export interface KafkaClient {
  producer(options?: { transactionalId?: string }): Promise<RecordProducer>;
  consumer(group: string, options?: { sessionTimeout?: number; coPartitioned?: boolean }): GroupConsumer;
  /** Creates topics that do not exist yet; with `grow`, also adds partitions to existing ones (pipec's own repartition topics only). */
  ensureTopics(topics: Array<{ topic: string; partitions: number }>, options?: { grow?: boolean }): Promise<void>;
  /** Number of partitions of a topic (0 when it does not exist). */
  partitions(topic: string): Promise<number>;
  close(): Promise<void>;
}

/** Splits records into runs whose encoded size stays under `limit` bytes (a single larger record goes alone). */
export function chunksBySize(records: OutgoingRecord[], limit: number): OutgoingRecord[][] {
  const chunks: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let size = 0;
  for (const r of records) {
    const bytes = (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length) + (r.key ? Buffer.byteLength(r.key) : 0) + 70;
    if (current.length && size + bytes > limit) { chunks.push(current); current = []; size = 0; }
    current.push(r);
    size += bytes;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/** The broker list: --brokers, then PIPEC_KAFKA_BROKERS. */
export function brokersFromEnvironment(flag?: string): string[] {
  const value = flag ?? process.env.PIPEC_KAFKA_BROKERS;
  if (!value) throw new Error('no Kafka brokers: set PIPEC_KAFKA_BROKERS=host:port[,host:port] or pass --brokers');
  return value.split(',').map((b) => b.trim()).filter(Boolean);
}

/**
 * Kafka Streams' co-partitioning: partition p of every subscribed topic goes to
 * the same member (p mod members, members sorted), so a task that joins two
 * keyed inputs sees both sides of its keys.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'PipecCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
    const assignment = new Map<string, Record<string, number[]>>(sorted.map((m) => [m.memberId, {}]));
    for (const topic of topics) {
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId).sort((a, b) => a - b);
      for (const p of partitions) {
        const member = assignment.get(sorted[p % sorted.length].memberId)!;
        (member[topic] ??= []).push(p);
      }
    }
    return sorted.map((m) => ({ memberId: m.memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: assignment.get(m.memberId)!, userData: Buffer.alloc(0) }) }));
  },
  protocol({ topics }) {
    return { name: 'PipecCoPartitioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
  },
});

/** The kafkajs implementation. */
export function kafkajsClient(brokers: string[], clientId: string, log: Logger): KafkaClient {
  const kafka = new Kafka({
    clientId, brokers, logLevel: logLevel.ERROR,
    retry: { initialRetryTime: 300, retries: 12, maxRetryTime: 10_000 },
    logCreator: () => ({ namespace, log: entry }) => log.warn({ kafka: namespace, message: entry.message }, 'kafka client'),
  });
  const admin = kafka.admin();
  let adminConnected: Promise<void> | null = null;
  const connectedAdmin = async () => { adminConnected ??= admin.connect(); await adminConnected; return admin; };
  const closers: Array<() => Promise<void>> = [];

  return {
    async producer(options = {}) {
      const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, transactionalId: options.transactionalId, allowAutoTopicCreation: false });
      await producer.connect();
      closers.push(() => producer.disconnect());
      return {
        async send(records) {
          // Brokers refuse record batches over message.max.bytes (1 MB by default): send in chunks well under it.
          for (const chunk of chunksBySize(records, 512 * 1024)) await sendChunk(chunk);
        },
        close: () => producer.disconnect(),
      };
      async function sendChunk(records: OutgoingRecord[]): Promise<void> {
          const byTopic = new Map<string, OutgoingRecord[]>();
          for (const r of records) { const list = byTopic.get(r.topic); if (list) list.push(r); else byTopic.set(r.topic, [r]); }
          await producer.sendBatch({
            acks: -1,
            topicMessages: [...byTopic].map(([topic, messages]) => ({
              topic,
              messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, partition: m.partition, timestamp: m.timestamp === undefined ? undefined : String(m.timestamp), headers: m.headers })),
            })),
          });
      }
    },
    consumer(group, options = {}) {
      const consumer: Consumer = kafka.consumer({ groupId: group, partitionAssigners: options.coPartitioned ? [coPartitionedAssigner] : undefined, sessionTimeout: options.sessionTimeout ?? 10_000, heartbeatInterval: 1000, rebalanceTimeout: 20_000, allowAutoTopicCreation: false, maxBytesPerPartition: 4 << 20 });
      closers.push(() => consumer.disconnect());
      let assignment = new Set<string>();
      return {
        async run(topics, onBatch, listener) {
          await consumer.connect();
          consumer.on(consumer.events.CRASH, (event) => {
            log.error({ error: event.payload.error.message, restart: event.payload.restart }, event.payload.restart ? 'consumer lost its connection or group; reconnecting with backoff' : 'consumer stopped after a fatal error');
          });
          consumer.on(consumer.events.CONNECT, () => log.info('consumer connected to the broker'));
          consumer.on(consumer.events.GROUP_JOIN, (event) => {
            const next = new Set<string>();
            for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) for (const p of partitions) next.add(`${topic}\u0000${p}`);
            const parse = (id: string) => { const [topic, p] = id.split('\u0000'); return { topic, partition: Number(p) }; };
            // Eager rebalancing, as Kafka Streams does by default: every join revokes everything and assigns
            // everything anew, because the client fetches every partition from its committed offset again.
            const revoked = [...assignment].map(parse);
            const added = [...next].map(parse);
            assignment = next;
            if (revoked.length) listener.revoked(revoked);
            if (added.length) listener.assigned(added);
          });
          for (const { topic, fromBeginning } of topics) await consumer.subscribe({ topic, fromBeginning });
          await consumer.run({
            autoCommit: false,
            // Resolving moves the fetch position past a batch once its handler succeeds; committing stays manual.
            eachBatchAutoResolve: true,
            eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
              if (!isRunning() || isStale()) return;
              await onBatch({
                topic: batch.topic, partition: batch.partition,
                records: batch.messages.map((m) => ({
                  topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key ? m.key.toString() : null, value: m.value, timestamp: Number(m.timestamp),
                  headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v === undefined ? '' : v.toString()])),
                })),
              });
              await heartbeat();
            },
          });
        },
        commit: (offsets) => consumer.commitOffsets(offsets),
        pause: (topics) => consumer.pause(topics.map((topic) => ({ topic }))),
        resume: (topics) => consumer.resume(topics.map((topic) => ({ topic }))),
        close: () => consumer.disconnect(),
      };
    },
    async ensureTopics(topics, options = {}) {
      const a = await connectedAdmin();
      const existing = new Set(await a.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length) {
        try {
          await a.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: -1 })) });
        } catch (error) {
          if (!String((error as Error).message).includes('already exists')) throw error;
        }
      }
      if (!options.grow) return;
      for (const t of topics.filter((x) => existing.has(x.topic))) {
        const current = await this.partitions(t.topic);
        if (current < t.partitions) await a.createPartitions({ topicPartitions: [{ topic: t.topic, count: t.partitions }] });
      }
    },
    async partitions(topic) {
      const a = await connectedAdmin();
      try {
        const metadata = await a.fetchTopicMetadata({ topics: [topic] });
        return metadata.topics[0]?.partitions.length ?? 0;
      } catch {
        return 0;
      }
    },
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      if (adminConnected) await admin.disconnect().catch(() => undefined);
    },
  };
}
