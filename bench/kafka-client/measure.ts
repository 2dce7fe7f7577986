/**
 * `npm run bench -- kafka-client`: kafkajs against @platformatic/kafka, each
 * behind the runtime's KafkaClient interface (runtime/internal/kafka/client.ts):
 * kafkajs through the runtime's own kafkajsClient (the client workers run,
 * with the patches their bundles carry: the benchmark runs as such a bundle),
 * @platformatic/kafka through platformatic.ts. Same workload, interleaved run
 * by run in one process so machine load falls on both alike. Per round and
 * client:
 *
 * - produce: the records (~100-byte JSON values, string keys) to a fresh
 *   4-partition input topic, 2,000 per send, each send awaited (idempotent
 *   producer, acks all): records/s from the first send to the last ack;
 * - at-least-once: a fresh group reads the input, parses each value, maps it
 *   and produces it (keyed) to an output topic; after each batch's records are
 *   acknowledged its offset is committed;
 * - exactly-once: the same through a transactional producer: the output of
 *   the batches of ~100 ms (Kafka Streams' commit interval under exactly-once;
 *   the runtime's checkpoint interval) and their offsets go in one transaction
 *   (TransactionalProducer.commit: begin, send, sendOffsets, commit).
 *
 * Consumers read read_committed in both modes, as the runtime's do.
 *
 * A run is timed from the first batch's arrival (group joins and the first
 * fetch do not count) to the acknowledgement of the last record's output
 * (at-least-once: its offset commit; exactly-once: its transaction's commit).
 * After each run the group's committed offsets are checked against the input's
 * end and the output's end offsets against the record count. Besides records/s
 * it reports this process's CPU time per record over the same span (the
 * client's cost, which other work on the machine disturbs less than wall-clock
 * rates; the broker's CPU is not in it).
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { deleteTopics, freshName, kafkaBrokers } from '../../test/kafka-helpers.ts';
import { kafkajsClient, type GroupOffsets, type KafkaClient, type OutgoingRecord } from '../../runtime/internal/kafka/client.ts';
import { createLogger } from '../../runtime/internal/log.ts';
import { median, root } from '../stats.ts';
import { platformaticClient } from './platformatic.ts';

type PartitionOffset = GroupOffsets['offsets'][number];

const PARTITIONS = 4;
const SEND_SIZE = 2000;
const TRANSACTION_MS = 100;
const RUN_TIMEOUT_MS = 180_000;

type ClientName = 'kafkajs' | 'platformatic';
type Mode = 'produce' | 'at-least-once' | 'exactly-once';

/** A ~100-byte JSON value. */
function record(i: number, topic: string): OutgoingRecord {
  const user = `user${i % 5000}`;
  return { topic, key: user, value: JSON.stringify({ id: i, ts: 1_700_000_000_000 + i, user, action: i % 10 === 0 ? 'click' : 'view', url: `/item/${i % 977}`, bytes: (i * 37) % 65536 }) };
}

/** The map of the pipeline: parse, reshape, serialize, keyed by user. */
function transform(value: Buffer, topic: string): OutgoingRecord {
  const v = JSON.parse(value.toString()) as { id: number; ts: number; user: string; action: string; url: string; bytes: number };
  return { topic, key: v.user, value: JSON.stringify({ id: v.id, user: v.user, action: v.action.toUpperCase(), url: v.url, kb: v.bytes / 1024, ts: v.ts }) };
}

/** A run's rate (records/s, wall clock) and this process's CPU time per record (µs, user + system) over the same span. */
interface Measure { rate: number; cpu: number }

const cpuMicros = () => { const u = process.cpuUsage(); return u.user + u.system; };

async function timeProduce(client: KafkaClient, topic: string, records: number): Promise<Measure> {
  const sends: OutgoingRecord[][] = [];
  for (let i = 0; i < records; i += SEND_SIZE) sends.push(Array.from({ length: Math.min(SEND_SIZE, records - i) }, (_, j) => record(i + j, topic)));
  const producer = await client.producer();
  try {
    const cpu = cpuMicros();
    const start = performance.now();
    for (const batch of sends) await producer.send(batch);
    return { rate: (records / (performance.now() - start)) * 1000, cpu: (cpuMicros() - cpu) / records };
  } finally {
    await producer.close();
  }
}

interface PipeResult extends Measure { batches: number; transactions: number }

async function timePipe(client: KafkaClient, mode: Exclude<Mode, 'produce'>, input: string, output: string, records: number): Promise<PipeResult> {
  const group = `${output}-group`;
  const consumer = client.consumer(group);
  const eos = mode === 'exactly-once' ? await client.transactionalProducer(`${output}-tx`) : null;
  const producer = eos ? null : await client.producer();
  let start = 0;
  let startCpu = 0;
  let seen = 0;
  let batches = 0;
  let transactions = 0;
  // Exactly-once: what the open transaction holds (the runtime's checkpoint: output and offsets since the last commit).
  let txRecords: OutgoingRecord[] = [];
  let txStart = 0;
  const txOffsets = new Map<string, PartitionOffset>();
  let finished!: (at: { time: number; cpu: number }) => void;
  let failed!: (error: Error) => void;
  const done = new Promise<{ time: number; cpu: number }>((resolve, reject) => { finished = resolve; failed = reject; });
  const timer = setTimeout(() => failed(new Error(`${mode} run did not finish in ${RUN_TIMEOUT_MS / 1000} s (${seen} of ${records} records)`)), RUN_TIMEOUT_MS);
  try {
    await consumer.run([{ topic: input, fromBeginning: true }], async (batch) => {
      try {
        if (!start) { start = performance.now(); startCpu = cpuMicros(); }
        batches++;
        const out = batch.records.map((r) => transform(r.value!, output));
        const next: PartitionOffset = { topic: batch.topic, partition: batch.partition, offset: String(BigInt(batch.records.at(-1)!.offset) + 1n) };
        seen += batch.records.length;
        if (producer) {
          await producer.send(out);
          await consumer.commit([next]);
        } else {
          if (!txRecords.length) txStart = performance.now();
          for (const r of out) txRecords.push(r);
          txOffsets.set(`${next.topic}:${next.partition}`, next);
          if (performance.now() - txStart >= TRANSACTION_MS || seen >= records) {
            await eos!.commit(txRecords, { group, offsets: [...txOffsets.values()] });
            txRecords = [];
            txOffsets.clear();
            transactions++;
          }
        }
        if (seen >= records) finished({ time: performance.now(), cpu: cpuMicros() });
      } catch (error) {
        failed(error as Error);
        throw error;
      }
    }, { assigned: () => undefined, revoked: () => undefined });
    const end = await done;
    return { rate: (records / (end.time - start)) * 1000, cpu: (end.cpu - startCpu) / records, batches, transactions };
  } finally {
    clearTimeout(timer);
    await consumer.close().catch(() => undefined);
    await (eos ?? producer)!.close().catch(() => undefined);
  }
}

/** Checks a run's effects with a separate kafkajs admin: the group committed the input's end, the output holds the records (plus transaction markers). */
async function check(admin: ReturnType<Kafka['admin']>, input: string, output: string, records: number, transactions: number): Promise<void> {
  const end = (offsets: Array<{ high: string }>) => offsets.reduce((sum, p) => sum + Number(p.high), 0);
  const inputEnd = await admin.fetchTopicOffsets(input);
  const [committed] = await admin.fetchOffsets({ groupId: `${output}-group`, topics: [input] });
  for (const p of inputEnd) {
    const c = committed.partitions.find((x) => x.partition === p.partition);
    if (c?.offset !== p.high) throw new Error(`${output}: the group committed ${c?.offset} on ${input}[${p.partition}], whose end is ${p.high}`);
  }
  const outputEnd = end(await admin.fetchTopicOffsets(output));
  // A committed transaction leaves one marker on each partition it wrote to.
  if (outputEnd < records || outputEnd > records + transactions * PARTITIONS) throw new Error(`${output}: ${outputEnd} offsets for ${records} records and ${transactions} transactions`);
}

function version(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The benchmark itself (in the bundle). */
export async function measure(o: { records: number; rounds: number }): Promise<void> {
  const brokers = kafkaBrokers().split(',');
  const prefix = freshName('bench-kc-');
  // The runtime's client logs through pino to stderr: warnings and errors only, unless PIPEC_LOG_LEVEL says otherwise.
  const log = createLogger('bench-kafka-client', 'kafkajs');
  log.level = process.env.PIPEC_LOG_LEVEL ?? 'warn';
  const clients: Record<ClientName, KafkaClient> = {
    kafkajs: kafkajsClient(brokers, 'bench-kafkajs', log),
    platformatic: platformaticClient(brokers, 'bench-platformatic'),
  };
  const checker = new Kafka({ clientId: 'bench-check', brokers, logLevel: logLevel.NOTHING }).admin();
  await checker.connect();
  const modes: Mode[] = ['produce', 'at-least-once', 'exactly-once'];
  const empty = (): Record<Mode, number[]> => ({ produce: [], 'at-least-once': [], 'exactly-once': [] });
  const rates: Record<ClientName, Record<Mode, number[]>> = { kafkajs: empty(), platformatic: empty() };
  const cpus: Record<ClientName, Record<Mode, number[]>> = { kafkajs: empty(), platformatic: empty() };
  const loadBefore = os.loadavg();
  const startedAt = performance.now();
  process.stderr.write(`kafka-client: ${o.records.toLocaleString('en')} records x ${o.rounds} rounds, topics ${prefix}*, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n`);
  try {
    for (let round = 0; round < o.rounds; round++) {
      // Alternate which client goes first, so neither always runs on a warmer broker.
      const order: ClientName[] = round % 2 ? ['platformatic', 'kafkajs'] : ['kafkajs', 'platformatic'];
      const topic = (name: ClientName, what: string) => `${prefix}-${name}-${round}-${what}`;
      for (const name of order) {
        const names = ['in', 'alo', 'eos'].map((w) => topic(name, w));
        await clients[name].ensureTopics(names.map((t) => ({ topic: t, partitions: PARTITIONS })));
      }
      for (const mode of modes) {
        for (const name of order) {
          let line = '';
          let result: Measure;
          if (mode === 'produce') {
            result = await timeProduce(clients[name], topic(name, 'in'), o.records);
          } else {
            const output = topic(name, mode === 'exactly-once' ? 'eos' : 'alo');
            const pipe = await timePipe(clients[name], mode, topic(name, 'in'), output, o.records);
            await check(checker, topic(name, 'in'), output, o.records, pipe.transactions);
            result = pipe;
            line = `, ${pipe.batches} batches${mode === 'exactly-once' ? `, ${pipe.transactions} transactions` : ''}`;
          }
          rates[name][mode].push(result.rate);
          cpus[name][mode].push(result.cpu);
          process.stderr.write(`round ${round + 1}/${o.rounds} ${mode.padEnd(13)} ${name.padEnd(12)} ${Math.round(result.rate).toLocaleString('en').padStart(9)} records/s, ${result.cpu.toFixed(1)} µs CPU/record${line} (load ${os.loadavg()[0].toFixed(2)})\n`);
        }
      }
    }
  } finally {
    await Promise.all(Object.values(clients).map((c) => c.close()));
    await checker.disconnect();
    // The run's topics all start with the prefix (KafkaClient has no topic deletion).
    await deleteTopics(prefix).catch((error: Error) => process.stderr.write(`could not delete the topics ${prefix}*: ${error.message}\n`));
  }
  const loadAfter = os.loadavg();
  const fmt = (n: number, digits = 0) => n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }).padStart(12);
  console.log(`kafka-client: ${o.records.toLocaleString('en')} records (~100-byte JSON values, string keys), ${PARTITIONS} partitions, 1 broker on this machine; medians of ${o.rounds} interleaved rounds`);
  console.log(`node ${process.version}, kafkajs ${version('kafkajs')} (with pipec's bundle patches), @platformatic/kafka ${version('@platformatic/kafka')}, ${os.cpus().length} cores, ${Math.round((performance.now() - startedAt) / 1000)} s`);
  const labels: Record<Mode, string> = {
    produce: 'produce only (idempotent, 2,000/send)',
    'at-least-once': 'consume-map-produce, at-least-once',
    'exactly-once': `consume-map-produce, exactly-once (${TRANSACTION_MS} ms tx)`,
  };
  for (const [title, table, digits] of [['records/s (wall clock)', rates, 0], ['client CPU, µs per record (user + system)', cpus, 1]] as const) {
    console.log(`${title.padEnd(50)}${'kafkajs'.padStart(12)}${'platformatic'.padStart(14)}   platformatic / kafkajs`);
    for (const mode of modes) {
      const k = median(table.kafkajs[mode]);
      const p = median(table.platformatic[mode]);
      console.log(`  ${labels[mode].padEnd(48)}${fmt(k, digits)}${fmt(p, digits)}  ${(p / k).toFixed(2).padStart(8)}`);
    }
  }
  console.log(`load average (1, 5, 15 min): before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
}
