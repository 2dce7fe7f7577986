/**
 * The Kafka client pipec needs, and nothing more: produce, consume with
 * manual commits and pause/resume, topic creation, transactions with
 * sendOffsets and fencing, reading a changelog partition to its end.
 * Implemented with kafkajs; narrow enough that another client
 * (@platformatic/kafka) could implement it instead. Brokers come from
 * PIPEC_KAFKA_BROKERS (or --brokers), never from the pipeline file.
 */
import { AssignerProtocol, Kafka, logLevel, type Consumer, type PartitionAssigner, type Producer, type Transaction } from 'kafkajs';
import KafkajsBatch from 'kafkajs/src/consumer/batch.js';
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
  /** The member joined its group (after each rebalance) with this member id. */
  joined?(memberId: string): void;
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

/** Where records went: per topic partition written, the offset after the last record written there. */
export interface ProducedOffset { topic: string; partition: number; next: bigint }

/** A producer (idempotent). */
export interface RecordProducer {
  send(records: OutgoingRecord[]): Promise<ProducedOffset[]>;
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
   * Sends records ahead in the open transaction (opening one): they become
   * visible with the next `commit`, or never. Throws FencedError as commit does.
   */
  send(records: OutgoingRecord[]): Promise<void>;
  /**
   * Sends the records and commits the consumed offsets in one transaction
   * (with what `send` sent ahead in it): all of it becomes visible to
   * read-committed consumers, or none. Throws
   * FencedError when another producer has taken over the transactional id.
   * Resolves with where the records went (the last attempt's offsets).
   */
  commit(records: OutgoingRecord[], offsets: GroupOffsets | null): Promise<ProducedOffset[]>;
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
   * Reads partitions of a topic from `from` (default: their start) to their
   * end as of the call (read-committed: aborted transactions are skipped),
   * calling `onRecord` for each record in offset order per partition.
   * Resolves with the end offset read to, per partition (where a later read
   * of what came after would start).
   */
  readPartitions(topic: string, partitions: Array<{ partition: number; from?: bigint }>, onRecord: (partition: number, key: string | null, value: Buffer | null) => void): Promise<Map<number, bigint>>;
  consumer(group: string, options?: { sessionTimeout?: number; coPartitioned?: boolean }): GroupConsumer;
  /**
   * Removes a member from a group (LeaveGroup on its behalf): a worker that
   * restarts after a crash removes its previous incarnation, so the group
   * rebalances at once instead of waiting out the dead member's session.
   * Resolves false when the member was not in the group (any more).
   */
  removeMember(group: string, memberId: string): Promise<boolean>;
  /**
   * Creates topics that do not exist yet (`compact`: a changelog, cleanup.policy=compact);
   * with `grow`, also adds partitions to existing ones (pipec's own topics only).
   */
  ensureTopics(topics: Array<{ topic: string; partitions: number; compact?: boolean }>, options?: { grow?: boolean }): Promise<void>;
  /** Number of partitions of a topic (0 when it does not exist). */
  partitions(topic: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Waits for `promise` inside a batch handler, telling the group every second
 * that this member is alive (kafkajs heartbeats only between batches, so a
 * handler that waits longer than the session timeout would lose its partitions).
 */
export async function heartbeatWhile(promise: Promise<unknown>, heartbeat: () => Promise<void>): Promise<void> {
  for (let settled = false; !settled;) {
    let timer: NodeJS.Timeout | undefined;
    settled = await Promise.race([promise.then(() => true, () => true), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 1000); })]);
    clearTimeout(timer);
    if (!settled) await heartbeat();
  }
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

/** Folds a produce response (kafkajs RecordMetadata: the base offset of each partition's batch) into where each partition's records end. */
function addProduced(into: Map<string, ProducedOffset>, chunk: OutgoingRecord[], results: Array<{ topicName: string; partition: number; baseOffset?: string }>): void {
  const counts = new Map<string, number>();
  for (const r of chunk) if (r.partition !== undefined) { const id = `${r.topic}\u0000${r.partition}`; counts.set(id, (counts.get(id) ?? 0) + 1); }
  for (const m of results) {
    const id = `${m.topicName}\u0000${m.partition}`;
    const count = counts.get(id);
    if (count === undefined || m.baseOffset === undefined || BigInt(m.baseOffset) < 0n) continue;
    const next = BigInt(m.baseOffset) + BigInt(count);
    const known = into.get(id);
    if (!known || known.next < next) into.set(id, { topic: m.topicName, partition: m.partition, next });
  }
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

/** A partition of a kafkajs fetch response, as its Batch takes it. */
type KafkajsPartitionData = ConstructorParameters<typeof KafkajsBatch>[2];

/** The part of kafkajs's internal cluster that removeMember and readPartitions use. */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<{
    fetch(request: { isolationLevel: number; maxWaitTime: number; minBytes: number; maxBytes: number; topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }> }): Promise<{ responses: Array<{ topicName: string; partitions: KafkajsPartitionData[] }> }>;
  }>;
  findGroupCoordinator(options: { groupId: string }): Promise<{ leaveGroup(options: { groupId: string; memberId: string }): Promise<unknown> }>;
}

/** Kafka's isolation level for fetches that skip aborted transactions. */
const READ_COMMITTED = 1;

/** Consumed offsets as kafkajs's sendOffsets takes them. */
function offsetsRequest(offsets: GroupOffsets): { consumerGroupId: string; topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> } {
  const topics = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const o of offsets.offsets) { const list = topics.get(o.topic) ?? []; list.push({ partition: o.partition, offset: o.offset }); topics.set(o.topic, list); }
  return { consumerGroupId: offsets.group, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) };
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
  let clientClosed = false;
  // kafkajs's public API cannot send LeaveGroup for another member, nor fetch without a group: its own cluster
  // (connections, metadata, coordinator and leader lookup) can.
  let cluster: Promise<KafkajsCluster> | null = null;
  const internalCluster = (): Promise<KafkajsCluster> => (cluster ??= (async () => {
    const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
    if (!create) throw new Error('this kafkajs version does not expose its cluster: cannot remove a group member');
    const c = (kafka as unknown as Record<symbol, (options: object) => KafkajsCluster>)[create]({ allowAutoTopicCreation: false });
    await c.connect();
    closers.push(() => c.disconnect());
    return c;
  })());

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
      /** A transaction that `send` opened and `commit` will finish. */
      let open: { tx: Transaction; produced: Map<string, ProducedOffset> } | null = null;
      const sendChunks = async (tx: Transaction, produced: Map<string, ProducedOffset>, records: OutgoingRecord[]) => {
        for (const chunk of chunksBySize(records, 512 * 1024)) addProduced(produced, chunk, await tx.sendBatch({ acks: -1, topicMessages: byTopic(chunk) }));
      };
      return {
        async send(records) {
          if (records.length === 0) return;
          open ??= { tx: await producer.transaction().catch((error: unknown) => { throw fenced(error); }), produced: new Map() };
          try {
            await sendChunks(open.tx, open.produced, records);
          } catch (error) {
            const { tx } = open;
            open = null;
            await tx.abort().catch(() => undefined);
            throw fenced(error);
          }
        },
        async commit(records, offsets) {
          if (open) {
            // Records went out ahead in this transaction: it is finished here, or aborted with them.
            const { tx, produced } = open;
            open = null;
            try {
              await sendChunks(tx, produced, records);
              if (offsets && offsets.offsets.length) {
                for (let attempt = 1; ; attempt++) {
                  try {
                    await tx.sendOffsets(offsetsRequest(offsets));
                    break;
                  } catch (error) {
                    if (attempt >= 8 || !isConcurrentTransactionError(error)) throw error;
                    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
                  }
                }
              }
              await tx.commit();
              return [...produced.values()];
            } catch (error) {
              await tx.abort().catch(() => undefined);
              throw fenced(error);
            }
          }
          if (records.length === 0 && (!offsets || offsets.offsets.length === 0)) return [];
          // The coordinator may still be completing the previous transaction (CONCURRENT_TRANSACTIONS), and kafkajs
          // does not retry every request on it (AddOffsetsToTxn): the whole transaction is retried after an abort.
          for (let attempt = 1; ; attempt++) {
            const tx = await producer.transaction().catch((error: unknown) => { throw fenced(error); });
            const produced = new Map<string, ProducedOffset>();
            try {
              await sendChunks(tx, produced, records);
              if (offsets && offsets.offsets.length) await tx.sendOffsets(offsetsRequest(offsets));
              await tx.commit();
              return [...produced.values()];
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
    async readPartitions(topic, wanted, onRecord) {
      const read = new Map<number, bigint>();
      if (wanted.length === 0) return read;
      const a = await connectedAdmin();
      const ends = new Map((await a.fetchTopicOffsets(topic)).map((o) => [o.partition, { high: BigInt(o.high), low: BigInt(o.low) }]));
      // kafkajs has no manual assignment, and a consumer group of its own would cost a join (group.initial.rebalance.delay.ms,
      // 3 s by default): the partition leader is fetched from directly, read committed, with kafkajs's own batch decoding.
      const c = await internalCluster();
      await c.addTargetTopic(topic);
      for (const w of wanted) {
        const end = ends.get(w.partition);
        if (!end) continue;
        read.set(w.partition, end.high);
        let offset = w.from !== undefined && w.from > end.low ? w.from : end.low;
        let stalled = 0;
        while (offset < end.high) {
          if (clientClosed) throw new Error(`reading ${topic}/${w.partition}: the client was closed`);
          const leader = Object.keys(c.findLeaderForPartitions(topic, [w.partition]))[0];
          const broker = await c.findBroker({ nodeId: leader });
          let data: KafkajsPartitionData;
          try {
            const response = await broker.fetch({ isolationLevel: READ_COMMITTED, maxWaitTime: 100, minBytes: 1, maxBytes: 32 << 20, topics: [{ topic, partitions: [{ partition: w.partition, fetchOffset: String(offset), maxBytes: 16 << 20 }] }] });
            data = response.responses[0].partitions[0];
          } catch (error) {
            // A moved leader or stale metadata: refresh and fetch again (bounded).
            if (++stalled > 50) throw error;
            await c.refreshMetadata().catch(() => undefined);
            await new Promise((resolve) => setTimeout(resolve, 100));
            continue;
          }
          const batch = new KafkajsBatch(topic, String(offset), data);
          for (const m of batch.messages) if (BigInt(m.offset) < end.high) onRecord(w.partition, m.key ? m.key.toString() : null, m.value);
          const within = batch.messagesWithinOffset;
          if (within.length) { offset = BigInt(within[within.length - 1].offset) + 1n; stalled = 0; continue; }
          // Nothing at this offset yet (the last stable offset is behind: a transaction still completing).
          if (++stalled > 300) throw new Error(`reading ${topic}/${w.partition}: no progress at offset ${offset} (end ${end.high}) for 30 s`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      return read;
    },
    async removeMember(group, memberId) {
      const cluster = await internalCluster();
      try {
        const coordinator = await cluster.findGroupCoordinator({ groupId: group });
        await coordinator.leaveGroup({ groupId: group, memberId });
        return true;
      } catch (error) {
        // UNKNOWN_MEMBER_ID: its session ended, or it left by itself.
        if (errorMatches(error, /UNKNOWN_MEMBER_ID/, /unknown member/i)) return false;
        throw error;
      }
    },
    async producer() {
      const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
      await producer.connect();
      closers.push(() => producer.disconnect());
      return {
        async send(records) {
          // Brokers refuse record batches over message.max.bytes (1 MB by default): send in chunks well under it.
          const produced = new Map<string, ProducedOffset>();
          for (const chunk of chunksBySize(records, 512 * 1024)) addProduced(produced, chunk, await sendChunk(chunk));
          return [...produced.values()];
        },
        close: () => producer.disconnect(),
      };
      function sendChunk(records: OutgoingRecord[]) {
        return producer.sendBatch({ acks: -1, topicMessages: byTopic(records) });
      }
    },
    consumer(group, options = {}) {
      let assignment = new Set<string>();
      const owned = () => [...new Set([...assignment].map((id) => Number(id.split('\u0000')[1])))];
      const consumer: Consumer = kafka.consumer({ groupId: group, partitionAssigners: options.coPartitioned ? [coPartitionedAssigner(owned)] : undefined, sessionTimeout: options.sessionTimeout ?? 10_000, heartbeatInterval: 1000, rebalanceTimeout: 20_000, allowAutoTopicCreation: false, maxBytesPerPartition: 4 << 20, maxWaitTimeInMs: 500 });
      closers.push(() => consumer.disconnect());
      let closed = false;
      return {
        async run(topics, onBatch, listener) {
          consumer.on(consumer.events.HEARTBEAT, () => listener.alive?.());
          let rejoins = 0;
          consumer.on(consumer.events.CRASH, (event) => {
            const { error, restart } = event.payload;
            listener.crashed?.(error, restart);
            if (restart || closed) {
              log.error({ error: error.message, restart }, 'consumer lost its connection or group; reconnecting with backoff');
              return;
            }
            // kafkajs gives up on errors it deems fatal, among them a group that forgot this member (a stall past its
            // session): the member starts over and joins again, with backoff, while /healthz reports it out of the group.
            const delay = Math.min(30_000, 1000 * 2 ** Math.min(rejoins++, 5));
            log.error({ error: error.message, retryInMs: delay }, 'consumer stopped after an error kafkajs does not retry; joining the group again');
            setTimeout(() => {
              if (closed) return;
              consumer.disconnect().then(start).catch((e: unknown) => log.error({ error: (e as Error).message }, 'consumer could not join again'));
            }, delay).unref();
          });
          consumer.on(consumer.events.CONNECT, () => log.info('consumer connected to the broker'));
          consumer.on(consumer.events.GROUP_JOIN, (event) => {
            rejoins = 0;
            listener.alive?.();
            listener.joined?.(event.payload.memberId);
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
          const start = async () => {
            await consumer.connect();
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
          };
          await start();
        },
        commit: (offsets) => consumer.commitOffsets(offsets),
        forget: (partition) => { for (const id of [...assignment]) if (Number(id.split('\u0000')[1]) === partition) assignment.delete(id); },
        stop: () => { closed = true; return consumer.stop(); },
        pause: (topics) => consumer.pause(topics.map((topic) => ({ topic }))),
        resume: (topics) => consumer.resume(topics.map((topic) => ({ topic }))),
        close: () => { closed = true; return consumer.disconnect(); },
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
      clientClosed = true;
      for (const close of closers.reverse()) await close().catch(() => undefined);
      if (adminConnected) await admin.disconnect().catch(() => undefined);
    },
  };
}
