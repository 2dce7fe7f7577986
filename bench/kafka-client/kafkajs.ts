/**
 * The benchmark's kafkajs client: the runtime's kafkajsClient
 * (runtime/internal/kafka/client.ts) with the same settings (idempotent
 * producer, acks -1, 512 KB sends, 4 MB per partition fetches, batches
 * resolved by kafkajs and committed by hand, transactional producers with one
 * request in flight that fence earlier ones by opening and aborting a first
 * transaction), plus topic deletion. A copy rather than an import so that the
 * runtime's client can change without moving the baseline under the figures.
 */
import { AssignerProtocol, Kafka, logLevel, type Consumer, type PartitionAssigner, type Producer } from 'kafkajs';
import { assignmentChange, chunksBySize, coPartitionedAssignment, FencedError, type BenchKafkaClient, type IncomingBatch, type OutgoingRecord } from './client.ts';

const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'PipecCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const assignment = coPartitionedAssignment(members.map((m) => m.memberId), (t) => cluster.findTopicPartitionMetadata(t).length, topics);
    return [...assignment].map(([memberId, byTopic]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: Object.fromEntries(byTopic), userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'PipecCoPartitioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
  },
});

function topicMessages(records: OutgoingRecord[]) {
  const byTopic = new Map<string, OutgoingRecord[]>();
  for (const r of records) { const list = byTopic.get(r.topic); if (list) list.push(r); else byTopic.set(r.topic, [r]); }
  return [...byTopic].map(([topic, messages]) => ({
    topic,
    messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, partition: m.partition, timestamp: m.timestamp === undefined ? undefined : String(m.timestamp), headers: m.headers })),
  }));
}

/** Whether a kafkajs error says the producer was fenced (the runtime's test). */
function isFencingError(error: unknown): boolean {
  for (let e = error as { type?: string; message?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; e = (e.cause ?? e.originalError) as typeof e, depth++) {
    if (/FENCED|INVALID_PRODUCER_EPOCH/i.test(e.type ?? '') || /fenced|producer epoch|newer epoch/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** The kafkajs implementation; errors kafkajs logs go to `warn`. */
export function kafkajsBenchClient(brokers: string[], clientId: string, warn: (message: string) => void = (m) => process.stderr.write(`kafkajs: ${m}\n`)): BenchKafkaClient {
  const kafka = new Kafka({
    clientId, brokers, logLevel: logLevel.ERROR,
    retry: { initialRetryTime: 300, retries: 12, maxRetryTime: 10_000 },
    logCreator: () => ({ namespace, log: entry }) => warn(`${namespace}: ${entry.message}`),
  });
  const admin = kafka.admin();
  let adminConnected: Promise<void> | null = null;
  const connectedAdmin = async () => { adminConnected ??= admin.connect(); await adminConnected; return admin; };
  const closers: Array<() => Promise<void>> = [];

  return {
    async producer() {
      const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
      await producer.connect();
      closers.push(() => producer.disconnect());
      return {
        async send(records) {
          for (const chunk of chunksBySize(records)) await producer.sendBatch({ acks: -1, topicMessages: topicMessages(chunk) });
        },
        close: () => producer.disconnect(),
      };
    },
    async transactionalProducer(transactionalId) {
      const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId, allowAutoTopicCreation: false, transactionTimeout: 60_000 });
      const fenced = (error: unknown) => (isFencingError(error) ? new FencedError(`producer ${transactionalId} was fenced`, { cause: error }) : error);
      await producer.connect();
      closers.push(() => producer.disconnect());
      try {
        // The first transaction registers the id with the coordinator: earlier producers with it are fenced.
        await (await producer.transaction()).abort();
      } catch (error) {
        throw fenced(error);
      }
      return {
        async commit(records, offsets) {
          if (records.length === 0 && !offsets?.offsets.length) return;
          const tx = await producer.transaction().catch((error: unknown) => { throw fenced(error); });
          try {
            for (const chunk of chunksBySize(records)) await tx.sendBatch({ acks: -1, topicMessages: topicMessages(chunk) });
            if (offsets?.offsets.length) {
              const topics = new Map<string, Array<{ partition: number; offset: string }>>();
              for (const o of offsets.offsets) { const list = topics.get(o.topic); if (list) list.push(o); else topics.set(o.topic, [o]); }
              await tx.sendOffsets({ consumerGroupId: offsets.group, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions: partitions.map(({ partition, offset }) => ({ partition, offset })) })) });
            }
            await tx.commit();
          } catch (error) {
            await tx.abort().catch(() => undefined);
            throw fenced(error);
          }
        },
        close: () => producer.disconnect(),
      };
    },
    consumer(group, options = {}) {
      const consumer: Consumer = kafka.consumer({
        groupId: group, partitionAssigners: options.coPartitioned ? [coPartitionedAssigner] : undefined, sessionTimeout: options.sessionTimeout ?? 10_000,
        heartbeatInterval: 1000, rebalanceTimeout: 20_000, allowAutoTopicCreation: false, maxBytesPerPartition: 4 << 20,
      });
      closers.push(() => consumer.disconnect());
      let assignment = new Set<string>();
      return {
        async run(topics, onBatch, listener) {
          await consumer.connect();
          consumer.on(consumer.events.CRASH, (event) => warn(`consumer crashed (restart: ${event.payload.restart}): ${event.payload.error.message}`));
          consumer.on(consumer.events.GROUP_JOIN, (event) => {
            const next = new Set<string>();
            for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) for (const p of partitions) next.add(`${topic}\u0000${p}`);
            const { revoked, assigned } = assignmentChange(assignment, next);
            assignment = next;
            if (revoked.length) listener.revoked(revoked);
            if (assigned.length) listener.assigned(assigned);
          });
          for (const { topic, fromBeginning } of topics) await consumer.subscribe({ topic, fromBeginning });
          await consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: true,
            eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
              if (!isRunning() || isStale()) return;
              const incoming: IncomingBatch = {
                topic: batch.topic, partition: batch.partition, heartbeat,
                records: batch.messages.map((m) => ({
                  topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key ? m.key.toString() : null, value: m.value, timestamp: Number(m.timestamp),
                  headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v === undefined ? '' : v.toString()])),
                })),
              };
              await onBatch(incoming);
              await heartbeat();
            },
          });
        },
        commit: (offsets) => consumer.commitOffsets(offsets),
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
        try {
          await a.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: -1, configEntries: t.compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [] })) });
        } catch (error) {
          if (!String((error as Error).message).includes('already exists')) throw error;
        }
      }
      if (!options.grow) return;
      for (const t of topics.filter((x) => existing.has(x.topic))) {
        if ((await this.partitions(t.topic)) < t.partitions) await a.createPartitions({ topicPartitions: [{ topic: t.topic, count: t.partitions }] });
      }
    },
    async partitions(topic) {
      const a = await connectedAdmin();
      try {
        return (await a.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 0;
      } catch {
        return 0;
      }
    },
    async deleteTopics(topics) {
      if (topics.length) await (await connectedAdmin()).deleteTopics({ topics });
    },
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      if (adminConnected) await admin.disconnect().catch(() => undefined);
    },
  };
}
