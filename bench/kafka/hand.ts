/**
 * The baseline of the Kafka benchmark: the same job hand-written with kafkajs —
 * consume a batch, parse, filter, map, serialize, send, commit — with the same
 * fetch size and producer settings pipec uses.
 */
import { Kafka, logLevel } from 'kafkajs';

const kafka = new Kafka({ clientId: 'hand', brokers: process.env.PIPEC_KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
const consumer = kafka.consumer({ groupId: process.env.BENCH_GROUP!, maxBytesPerPartition: 4 << 20 });
await producer.connect();
await consumer.connect();
await consumer.subscribe({ topic: process.env.BENCH_IN!, fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatch: async ({ batch }) => {
    const messages: Array<{ value: string }> = [];
    for (const m of batch.messages) {
      const e = JSON.parse(m.value!.toString());
      if (e.action === 'noise') continue;
      messages.push({ value: JSON.stringify({ id: e.id, user: e.user, url: e.url, kb: e.bytes / 1024 }) });
    }
    // Under the broker's 1 MB batch limit, as pipec's client does.
    for (let i = 0; i < messages.length; i += 2000) await producer.sendBatch({ acks: -1, topicMessages: [{ topic: process.env.BENCH_OUT!, messages: messages.slice(i, i + 2000) }] });
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) }]);
  },
});
process.once('SIGTERM', async () => { await consumer.disconnect(); await producer.disconnect(); process.exit(0); });
