/**
 * The Kafka client pipec needs, and nothing more: produce, consume with
 * manual commits and pause/resume, topic creation, transactions with
 * sendOffsets and fencing, reading a changelog partition to its end.
 * Implemented with kafkajs; narrow enough that another client
 * (@platformatic/kafka) could implement it instead. Brokers come from
 * PIPEC_KAFKA_BROKERS (or --brokers), never from the pipeline file.
 */
import { AssignerProtocol, Kafka, logLevel, type Consumer, type PartitionAssigner, type Producer } from 'kafkajs';
import type { Logger } from '../log.ts';

/** A record to send (a null value is a tombstone: compaction drops the key). */
export interface OutgoingRecord { topic: string; partition?: number; key?: string | null; value: string | Buffer | null; timestamp?: number; headers?: Record<string, string> }

/** A record received. */
export interface IncomingRecord { topic: string; partition: number; offset: string; key: string | null; value: Buffer | null; timestamp: number; headers: Record<string, string> }

/** A batch of records of one partition, handed to the consumer's handler. */
export interface IncomingBatch {
  topic: string;
  partition: number;
  records: IncomingRecord[];
  /** The partition's end offset when fetched (consumer lag = highWatermark − next offset). */
  highWatermark: string;
  /** Tells the group this member is alive (call it during long waits inside the handler). */
  heartbeat(): Promise<void>;
}

/**
 * Partition ownership changes (Kafka consumer-group rebalances): after each
 * rebalance, the partitions this member lost, then those it gained; partitions
 * it keeps are in neither (their tasks keep running). The client fetches
 * every partition again from its committed offset after a rebalance, so a
 * kept partition may see records again that its task has already processed.
 */
export interface RebalanceListener {
  assigned(partitions: Array<{ topic: string; partition: number }>): void;
  revoked(partitions: Array<{ topic: string; partition: number }>): void;
  /** The member heard from its group (a successful heartbeat or join). */
  alive?(): void;
  /** The consumer stopped after an error; `restarting` when the client reconnects and rejoins by itself. */
  crashed?(error: Error, restarting: boolean): void;
}

/** A consumer in a group, committing offsets by hand. */
export interface GroupConsumer {
  /** Subscribes and runs `onBatch` for each batch; offsets are committed only through `commit`. */
  run(topics: Array<{ topic: string; fromBeginning: boolean }>, onBatch: (batch: IncomingBatch) => Promise<void>, listener: RebalanceListener): Promise<void>;
  commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>;
  /**
   * Forgets that this member owns a partition index (its task was fenced: a
   * rebalance gave it to another member), so that a later rebalance that
   * assigns it here again reports it as assigned.
   */
  forget(partition: number): void;
  /** Stops fetching; resolves once the batch in hand is handled (the member stays in the group until close). */
  stop(): Promise<void>;
  pause(topics: string[]): void;
  resume(topics: string[]): void;
  close(): Promise<void>;
}

/** A producer (idempotent). */
export interface RecordProducer {
  send(records: OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** Consumed offsets to commit: the next offset to read, per topic partition, for a consumer group. */
export interface GroupOffsets { group: string; offsets: Array<{ topic: string; partition: number; offset: string }> }

/**
 * A transactional producer (one transactional id: one task). Creating it
 * fences every earlier producer with the same id (a zombie worker that
 * stalled past its session timeout) and aborts its open transaction.
 */
export interface TransactionalProducer {
  /**
   * Sends the records and commits the consumed offsets in one transaction:
   * all of it becomes visible to read-committed consumers, or none. Throws
   * FencedError when another producer has taken over the transactional id.
   */
  commit(records: OutgoingRecord[], offsets: GroupOffsets | null): Promise<void>;
  close(): Promise<void>;
}

/** Another producer took over this producer's transactional id: its task now runs elsewhere. */
export class FencedError extends Error {
  constructor(message: string) { super(message); this.name = 'FencedError'; }
}

/** Whether an error, or one it wraps (`cause`, kafkajs's `originalError`), has a protocol type or message matching the patterns. */
function errorMatches(error: unknown, type: RegExp, message: RegExp): boolean {
  for (let e = error as { type?: string; message?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; e = (e.cause ?? e.originalError) as typeof e, depth++) {
    if (type.test(e.type ?? '') || message.test(e.message ?? '')) return true;
  }
  return false;
}

/** Whether a client error is the coordinator's CONCURRENT_TRANSACTIONS (the previous transaction is still completing: retry). */
function isConcurrentTransactionError(error: unknown): boolean {
  return errorMatches(error, /CONCURRENT_TRANSACTIONS/, /concurrent operation on the same transaction/i);
}

/** Whether a client error says the producer was fenced (ProducerFenced, InvalidProducerEpoch). */
export function isFencingError(error: unknown): boolean {
  return errorMatches(error, /FENCED|INVALID_PRODUCER_EPOCH/i, /fenced|old epoch|newer producer with the same transactionalId|code 90\b/i);
}

/** The client. */
export interface KafkaClient {
  producer(): Promise<RecordProducer>;
  /** A transactional producer; resolves once earlier producers with the same id are fenced. */
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  /**
   * Reads partitions of a topic from their start to their end as of the call
   * (read-committed: aborted transactions are skipped), calling `onRecord`
   * for each record in offset order per partition.
   */
  readPartitions(topic: string, partitions: number[], onRecord: (partition: number, key: string | null, value: Buffer | null) => void): Promise<void>;
  consumer(group: string, options?: { sessionTimeout?: number; coPartitioned?: boolean }): GroupConsumer;
  /**
   * Creates topics that do not exist yet (`compact`: a changelog, cleanup.policy=compact);
   * with `grow`, also adds partitions to existing ones (pipec's own topics only).
   */
  ensureTopics(topics: Array<{ topic: string; partitions: number; compact?: boolean }>, options?: { grow?: boolean }): Promise<void>;
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
    const bytes = (r.value === null ? 0 : typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length) + (r.key ? Buffer.byteLength(r.key) : 0) + 70;
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
 * Kafka Streams' co-partitioning, sticky: partition p of every subscribed
 * topic goes to the same member, so a task that joins two keyed inputs sees
 * both sides of its keys; a partition stays with the member that owned it
 * (each member sends what it owns in its subscription) as long as that member
 * stays within its fair share, so a member joining or leaving moves only the
 * tasks it must, and the others keep their state and keep running.
 */
export function coPartitionedAssigner(owned: () => number[]): PartitionAssigner {
  return ({ cluster }) => ({
    name: 'PipecCoPartitioned',
    version: 2,
    async assign({ members, topics }) {
      const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
      const partitionsOf = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((p) => p.partitionId)]));
      const indexes = [...new Set([...partitionsOf.values()].flat())].sort((a, b) => a - b);
      const previous = new Map<number, string>();
      for (const m of sorted) {
        let claimed: number[] = [];
        try {
          const { userData } = AssignerProtocol.MemberMetadata.decode(m.memberMetadata) ?? { userData: Buffer.alloc(0) };
          if (userData.length) claimed = (JSON.parse(userData.toString()) as { owned?: number[] }).owned ?? [];
        } catch { claimed = []; }
        for (const p of claimed) if (!previous.has(p)) previous.set(p, m.memberId);
      }
      const quota = Math.ceil(indexes.length / Math.max(1, sorted.length));
      const counts = new Map(sorted.map((m) => [m.memberId, 0]));
      const owner = new Map<number, string>();
      for (const p of indexes) {
        const prev = previous.get(p);
        if (prev !== undefined && counts.has(prev) && counts.get(prev)! < quota) { owner.set(p, prev); counts.set(prev, counts.get(prev)! + 1); }
      }
      for (const p of indexes) {
        if (owner.has(p)) continue;
        let best = sorted[0].memberId;
        for (const m of sorted) if (counts.get(m.memberId)! < counts.get(best)!) best = m.memberId;
        owner.set(p, best);
        counts.set(best, counts.get(best)! + 1);
      }
      const assignment = new Map<string, Record<string, number[]>>(sorted.map((m) => [m.memberId, {}]));
      for (const [topic, partitions] of partitionsOf) {
        for (const p of [...partitions].sort((a, b) => a - b)) (assignment.get(owner.get(p)!)![topic] ??= []).push(p);
      }
      return sorted.map((m) => ({ memberId: m.memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 2, assignment: assignment.get(m.memberId)!, userData: Buffer.alloc(0) }) }));
    },
    protocol({ topics }) {
      return { name: 'PipecCoPartitioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 2, topics, userData: Buffer.from(JSON.stringify({ owned: owned() })) }) };
    },
  });
}

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

  const toMessages = (messages: OutgoingRecord[]) => messages.map((m) => ({ key: m.key ?? null, value: m.value, partition: m.partition, timestamp: m.timestamp === undefined ? undefined : String(m.timestamp), headers: m.headers }));
  const byTopic = (records: OutgoingRecord[]) => {
    const topics = new Map<string, OutgoingRecord[]>();
    for (const r of records) { const list = topics.get(r.topic); if (list) list.push(r); else topics.set(r.topic, [r]); }
    return [...topics].map(([topic, messages]) => ({ topic, messages: toMessages(messages) }));
  };

  return {
    async transactionalProducer(transactionalId) {
      const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId, allowAutoTopicCreation: false, transactionTimeout: 60_000 });
      const fenced = (error: unknown) => (isFencingError(error) ? new FencedError(`producer ${transactionalId} was fenced: another worker now runs its task`) : error);
      await producer.connect();
      closers.push(() => producer.disconnect());
      // The first transaction registers the id with the coordinator: earlier producers with it are fenced, their open transaction aborted.
      try {
        const first = await producer.transaction();
        await first.abort();
      } catch (error) {
        throw fenced(error);
      }
      return {
        async commit(records, offsets) {
          if (records.length === 0 && (!offsets || offsets.offsets.length === 0)) return;
          // The coordinator may still be completing the previous transaction (CONCURRENT_TRANSACTIONS), and kafkajs
          // does not retry every request on it (AddOffsetsToTxn): the whole transaction is retried after an abort.
          for (let attempt = 1; ; attempt++) {
            const tx = await producer.transaction().catch((error: unknown) => { throw fenced(error); });
            try {
              for (const chunk of chunksBySize(records, 512 * 1024)) await tx.sendBatch({ acks: -1, topicMessages: byTopic(chunk) });
              if (offsets && offsets.offsets.length) {
                const topics = new Map<string, Array<{ partition: number; offset: string }>>();
                for (const o of offsets.offsets) { const list = topics.get(o.topic) ?? []; list.push({ partition: o.partition, offset: o.offset }); topics.set(o.topic, list); }
                await tx.sendOffsets({ consumerGroupId: offsets.group, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
              }
              await tx.commit();
              return;
            } catch (error) {
              await tx.abort().catch(() => undefined);
              if (isFencingError(error)) throw fenced(error);
              if (attempt >= 8 || !isConcurrentTransactionError(error)) throw error;
              log.debug({ transactionalId, attempt }, 'transaction retried: the coordinator was still completing the previous one');
              await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
            }
          }
        },
        close: () => producer.disconnect(),
      };
    },
    async readPartitions(topic, partitions, onRecord) {
      if (partitions.length === 0) return;
      const a = await connectedAdmin();
      const ends = new Map((await a.fetchTopicOffsets(topic)).map((o) => [o.partition, { high: BigInt(o.high), low: BigInt(o.low) }]));
      const pending = new Set(partitions.filter((p) => { const e = ends.get(p); return e !== undefined && e.high > e.low; }));
      if (pending.size === 0) return;
      // kafkajs has no manual assignment: a one-member group of its own reads the topic, and pauses what it does not need.
      const reader = kafka.consumer({ groupId: `${clientId}-restore-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`, allowAutoTopicCreation: false, maxBytesPerPartition: 8 << 20, sessionTimeout: 30_000 });
      await reader.connect();
      try {
        let finish!: () => void;
        let fail!: (error: unknown) => void;
        const done = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject; });
        const reached = (partition: number, lastOffset: string) => {
          const end = ends.get(partition);
          if (end && pending.has(partition) && BigInt(lastOffset) >= end.high - 1n) {
            pending.delete(partition);
            reader.pause([{ topic, partitions: [partition] }]);
            if (pending.size === 0) finish();
          }
        };
        reader.on(reader.events.GROUP_JOIN, (event) => {
          const others = (event.payload.memberAssignment[topic] ?? []).filter((p) => !pending.has(p));
          if (others.length) reader.pause([{ topic, partitions: others }]);
        });
        // Batches of only control records (transaction markers) never reach eachBatch: their end shows in this event.
        reader.on(reader.events.END_BATCH_PROCESS, (event) => reached(event.payload.partition, event.payload.lastOffset));
        reader.on(reader.events.CRASH, (event) => fail(event.payload.error));
        await reader.subscribe({ topic, fromBeginning: true });
        await reader.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (!pending.has(batch.partition)) return;
            const end = ends.get(batch.partition)!.high;
            for (const m of batch.messages) if (BigInt(m.offset) < end) onRecord(batch.partition, m.key ? m.key.toString() : null, m.value);
          },
        });
        await done;
      } finally {
        await reader.disconnect().catch(() => undefined);
      }
    },
    async producer() {
      const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
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
      let assignment = new Set<string>();
      const owned = () => [...new Set([...assignment].map((id) => Number(id.split('\u0000')[1])))];
      const consumer: Consumer = kafka.consumer({ groupId: group, partitionAssigners: options.coPartitioned ? [coPartitionedAssigner(owned)] : undefined, sessionTimeout: options.sessionTimeout ?? 10_000, heartbeatInterval: 1000, rebalanceTimeout: 20_000, allowAutoTopicCreation: false, maxBytesPerPartition: 4 << 20, maxWaitTimeInMs: 500 });
      closers.push(() => consumer.disconnect());
      return {
        async run(topics, onBatch, listener) {
          await consumer.connect();
          consumer.on(consumer.events.HEARTBEAT, () => listener.alive?.());
          consumer.on(consumer.events.CRASH, (event) => {
            listener.crashed?.(event.payload.error, event.payload.restart);
            log.error({ error: event.payload.error.message, restart: event.payload.restart }, event.payload.restart ? 'consumer lost its connection or group; reconnecting with backoff' : 'consumer stopped after a fatal error');
          });
          consumer.on(consumer.events.CONNECT, () => log.info('consumer connected to the broker'));
          consumer.on(consumer.events.GROUP_JOIN, (event) => {
            listener.alive?.();
            const next = new Set<string>();
            for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) for (const p of partitions) next.add(`${topic}\u0000${p}`);
            const parse = (id: string) => { const [topic, p] = id.split('\u0000'); return { topic, partition: Number(p) }; };
            // kafkajs rebalances eagerly (every member rejoins), but a partition this member keeps is neither revoked nor assigned.
            const revoked = [...assignment].filter((id) => !next.has(id)).map(parse);
            const added = [...next].filter((id) => !assignment.has(id)).map(parse);
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
                topic: batch.topic, partition: batch.partition, heartbeat, highWatermark: batch.highWatermark,
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
        forget: (partition) => { for (const id of [...assignment]) if (Number(id.split('\u0000')[1]) === partition) assignment.delete(id); },
        stop: () => consumer.stop(),
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
        // Workers of one stage start together and create the same topics: losing that race is fine, and a topic
        // another worker just created may not have its leader yet (retriable), so creation is retried a few times.
        for (let attempt = 1; ; attempt++) {
          try {
            await a.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: -1, configEntries: t.compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [] })) });
            break;
          } catch (error) {
            if (String((error as Error).message).includes('already exists')) break;
            if (attempt >= 10 || !(error as { retriable?: boolean }).retriable) throw error;
            await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
          }
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
