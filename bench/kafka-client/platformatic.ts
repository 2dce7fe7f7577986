/**
 * The benchmark's @platformatic/kafka client, implementing the runtime's
 * KafkaClient interface (runtime/internal/kafka/client.ts), whose kafkajs
 * implementation (kafkajsClient) is the other side of the benchmark: no
 * @platformatic/kafka type passes this file's exports. readPartitions is not
 * implemented (the benchmark does not restore changelogs): it throws.
 *
 * How it maps onto the library (1.35.0, the newest that runs on Node 20: 2.x
 * calls Promise.withResolvers, which Node 20 lacks; features.ts tries what is
 * said here against the broker):
 * - send: Producer.send, idempotent (the library then forces acks -1 and one
 *   request in flight per broker), in the same 512 KB chunks as the runtime's
 *   kafkajs client (chunksBySize), with
 *   the library's `compatibilityPartitioner` so keyed records land where
 *   kafkajs and the Java client put them (its default partitioner,
 *   `murmur2(key) >>> 0`, does not mask the sign bit as Kafka's does).
 * - consumer: one MessagesStream per subscribed topic (so `pause(topics)` can
 *   pause a topic: the library pauses whole streams, not partitions), records
 *   grouped into per-partition batches here (the stream yields one message at
 *   a time), handed to `onBatch` one at a time, as kafkajs's eachBatch does.
 *   Offsets are committed only through `commit` (autocommit off). A batch's
 *   highWatermark is its last offset + 1 (a lower bound: the library does not
 *   hand the fetch response's high watermark to the stream's messages).
 *   Co-partitioned groups use a plain assigner of this file (partition p of
 *   every topic to member p mod n), not the runtime's sticky one, which is a
 *   kafkajs PartitionAssigner.
 * - transactional producers: the first beginTransaction passes producerId
 *   -1n and epoch -1, or InitProducerId fails with PRODUCER_FENCED when the
 *   transactional id is already held (the library's default is 0n and 0).
 * - transactions: Producer.beginTransaction, Transaction.send, addConsumer +
 *   one addOffset per partition, commit. addOffset wants a consumed Message
 *   (it reads the group's generation, member id and coordinator from
 *   `message.metadata.consumer` and commits `message.offset + 1`), so the
 *   offsets are passed as messages built from the consumer's current group
 *   membership; and the calls go one after another, because the library
 *   deduplicates concurrent addOffset calls under one operation id ('commit')
 *   and would drop all but the first.
 */
import { Admin, compatibilityPartitioner, Consumer, FetchIsolationLevels, FindCoordinatorKeyTypes, Producer, type GroupPartitionsAssignments, type Message, type MessagesStream } from '@platformatic/kafka';
import { chunksBySize, FencedError, isFencingError, type GroupConsumer, type IncomingBatch, type IncomingRecord, type KafkaClient, type OutgoingRecord, type ProducedOffset } from '../../runtime/internal/kafka/client.ts';

type Value = string | Buffer | null;
type PlatformaticProducer = Producer<Value, Value, Value, Value>;

// A null value goes out as a null record value (a tombstone): the library writes undefined as null.
const toBuffer = (v?: Value) => (v === undefined || v === null ? undefined : typeof v === 'string' ? Buffer.from(v) : v);
const serializers = { key: toBuffer, value: toBuffer, headerKey: toBuffer, headerValue: toBuffer } as const;

function toMessages(records: OutgoingRecord[]) {
  return records.map((r) => ({ topic: r.topic, partition: r.partition, key: r.key ?? undefined, value: r.value, timestamp: r.timestamp === undefined ? undefined : BigInt(r.timestamp), headers: r.headers }));
}

/**
 * Whether an error says the producer was fenced: the broker's PRODUCER_FENCED (InitProducerId, EndTxn, AddPartitionsToTxn,
 * AddOffsetsToTxn and TxnOffsetCommit since KIP-588) or INVALID_PRODUCER_EPOCH (Produce), wherever the library nests it
 * (ResponseError and MultipleErrors hold ProtocolErrors whose `apiId` is the broker's error name; the runtime's
 * isFencingError follows only `cause` and `originalError`), or whatever the runtime's test recognizes.
 */
function isPlatformaticFencingError(error: unknown): boolean {
  const e = error as { findBy?: (property: string, value: unknown) => unknown } | null;
  return Boolean(e?.findBy?.('apiId', 'PRODUCER_FENCED') || e?.findBy?.('apiId', 'INVALID_PRODUCER_EPOCH')) || isFencingError(error);
}

/** The runtime's FencedError, with the library's error as its cause. */
function fencedError(transactionalId: string, error: unknown): FencedError {
  return Object.assign(new FencedError(`producer ${transactionalId} was fenced: another producer took its transactional id`), { cause: error });
}

/** Co-partitioning: partition p of every subscribed topic goes to member p mod n, members sorted by id. */
function coPartitionedAssigner(_self: string, members: Map<string, unknown>, topics: Set<string>, metadata: { topics: Map<string, { partitionsCount: number }> }): GroupPartitionsAssignments[] {
  const sorted = [...members.keys()].sort((a, b) => a.localeCompare(b));
  const assignments = new Map(sorted.map((m) => [m, new Map<string, { topic: string; partitions: number[] }>()]));
  for (const topic of topics) {
    for (let p = 0; p < (metadata.topics.get(topic)?.partitionsCount ?? 0); p++) {
      const member = assignments.get(sorted[p % sorted.length])!;
      const entry = member.get(topic);
      if (entry) entry.partitions.push(p); else member.set(topic, { topic, partitions: [p] });
    }
  }
  return [...assignments].map(([memberId, byTopic]) => ({ memberId, assignments: byTopic }));
}

/** Records consumed and not yet handed to onBatch, by topic and partition, with the pausing that bounds them. */
const MAX_PENDING = 20_000;

/** The @platformatic/kafka implementation; asynchronous errors (a stream that fails, a rejoin that fails) go to `warn`. */
export function platformaticClient(brokers: string[], clientId: string, warn: (message: string) => void = (m) => process.stderr.write(`platformatic: ${m}\n`)): KafkaClient {
  const base = { clientId, bootstrapBrokers: brokers, retries: 12, retryDelay: 300 };
  let admin: Admin | null = null;
  const connectedAdmin = () => (admin ??= new Admin(base));
  const closers: Array<() => Promise<void>> = [];
  /** The live consumer of each group this client made: transactions commit offsets with its generation and member id. */
  const groupConsumers = new Map<string, Consumer>();
  const groupCoordinator = async (group: string) => (await connectedAdmin().findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [group] }))[0].nodeId;

  /** Sends in chunks; where the records went is not reported (the runtime then keeps no local state copy). */
  async function sendAll(send: (messages: ReturnType<typeof toMessages>) => Promise<unknown>, records: OutgoingRecord[]): Promise<ProducedOffset[]> {
    for (const chunk of chunksBySize(records, 512 * 1024)) await send(toMessages(chunk));
    return [];
  }

  return {
    async producer() {
      const producer: PlatformaticProducer = new Producer({ ...base, idempotent: true, autocreateTopics: false, serializers, partitioner: compatibilityPartitioner });
      closers.push(() => producer.close());
      return {
        send: (records) => sendAll((messages) => producer.send({ messages }), records),
        close: () => producer.close(),
      };
    },

    async transactionalProducer(transactionalId) {
      const producer: PlatformaticProducer = new Producer({ ...base, idempotent: true, transactionalId, autocreateTopics: false, serializers, partitioner: compatibilityPartitioner });
      const fenced = (error: unknown) => (isPlatformaticFencingError(error) ? fencedError(transactionalId, error) : error);
      closers.push(() => producer.close());
      try {
        // beginTransaction sends InitProducerId with the transactional id (fencing earlier producers, aborting their open
        // transaction); cancel() then drops the empty transaction locally (an EndTxn without partitions would be refused).
        // producerId -1n: the library sends 0n and epoch 0 by default, which the coordinator takes for "I am producer 0"
        // and answers PRODUCER_FENCED whenever the id is already held: a new producer could never take an id over.
        await (await producer.beginTransaction({ producerId: -1n, producerEpoch: -1 })).cancel();
      } catch (error) {
        throw fenced(error);
      }
      let broken: unknown = null;
      return {
        async send() {
          throw new Error('sending ahead in an open transaction is not supported by this benchmark\'s @platformatic/kafka client');
        },
        async commit(records, offsets) {
          if (records.length === 0 && !offsets?.offsets.length) return [];
          // A fenced producer stays fenced: its task runs elsewhere. (The library's own handling recognizes only
          // INVALID_PRODUCER_EPOCH; after PRODUCER_FENCED from EndTxn it keeps the dead transaction open.)
          if (broken) throw broken;
          const tx = await producer.beginTransaction().catch((error: unknown) => { throw fenced(error); });
          try {
            await sendAll((messages) => tx.send({ messages }), records);
            if (offsets?.offsets.length) {
              const consumer = groupConsumers.get(offsets.group);
              await tx.addConsumer(consumer ?? ({ groupId: offsets.group } as Consumer));
              // The generation and member id are read now, at commit time: a runtime should take those its batch came with,
              // so that the group refuses offsets of a partition it has since given to another member. No live consumer of
              // the group in this client: commit without them (no zombie check by the group).
              const membership = consumer
                ? { groupId: consumer.groupId, generationId: consumer.generationId, memberId: consumer.memberId, coordinatorId: consumer.coordinatorId ?? await consumer.findGroupCoordinator() }
                : { groupId: offsets.group, generationId: -1, memberId: '', coordinatorId: await groupCoordinator(offsets.group) };
              // One after another: the library runs concurrent addOffset calls as one (deduplicated as 'commit').
              for (const o of offsets.offsets) {
                // addOffset commits `offset + 1` of a consumed message: give it the last consumed offset.
                const consumed = { topic: o.topic, partition: o.partition, offset: BigInt(o.offset) - 1n, metadata: { consumer: membership } } as unknown as Message;
                await tx.addOffset(consumed);
              }
            }
            await tx.commit();
            return [];
          } catch (error) {
            const result = fenced(error);
            if (result instanceof FencedError) broken = result;
            else await tx.abort().catch(() => undefined);
            throw result;
          }
        },
        close: () => producer.close(),
      };
    },

    async readPartitions() {
      throw new Error('readPartitions (reading a changelog to its end) is not supported by this benchmark\'s @platformatic/kafka client');
    },

    async removeMember() {
      throw new Error('removeMember is not supported by this benchmark\'s @platformatic/kafka client');
    },

    consumer(group, options = {}) {
      const consumer = new Consumer({
        ...base, groupId: group, autocommit: false,
        sessionTimeout: options.sessionTimeout ?? 10_000, heartbeatInterval: 1000, rebalanceTimeout: 20_000,
        maxBytesPerPartition: 4 << 20, maxWaitTime: 500, isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        // The library calls partitionAssigner when this member leads the group (and skips it when the group has one member).
        ...(options.coPartitioned ? { protocols: [{ name: 'PipecCoPartitioned', version: 1 }], partitionAssigner: coPartitionedAssigner } : {}),
      });
      groupConsumers.set(group, consumer);
      const streams = new Map<string, MessagesStream<Buffer, Buffer, Buffer, Buffer>>();
      const paused = new Set<string>();
      const pending = new Map<string, IncomingRecord[]>();
      let pendingCount = 0;
      let throttled = false;
      let closing = false;
      let stopped = false;
      let wake: (() => void) | null = null;
      let pump: Promise<void> | null = null;
      let assignment = new Set<string>();
      // Heartbeats run on the library's own timer, whatever the handler does: a batch's heartbeat has nothing to add.
      const heartbeat = async () => undefined;

      const handle: GroupConsumer = {
        async run(topics, onBatch, listener) {
          consumer.on('consumer:heartbeat:end', () => listener.alive?.());
          consumer.on('consumer:group:join', ({ assignments }) => {
            listener.alive?.();
            const next = new Set<string>();
            for (const { topic, partitions } of assignments ?? []) for (const p of partitions) next.add(`${topic}\u0000${p}`);
            // The library rejoins eagerly and has no revocation step of its own: the change shows once the new assignment is in;
            // a partition kept is neither revoked nor assigned.
            const parse = (id: string) => { const at = id.lastIndexOf('\u0000'); return { topic: id.slice(0, at), partition: Number(id.slice(at + 1)) }; };
            const revoked = [...assignment].filter((id) => !next.has(id)).map(parse);
            const assigned = [...next].filter((id) => !assignment.has(id)).map(parse);
            assignment = next;
            // Records of a partition that went elsewhere, fetched and not yet handled, are no longer this member's.
            for (const { topic, partition } of revoked) { const id = `${topic}\u0000${partition}`; pendingCount -= pending.get(id)?.length ?? 0; pending.delete(id); }
            if (revoked.length) listener.revoked(revoked);
            if (assigned.length) listener.assigned(assigned);
          });
          consumer.on('error', (error: Error) => warn(`consumer: ${error.message}`));
          for (const { topic, fromBeginning } of topics) {
            const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: fromBeginning ? 'earliest' : 'latest' });
            streams.set(topic, stream);
            stream.on('error', (error: Error) => { if (!closing) warn(`stream of ${topic}: ${error.message}`); });
            stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
              const id = `${m.topic}\u0000${m.partition}`;
              const headers: Record<string, string> = {};
              for (const [k, v] of m.headers) headers[k.toString()] = v.toString();
              const record: IncomingRecord = { topic: m.topic, partition: m.partition, offset: String(m.offset), key: m.key ? m.key.toString() : null, value: m.value ?? null, timestamp: Number(m.timestamp), headers };
              const list = pending.get(id);
              if (list) list.push(record); else pending.set(id, [record]);
              if (++pendingCount >= MAX_PENDING && !throttled) { throttled = true; for (const s of streams.values()) s.pause(); }
              wake?.();
            });
          }
          pump = (async () => {
            while (!closing && !stopped) {
              const ready = [...pending].filter(([id]) => !paused.has(id.slice(0, id.lastIndexOf('\u0000'))));
              if (!ready.length) { await new Promise<void>((resolve) => { wake = resolve; }); wake = null; continue; }
              for (const [id, records] of ready) { pending.delete(id); pendingCount -= records.length; }
              if (throttled && pendingCount < MAX_PENDING / 2) {
                throttled = false;
                for (const [topic, s] of streams) if (!paused.has(topic)) s.resume();
              }
              for (const [, records] of ready) {
                if (closing || stopped) return;
                const batch: IncomingBatch = { topic: records[0].topic, partition: records[0].partition, records, highWatermark: String(BigInt(records.at(-1)!.offset) + 1n), heartbeat };
                await onBatch(batch);
              }
            }
          })();
          pump.catch((error: Error) => warn(`batch handler failed: ${error.message}`));
        },
        forget(partition) {
          for (const id of [...assignment]) if (Number(id.slice(id.lastIndexOf('\u0000') + 1)) === partition) assignment.delete(id);
        },
        async commit(offsets) {
          await consumer.commit({ offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) });
        },
        async stop() {
          stopped = true;
          for (const s of streams.values()) s.pause();
          wake?.();
          await pump?.catch(() => undefined);
        },
        pause(topics) {
          for (const t of topics) { paused.add(t); streams.get(t)?.pause(); }
        },
        resume(topics) {
          for (const t of topics) { paused.delete(t); if (!throttled && !stopped) streams.get(t)?.resume(); }
          wake?.();
        },
        async close() {
          if (closing) return;
          closing = true;
          wake?.();
          await pump?.catch(() => undefined);
          for (const s of streams.values()) await s.close().catch(() => undefined);
          await consumer.close();
          if (groupConsumers.get(group) === consumer) groupConsumers.delete(group);
        },
      };
      closers.push(() => handle.close());
      return handle;
    },

    async ensureTopics(topics, options = {}) {
      const a = connectedAdmin();
      const existing = new Set(await a.listTopics());
      for (const t of topics.filter((x) => !existing.has(x.topic))) {
        try {
          await a.createTopics({ topics: [t.topic], partitions: t.partitions, configs: t.compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [] });
        } catch (error) {
          if (!/already exists/i.test(JSON.stringify(error, Object.getOwnPropertyNames(error)))) throw error;
        }
      }
      // Wait for leaders, as kafkajs's createTopics({ waitForLeaders: true }) does.
      for (let attempt = 0; ; attempt++) {
        const metadata = await a.metadata({ topics: topics.map((t) => t.topic), forceUpdate: true }).catch(() => null);
        if (metadata && topics.every((t) => metadata.topics.get(t.topic)?.partitions.every((p) => p.leader >= 0))) break;
        if (attempt > 50) throw new Error(`no leaders for ${topics.map((t) => t.topic).join(', ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      if (!options.grow) return;
      for (const t of topics.filter((x) => existing.has(x.topic))) {
        if ((await this.partitions(t.topic)) < t.partitions) await a.createPartitions({ topics: [{ name: t.topic, count: t.partitions, assignments: [] }] });
      }
    },
    async partitions(topic) {
      try {
        return (await connectedAdmin().metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)?.partitionsCount ?? 0;
      } catch {
        return 0;
      }
    },
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      await admin?.close().catch(() => undefined);
    },
  };
}
