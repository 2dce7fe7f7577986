/**
 * `node --import tsx bench/kafka-client/features.ts`: tries what pipec needs
 * of @platformatic/kafka against the broker (PIPEC_KAFKA_BROKERS), with the
 * library's own API where the question is about the library, and prints what
 * happened: transactions with offsets, fencing (and what the fenced producer
 * gets), read_committed (including aborted transactions a fetch cuts in two,
 * and two aborted transactions of one producer in one fetch), co-partitioned
 * assignment through a custom assigner, rebalance events, pause/resume,
 * manual commits, the KIP-848 group protocol, key partitioning against
 * kafkajs's. Topics are fresh and deleted at the end.
 */
import { Admin, compatibilityPartitioner, Consumer, defaultPartitioner, FetchIsolationLevels, Producer, stringDeserializers, stringSerializers, type Message } from '@platformatic/kafka';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { freshName, kafkaBrokers } from '../../test/kafka-helpers.ts';
import { platformaticClient } from './platformatic.ts';

const brokers = kafkaBrokers().split(',');
const prefix = freshName('features-');
const admin = new Admin({ clientId: 'features', bootstrapBrokers: brokers });
const kafkajs = new Kafka({ clientId: 'features', brokers, logLevel: logLevel.NOTHING });
const topics: string[] = [];
const say = (label: string, ...rest: unknown[]) => console.log(`\n== ${label}`, ...rest);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function topic(name: string, partitions = 1): Promise<string> {
  const t = `${prefix}-${name}`;
  await admin.createTopics({ topics: [t], partitions });
  topics.push(t);
  for (let i = 0; i < 50; i++) {
    const m = await admin.metadata({ topics: [t], forceUpdate: true }).catch(() => null);
    if (m?.topics.get(t)?.partitions.every((p) => p.leader >= 0)) break;
    await sleep(100);
  }
  return t;
}

/** The error's chain as the library builds it: class, code, the broker's error names, message. */
function describe(error: unknown): string {
  const e = error as Error & { code?: string; apiId?: string; errors?: unknown[]; cause?: unknown };
  const inner = (e.errors ?? []).map((x) => describe(x)).join('; ');
  return `${e.constructor.name}(${e.code ?? ''}${e.apiId ? ` ${e.apiId}` : ''}): ${e.message}${inner ? ` [${inner}]` : ''}${e.cause ? ` cause: ${describe(e.cause)}` : ''}`;
}

/** Reads a topic from the start with a fresh group until quiet; returns the values. */
async function readAll(t: string, isolationLevel: number, maxBytesPerPartition?: number): Promise<string[]> {
  const consumer = new Consumer({ clientId: 'features', bootstrapBrokers: brokers, groupId: freshName('reader-'), deserializers: stringDeserializers, isolationLevel, maxWaitTime: 200, ...(maxBytesPerPartition ? { maxBytesPerPartition, maxBytes: maxBytesPerPartition } : {}) });
  const stream = await consumer.consume({ topics: [t], mode: 'earliest', autocommit: false });
  const values: string[] = [];
  let last = Date.now();
  stream.on('data', (m: Message<string, string, string, string>) => { values.push(m.value); last = Date.now(); });
  while (Date.now() - last < 1500) await sleep(100);
  await stream.close();
  await consumer.close();
  return values;
}

async function readAllKafkajs(t: string): Promise<string[]> {
  const consumer = kafkajs.consumer({ groupId: freshName('reader-'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: t, fromBeginning: true });
  const values: string[] = [];
  let last = Date.now();
  await consumer.run({ eachMessage: async ({ message }) => { values.push(message.value!.toString()); last = Date.now(); } });
  while (Date.now() - last < 1500) await sleep(100);
  await consumer.disconnect();
  return values;
}

const summary = (values: string[]) => {
  const counts = new Map<string, number>();
  for (const v of values) { const tag = v.split(':')[0]; counts.set(tag, (counts.get(tag) ?? 0) + 1); }
  return JSON.stringify(Object.fromEntries(counts));
};

async function transactionsAndFencing(): Promise<void> {
  const input = await topic('tx-in');
  const output = await topic('tx-out');
  const group = `${prefix}-tx-group`;
  const plain = new Producer({ clientId: 'features', bootstrapBrokers: brokers, serializers: stringSerializers });
  await plain.send({ messages: Array.from({ length: 10 }, (_, i) => ({ topic: input, value: `in:${i}` })) });
  await plain.close();

  const consumer = new Consumer({ clientId: 'features', bootstrapBrokers: brokers, groupId: group, deserializers: stringDeserializers, autocommit: false, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
  const stream = await consumer.consume({ topics: [input], mode: 'earliest' });
  const consumed: Array<Message<string, string, string, string>> = [];
  stream.on('data', (m: Message<string, string, string, string>) => consumed.push(m));
  while (consumed.length < 10) await sleep(50);

  const transactionalId = `${prefix}-txid`;
  const first = new Producer({ clientId: 'features-a', bootstrapBrokers: brokers, idempotent: true, transactionalId, serializers: stringSerializers });
  const tx = await first.beginTransaction();
  await tx.send({ messages: consumed.slice(0, 5).map((m) => ({ topic: output, value: `out:${m.value}` })) });
  await tx.addConsumer(consumer);
  await tx.addOffset(consumed[4]);
  await tx.commit();
  let committed = -1n;
  for (let i = 0; i < 20 && committed < 0n; i++, await sleep(100)) committed = (await consumer.listCommittedOffsets({ topics: [{ topic: input, partitions: [0] }] })).get(input)?.[0] ?? -1n;
  say('transaction with offsets: beginTransaction → send → addConsumer(consumer) → addOffset(message) → commit', `the group's committed offset after it: ${committed} (addOffset of the message at offset 4)`);

  // Fencing: the first producer opens a transaction; a new producer with the same transactional id starts.
  const zombie = await first.beginTransaction();
  await zombie.send({ messages: [{ topic: output, value: 'zombie:1' }] });
  const second = new Producer({ clientId: 'features-b', bootstrapBrokers: brokers, idempotent: true, transactionalId, serializers: stringSerializers });
  try {
    await second.beginTransaction();
    say('takeover: a new producer with the same transactional id, beginTransaction(): succeeded');
  } catch (error) {
    say('takeover: a new producer with the same transactional id, beginTransaction()', describe(error));
  }
  const third = new Producer({ clientId: 'features-c', bootstrapBrokers: brokers, idempotent: true, transactionalId, serializers: stringSerializers });
  const takeover = await third.beginTransaction({ producerId: -1n, producerEpoch: -1 });
  say('takeover: another new producer, beginTransaction({ producerId: -1n, producerEpoch: -1 }): succeeded', `epochs: first ${first.producerEpoch}, new ${third.producerEpoch}`);
  for (const [what, op] of [
    ['first.send (in its open transaction)', () => zombie.send({ messages: [{ topic: output, value: 'zombie:2' }] })],
    ['first.addOffset', async () => { await zombie.addConsumer(consumer); await zombie.addOffset(consumed[9]); }],
    ['first.commit', () => zombie.commit()],
  ] as const) {
    try { await op(); console.log(`   ${what}: succeeded`); } catch (error) { console.log(`   ${what}: ${describe(error)}`); }
  }
  console.log(`   after the errors: first.producerId ${first.producerId}, first.transaction ${first.transaction ? 'still set' : 'cleared'}`);
  try {
    const again = await first.beginTransaction();
    console.log(`   first.beginTransaction() again: succeeded (epoch ${first.producerEpoch})`);
    await again.send({ messages: [{ topic: output, value: 'zombie:3' }] }).then(() => console.log('   ... and its send succeeded'), (error: unknown) => console.log(`   ... its send: ${describe(error)}`));
    await again.abort().catch(() => undefined);
  } catch (error) { console.log(`   first.beginTransaction() again: ${describe(error)}`); }
  try {
    await takeover.send({ messages: [{ topic: output, value: 'new:1' }] });
    await takeover.commit();
    console.log('   new producer: send + commit succeeded');
  } catch (error) { console.log(`   new producer after that: ${describe(error)}`); }
  console.log(`   output read_committed: ${summary(await readAll(output, FetchIsolationLevels.READ_COMMITTED))}`);

  // The same through the benchmark's adapter: the fenced producer gets FencedError.
  const client = platformaticClient(brokers, 'features-adapter');
  const adapterId = `${prefix}-adapter-txid`;
  const a = await client.transactionalProducer(adapterId);
  await a.commit([{ topic: output, value: 'adapter:a1' }], null);
  await client.transactionalProducer(adapterId);
  try { await a.commit([{ topic: output, value: 'adapter:a2' }], null); console.log('   adapter: fenced producer committed (unexpected)'); } catch (error) { console.log(`   adapter, fenced producer's next commit: ${(error as Error).name}: ${(error as Error).message}; cause ${describe((error as Error).cause)}`); }
  await client.close();
  await stream.close();
  await consumer.close();
  await Promise.all([first, second, third].map((p) => p.close().catch(() => undefined)));
}

async function readCommitted(): Promise<void> {
  // 1. Aborted and committed transactions, one producer: abort, abort, commit, and plain records after.
  const t = await topic('rc');
  const producer = new Producer({ clientId: 'features', bootstrapBrokers: brokers, idempotent: true, transactionalId: `${prefix}-rc`, serializers: stringSerializers });
  for (const [tag, commit] of [['aborted1', false], ['aborted2', false], ['committed', true]] as const) {
    const tx = await producer.beginTransaction();
    await tx.send({ messages: Array.from({ length: 5 }, (_, i) => ({ topic: t, value: `${tag}:${i}` })) });
    if (commit) await tx.commit(); else await tx.abort();
  }
  say('read_committed, one producer: 5 records aborted, 5 aborted, 5 committed');
  console.log(`   @platformatic/kafka READ_COMMITTED: ${summary(await readAll(t, FetchIsolationLevels.READ_COMMITTED))}`);
  console.log(`   @platformatic/kafka READ_UNCOMMITTED: ${summary(await readAll(t, FetchIsolationLevels.READ_UNCOMMITTED))}`);
  console.log(`   kafkajs (read_committed): ${summary(await readAllKafkajs(t))}`);

  // 2. An aborted transaction large enough that a fetch ends before its abort marker.
  const big = await topic('rc-big');
  const tx = await producer.beginTransaction();
  const pad = 'x'.repeat(1000);
  for (let i = 0; i < 4; i++) await tx.send({ messages: Array.from({ length: 20 }, (_, j) => ({ topic: big, value: `aborted:${i * 20 + j}:${pad}` })) });
  await tx.abort();
  const tx2 = await producer.beginTransaction();
  await tx2.send({ messages: Array.from({ length: 5 }, (_, i) => ({ topic: big, value: `committed:${i}` })) });
  await tx2.commit();
  say('read_committed, an aborted transaction of 4 batches of ~20 KB, then 5 committed records, fetched 30 KB at a time');
  console.log(`   @platformatic/kafka READ_COMMITTED: ${summary(await readAll(big, FetchIsolationLevels.READ_COMMITTED, 30_000))}`);
  console.log(`   kafkajs (read_committed): ${summary(await readAllKafkajs(big))}`);
  await producer.close();
}

async function groups(): Promise<void> {
  // Co-partitioning through the benchmark's adapter (custom partitionAssigner), and the rebalance events.
  const a = await topic('cp-a', 4);
  const b = await topic('cp-b', 4);
  const client = platformaticClient(brokers, 'features-groups');
  const group = `${prefix}-cp`;
  const seen: Record<string, string[]> = { one: [], two: [] };
  const members = ['one', 'two'].map((name) => {
    const consumer = client.consumer(group, { coPartitioned: true, sessionTimeout: 6000 });
    return { name, consumer, listener: { assigned: (ps: Array<{ topic: string; partition: number }>) => seen[name].push(`+${ps.map((p) => `${p.topic.slice(-1)}${p.partition}`).join(',')}`), revoked: (ps: Array<{ topic: string; partition: number }>) => seen[name].push(`-${ps.map((p) => `${p.topic.slice(-1)}${p.partition}`).join(',')}`) } };
  });
  const got: Record<string, Set<string>> = { one: new Set(), two: new Set() };
  for (const m of members) {
    await m.consumer.run([{ topic: a, fromBeginning: true }, { topic: b, fromBeginning: true }], async (batch) => { for (const r of batch.records) got[m.name].add(`${batch.topic.slice(-1)}:${r.value}`); }, m.listener);
    await sleep(1500);
  }
  await sleep(4000);
  say('co-partitioned group (custom partitionAssigner), two members joined one after the other; listener calls (a0 = topic a, partition 0):');
  for (const m of members) console.log(`   ${m.name}: ${seen[m.name].join('  ')}`);

  // pause/resume of one topic.
  const producer = await client.producer();
  members[0].consumer.pause([a]);
  members[1].consumer.pause([a]);
  await producer.send([0, 1, 2, 3].flatMap((p) => [{ topic: a, partition: p, value: `pa${p}` }, { topic: b, partition: p, value: `pb${p}` }]));
  await sleep(2000);
  const whilePaused = [...got.one, ...got.two].sort().join(' ');
  members[0].consumer.resume([a]);
  members[1].consumer.resume([a]);
  await sleep(2000);
  say('pause([a]) on both members, one record to each partition of a and b, 2 s, resume([a]), 2 s');
  console.log(`   delivered while paused: ${whilePaused}`);
  console.log(`   delivered in all:       ${[...got.one, ...got.two].sort().join(' ')}`);
  console.log(`   member one got: ${[...got.one].sort().join(' ')}; member two got: ${[...got.two].sort().join(' ')}`);
  await client.close();

  // Library events around a rebalance, and the KIP-848 protocol.
  const raw = new Consumer({ clientId: 'features', bootstrapBrokers: brokers, groupId: `${prefix}-events`, autocommit: false, sessionTimeout: 6000, heartbeatInterval: 500 });
  const events: string[] = [];
  for (const e of ['consumer:group:join', 'consumer:group:leave', 'consumer:group:rejoin', 'consumer:group:rebalance'] as const) raw.on(e, (payload?: { assignments?: Array<{ topic: string; partitions: number[] }> }) => events.push(`${e.slice(15)}${payload?.assignments ? ` ${JSON.stringify(payload.assignments.map((x) => [x.topic.slice(-4), x.partitions]))}` : ''}`));
  const s1 = await raw.consume({ topics: [a], mode: 'earliest' });
  s1.resume();
  const other = new Consumer({ clientId: 'features', bootstrapBrokers: brokers, groupId: `${prefix}-events`, autocommit: false, sessionTimeout: 6000, heartbeatInterval: 500 });
  const s2 = await other.consume({ topics: [a], mode: 'earliest' });
  s2.resume();
  await sleep(3000);
  say('events of a member when a second one joins (classic protocol, round robin)', events.join(' | '));
  await Promise.all([s1.close(), s2.close()]);
  await Promise.all([raw.close(), other.close()]);

  const kip848 = new Consumer({ clientId: 'features', bootstrapBrokers: brokers, groupId: `${prefix}-848`, groupProtocol: 'consumer', groupRemoteAssignor: 'range' });
  try {
    const s = await Promise.race([kip848.consume({ topics: [a], mode: 'earliest' }), sleep(8000).then(() => { throw new Error('no answer in 8 s'); })]);
    say('groupProtocol: consumer (KIP-848): joined', JSON.stringify(kip848.assignments));
    await s.close();
  } catch (error) {
    say('groupProtocol: consumer (KIP-848) on this broker', describe(error));
  }
  await kip848.close().catch(() => undefined);
}

function partitioners(): void {
  const kafkajsPartition = Partitioners.DefaultPartitioner();
  let differ = 0;
  let compatibleDiffer = 0;
  const n = 10_000;
  for (let i = 0; i < n; i++) {
    const key = `user${i}`;
    const expected = kafkajsPartition({ topic: 't', partitionMetadata: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] })), message: { key, value: null } });
    // The producer takes the partitioner's result modulo the partition count.
    if (defaultPartitioner(undefined as never, Buffer.from(key)) % 12 !== expected) differ++;
    if (compatibilityPartitioner(undefined as never, Buffer.from(key)) % 12 !== expected) compatibleDiffer++;
  }
  say(`key partitioning, ${n} keys over 12 partitions, against kafkajs's DefaultPartitioner (Java's murmur2)`, `defaultPartitioner differs on ${differ}, compatibilityPartitioner on ${compatibleDiffer}`);
}

try {
  partitioners();
  await transactionsAndFencing();
  await readCommitted();
  await groups();
} finally {
  if (topics.length) await admin.deleteTopics({ topics }).catch((error: unknown) => console.error(`could not delete ${topics.join(', ')}: ${describe(error)}`));
  await admin.close();
}
