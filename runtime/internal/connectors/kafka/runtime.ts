/**
 * `kafka.source` / `kafka.sink`. In stage workers the worker's consumer reads
 * Kafka sources and sink records join their task's checkpoint
 * (OutboxKafkaSink, exactly-once; see distributed/worker.ts). Elsewhere
 * (`local.mjs`, a stage that mixes Kafka with other sources) the source
 * consumes a topic in the consumer group of its stage and commits offsets only
 * after the records it emitted have reached the sinks (at-least-once); records
 * it cannot decode go to the dead-letter topic `<pipeline>-dlq` with the reason
 * in the `pipec-error` header, are counted, and the job goes on; the sink
 * batches records per process through one idempotent producer.
 */
import type { KafkaFormat } from './api.ts';
import { brokersFromEnvironment, heartbeatWhile, kafkajsClient, type GroupConsumer, type IncomingRecord, type KafkaClient, type OutgoingRecord, type RecordProducer } from '../../kafka/client.ts';
import { decodeValue, encodeValue } from '../../kafka/formats.ts';
import type { Logger } from '../../log.ts';
import { processResources, type DeadLetter, type SinkConnector, type SinkContext, type SourceConnector, type SourceContext, type SourceEmit } from '../types.ts';

let shared: { client: KafkaClient; producer: Promise<RecordProducer> } | null = null;

/** One client and producer per process. */
export function processKafka(log: Logger): { client: KafkaClient; producer: Promise<RecordProducer> } {
  if (!shared) {
    const client = kafkajsClient(brokersFromEnvironment(), `pipec-${process.pid}`, log);
    shared = { client, producer: client.producer() };
    processResources.add(closeProcessKafka);
  }
  return shared;
}

/** Closes the process's Kafka client (end of job). */
export async function closeProcessKafka(): Promise<void> {
  const current = shared;
  shared = null;
  await current?.client.close();
}

/** Sends a bad record (its original bytes) to the pipeline's dead-letter topic, with the reason and, for an error in the user's code, its location as headers. */
export async function sendToDeadLetterTopic(log: Logger, pipeline: string, record: { topic: string; partition: number; offset: string; value: Buffer | null }, reason: string, location?: string): Promise<void> {
  const { client, producer } = processKafka(log);
  const topic = `${process.env.PIPEC_TOPIC_PREFIX ?? ''}${pipeline}-dlq`;
  await client.ensureTopics([{ topic, partitions: 1 }]);
  const headers: Record<string, string> = { 'pipec-error': reason, 'pipec-source': `${record.topic}/${record.partition}@${record.offset}` };
  if (location) headers['pipec-location'] = location;
  await (await producer).send([{ topic, value: record.value ?? '', headers }]);
}

/**
 * `kafka.source` in a single process: consumes every partition of the topic.
 * A record that cannot be decoded, or that a function of the job throws on,
 * also goes to the `<pipeline>-dlq` topic with its original bytes, before the
 * batch's offsets are committed.
 */
export class KafkaSource implements SourceConnector {
  /** The record being emitted, and the dead-letter sends of the current batch. */
  private current: IncomingRecord | null = null;
  private deadLetterSends: Array<Promise<void>> = [];
  /** Per `topic/partition`: the next offset to read (everything before it was emitted); restored from a checkpoint. */
  private readonly positions = new Map<string, bigint>();
  private consumer: GroupConsumer | null = null;
  constructor(private readonly ctx: SourceContext) {}

  deadLettered(record: DeadLetter): void {
    if (!this.current) return;
    const send = sendToDeadLetterTopic(this.ctx.log, this.ctx.pipeline, this.current, record.reason, record.location);
    send.catch(() => undefined); // awaited before the batch commits
    this.deadLetterSends.push(send);
  }

  snapshotPosition(): Record<string, string> {
    return Object.fromEntries([...this.positions].map(([id, next]) => [id, String(next)]));
  }

  restorePosition(position: unknown): void {
    for (const [id, next] of Object.entries(position as Record<string, string>)) this.positions.set(id, BigInt(next));
  }

  checkpointComplete(position: unknown): void {
    const offsets = Object.entries(position as Record<string, string>).map(([id, offset]) => {
      const at = id.lastIndexOf('/');
      return { topic: id.slice(0, at), partition: Number(id.slice(at + 1)), offset };
    });
    if (offsets.length) this.consumer?.commit(offsets).catch((error: unknown) => this.ctx.log.warn({ err: error }, 'could not commit the offsets of a checkpoint; the next one will'));
  }

  async run(emit: SourceEmit): Promise<void> {
    const { topic, format, startFrom = 'latest', group } = this.ctx.options as { topic: string; format: KafkaFormat<unknown>; startFrom?: string; group?: string };
    const { client } = processKafka(this.ctx.log);
    const consumer = client.consumer(group ?? `${process.env.PIPEC_TOPIC_PREFIX ?? ''}${this.ctx.pipeline}-source-${this.ctx.nodeId}`);
    this.consumer = consumer;
    const stopped = new Promise<void>((resolve) => this.ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    await client.ensureTopics([{ topic, partitions: 1 }]);
    await consumer.run([{ topic, fromBeginning: startFrom === 'earliest' }], async (batch) => {
      const id = `${batch.topic}/${batch.partition}`;
      for (const record of batch.records) {
        // Already in the checkpointed state: the group's committed offset lags the checkpoint.
        const next = this.positions.get(id);
        if (next !== undefined && BigInt(record.offset) < next) continue;
        this.positions.set(id, BigInt(record.offset) + 1n);
        let value: unknown;
        try {
          value = decodeValue(format, record.value);
        } catch (error) {
          this.ctx.deadLetter({ origin: `${record.topic}/${record.partition}`, position: Number(record.offset), reason: (error as Error).message, raw: record.value?.toString('utf8') ?? '' });
          await sendToDeadLetterTopic(this.ctx.log, this.ctx.pipeline, record, (error as Error).message);
          continue;
        }
        this.current = record;
        const backpressure = emit(value, record.timestamp);
        this.current = null;
        if (backpressure) await heartbeatWhile(backpressure, batch.heartbeat);
      }
      const sends = this.deadLetterSends;
      this.deadLetterSends = [];
      await Promise.all(sends);
      // With checkpoints, offsets are committed when the checkpoint that holds them is durable (checkpointComplete).
      if (this.ctx.checkpointing) return;
      await this.ctx.flush();
      const last = batch.records[batch.records.length - 1];
      if (last) await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }]);
    }, { assigned: (p) => this.ctx.log.info({ partitions: p }, 'partitions assigned'), revoked: (p) => this.ctx.log.info({ partitions: p }, 'partitions revoked') });
    await stopped;
    await consumer.close();
  }
}

/**
 * `kafka.sink` inside a stage worker task: each record joins the task's
 * output, which the task's next checkpoint sends — in one Kafka transaction
 * with its state and consumed offsets under exactly-once.
 */
export class OutboxKafkaSink implements SinkConnector {
  private readonly topic: string;
  private readonly format: KafkaFormat<unknown>;
  private readonly key?: (value: unknown) => string;

  constructor(ctx: SinkContext, private readonly push: (record: OutgoingRecord) => void) {
    const options = ctx.options as { topic: string; format: KafkaFormat<unknown>; key?: (value: unknown) => string };
    this.topic = options.topic;
    this.format = options.format;
    this.key = options.key;
  }

  write(value: unknown): void {
    this.push({ topic: this.topic, key: this.key ? this.key(value) : null, value: encodeValue(this.format, value) });
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** `kafka.sink`: buffers records and sends them in batches through the process's producer. */
export class KafkaSink implements SinkConnector {
  private buffer: OutgoingRecord[] = [];
  private inflight: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private readonly topic: string;
  private readonly format: KafkaFormat<unknown>;
  private readonly key?: (value: unknown) => string;
  private ready: Promise<void> | null = null;

  constructor(private readonly ctx: SinkContext) {
    const options = ctx.options as { topic: string; format: KafkaFormat<unknown>; key?: (value: unknown) => string };
    this.topic = options.topic;
    this.format = options.format;
    this.key = options.key;
  }

  write(value: unknown): void {
    if (this.failure) throw this.failure;
    this.buffer.push({ topic: this.topic, key: this.key ? this.key(value) : null, value: encodeValue(this.format, value) });
    if (this.buffer.length >= 2000) this.send();
  }

  private send(): void {
    const records = this.buffer;
    this.buffer = [];
    const { client, producer } = processKafka(this.ctx.log);
    this.ready ??= client.ensureTopics([{ topic: this.topic, partitions: 1 }]);
    const ready = this.ready;
    this.inflight = this.inflight.then(async () => { await ready; await (await producer).send(records); }).catch((error) => { this.failure = error; });
  }

  async flush(): Promise<void> {
    if (this.buffer.length) this.send();
    await this.inflight;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> { await this.flush(); }
}
