/**
 * The peers benchmark's hand-written baseline for the stateless workload: one
 * process, a plain consume → parse → filter → project → serialize → produce →
 * commit loop, as someone would write it by hand over a Node Kafka client
 * (bench/peers/index.ts bundles it into bench/.out/peers-hand.mjs and spawns it).
 *
 * Environment: HAND_CLIENT (`kafkajs`: kafkajs's own API; `platformatic`:
 * @platformatic/kafka through the kafka-client benchmark's adapter,
 * bench/kafka-client/platformatic.ts, whose header says how it maps the
 * library), HAND_GUARANTEE, HAND_INTERVAL_MS, BENCH_IN, BENCH_OUT, BENCH_GROUP,
 * PIPEC_KAFKA_BROKERS.
 *
 * - at-least-once: each fetched batch's output is sent (idempotent producer,
 *   acks all) and then the batch's offset committed;
 * - exactly-once: output and offsets go into one transaction every
 *   HAND_INTERVAL_MS (pipec's checkpoint interval, Kafka Streams'
 *   commit.interval.ms in the same run), and when the input pauses.
 * Consumers read committed records. It runs until SIGTERM (the benchmark reads
 * the output topic to see when it is done).
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { chunksBySize, type OutgoingRecord } from '../../runtime/internal/kafka/client.ts';
import { platformaticClient } from '../kafka-client/platformatic.ts';
import type { Event, Projected } from './records.ts';

const env = (name: string) => { const v = process.env[name]; if (!v) throw new Error(`${name} is not set`); return v; };
const brokers = env('PIPEC_KAFKA_BROKERS').split(',');
const input = env('BENCH_IN');
const output = env('BENCH_OUT');
const group = env('BENCH_GROUP');
const exactlyOnce = env('HAND_GUARANTEE') === 'exactly-once';
const intervalMs = Number(env('HAND_INTERVAL_MS'));
const log = (msg: string, fields: object = {}) => process.stderr.write(`${JSON.stringify({ time: Date.now(), msg, ...fields })}\n`);

/** The workload: the pipeline's filter and map (bench/peers/stateless.ts), on one record's value. */
function transform(value: Buffer, out: OutgoingRecord[]): void {
  const e = JSON.parse(value.toString()) as Event;
  if (e.action === 'noise') return;
  const p: Projected = { id: e.id, user: e.user, action: e.action, url: e.url, kb: Math.floor(e.bytes / 1024) };
  out.push({ topic: output, key: p.user, value: JSON.stringify(p) });
}

type Offsets = Map<number, string>;
const offsetList = (offsets: Offsets) => [...offsets].map(([partition, offset]) => ({ topic: input, partition, offset }));

/**
 * Exactly-once bookkeeping shared by both clients: output and offsets since the last transaction, committed by
 * `commit` every interval (from the batch handler) and when the input pauses (a timer), one commit at a time.
 */
class Transactions {
  private records: OutgoingRecord[] = [];
  private readonly offsets: Offsets = new Map();
  private openedAt = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly commit: (records: OutgoingRecord[], offsets: Offsets) => Promise<void>) {
    this.timer = setInterval(() => { if (this.records.length && Date.now() - this.openedAt >= intervalMs) void this.flush(); }, intervalMs / 4);
  }

  /** Adds a batch's output and next offset; commits when the interval has passed. */
  async add(out: OutgoingRecord[], partition: number, next: string): Promise<void> {
    if (!this.records.length) this.openedAt = Date.now();
    for (const r of out) this.records.push(r);
    this.offsets.set(partition, next);
    if (Date.now() - this.openedAt >= intervalMs) await this.flush();
  }

  flush(): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (!this.records.length && !this.offsets.size) return;
      const records = this.records;
      const offsets = new Map(this.offsets);
      this.records = [];
      this.offsets.clear();
      await this.commit(records, offsets);
    });
    return this.chain;
  }

  async close(): Promise<void> { clearInterval(this.timer); await this.flush(); }
}

async function runKafkajs(): Promise<() => Promise<void>> {
  const kafka = new Kafka({ clientId: 'peers-hand', brokers, logLevel: logLevel.ERROR });
  // The fetch size and wait pipec's consumers use (runtime/internal/kafka/client.ts).
  const consumer = kafka.consumer({ groupId: group, maxBytesPerPartition: 4 << 20, maxWaitTimeInMs: 500 });
  const producer: Producer = exactlyOnce
    ? kafka.producer({ transactionalId: `${group}-tx`, idempotent: true, maxInFlightRequests: 1 })
    : kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  await consumer.connect();
  consumer.on(consumer.events.GROUP_JOIN, () => log('assigned'));
  const send = async (records: OutgoingRecord[], via: { send: Producer['send'] }) => {
    // Under the broker's 1 MB request limit, as pipec's client does.
    for (const chunk of chunksBySize(records, 512 * 1024)) await via.send({ topic: output, acks: -1, messages: chunk.map((r) => ({ key: r.key, value: r.value })) });
  };
  const transactions = exactlyOnce ? new Transactions(async (records, offsets) => {
    const tx = await producer.transaction();
    try {
      await send(records, tx);
      await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic: input, partitions: offsetList(offsets).map(({ partition, offset }) => ({ partition, offset })) }] });
      await tx.commit();
    } catch (error) {
      await tx.abort().catch(() => undefined);
      throw error;
    }
  }) : null;
  await consumer.subscribe({ topic: input, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const out: OutgoingRecord[] = [];
      for (const m of batch.messages) transform(m.value!, out);
      const next = String(BigInt(batch.lastOffset()) + 1n);
      if (transactions) { await transactions.add(out, batch.partition, next); return; }
      await send(out, producer);
      await consumer.commitOffsets([{ topic: input, partition: batch.partition, offset: next }]);
    },
  });
  return async () => { await transactions?.close(); await consumer.disconnect(); await producer.disconnect(); };
}

async function runPlatformatic(): Promise<() => Promise<void>> {
  const client = platformaticClient(brokers, 'peers-hand');
  const consumer = client.consumer(group);
  const producer = exactlyOnce ? null : await client.producer();
  const tx = exactlyOnce ? await client.transactionalProducer(`${group}-tx`) : null;
  const transactions = tx ? new Transactions(async (records, offsets) => { await tx.commit(records, { group, offsets: offsetList(offsets) }); }) : null;
  await consumer.run([{ topic: input, fromBeginning: true }], async (batch) => {
    const out: OutgoingRecord[] = [];
    for (const r of batch.records) transform(r.value!, out);
    const next = String(BigInt(batch.records.at(-1)!.offset) + 1n);
    if (transactions) { await transactions.add(out, batch.partition, next); return; }
    await producer!.send(out);
    await consumer.commit([{ topic: input, partition: batch.partition, offset: next }]);
  }, { assigned: () => log('assigned'), revoked: () => undefined });
  return async () => { await consumer.stop(); await transactions?.close(); await client.close(); };
}

const stop = await (process.env.HAND_CLIENT === 'platformatic' ? runPlatformatic() : runKafkajs());
process.once('SIGTERM', () => {
  stop().then(() => process.exit(0), (error: Error) => { log('stop failed', { error: error.message }); process.exit(1); });
});
