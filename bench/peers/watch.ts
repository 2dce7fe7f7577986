/**
 * How the peers benchmark sees a run from outside, the same way for every
 * system: when the system's consumer group first commits input offsets (the
 * clock starts: group joins, start-up and the first fetch count for no one),
 * and when the last expected record is on the output topic, read committed
 * (the clock stops). The output watcher reads the topic with fetch.ts (a
 * fraction of a full client's CPU) and digests every record as it arrives
 * (records.ts: OutputDigest); after the system has stopped, a marker record
 * sent to the output topic tells it that it has seen everything, so outputs
 * with extra records (duplicates) are caught too. On a mismatch, `differences`
 * reads the topic again and names records that are missing or unexpected.
 */
import type { Admin, Kafka, Producer } from 'kafkajs';
import { PartitionReader } from './fetch.ts';
import { canonical, expectedOutput, OutputDigest, type Workload } from './records.ts';
import { freshName } from '../../test/kafka-helpers.ts';

/** The key of the marker record that ends the output watch (no system writes it). */
const END_KEY = '~peers-watch-end';

const sleep = (ms: number) => new Promise<void>((resolve) => { setTimeout(resolve, ms); });

/** The input offsets `group` has committed on `topic`, summed over partitions (0 before its first commit). */
export async function committedOffsets(admin: Admin, group: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** Polls until `group` has committed offsets on `topic`: when (Date.now(), and process.hrtime in ns) and how many records they cover. */
export async function firstCommit(admin: Admin, group: string, topic: string, alive: () => void, timeoutMs: number): Promise<{ at: number; hr: bigint; offset: number }> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(20)) {
    const offset = await committedOffsets(admin, group, topic);
    if (offset > 0) return { at: Date.now(), hr: process.hrtime.bigint(), offset };
    alive();
  }
  throw new Error(`group ${group} committed no offsets on ${topic} within ${timeoutMs / 1000} s`);
}

/** Reads an output topic (one partition) from its start, read committed, digesting what it reads (fetch.ts). */
export class OutputWatcher {
  readonly digest = new OutputDigest();
  /** When (Date.now()) the digest reached the expected count. */
  reachedAt = 0;
  /** The same moment on the monotonic clock (process.hrtime, ns), which V8's CPU profiles use too. */
  reachedHr = 0n;
  private ended = false;
  private reader!: PartitionReader;

  private constructor(readonly topic: string, private readonly expected: number) {}

  /** Starts watching the topic's partition 0 at its leader. */
  static async start(admin: Admin, topic: string, expected: number): Promise<OutputWatcher> {
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    const leader = metadata.partitions.find((p) => p.partitionId === 0)?.leader;
    const broker = (await admin.describeCluster()).brokers.find((b) => b.nodeId === leader);
    if (!broker) throw new Error(`${topic}: no leader for partition 0`);
    const watcher = new OutputWatcher(topic, expected);
    const endKey = Buffer.from(END_KEY);
    watcher.reader = new PartitionReader({ host: broker.host, port: broker.port }, topic, 0, 0n, (key, value) => {
      if (key && key.equals(endKey)) { watcher.ended = true; return; }
      watcher.digest.add(key, value ?? EMPTY);
      if (watcher.digest.count === expected) { watcher.reachedAt = Date.now(); watcher.reachedHr = process.hrtime.bigint(); }
    });
    await watcher.reader.start();
    return watcher;
  }

  /** Waits until the expected number of records came; `alive` throws when the system has died. */
  async waitForExpected(alive: () => void, timeoutMs: number): Promise<void> {
    for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(10)) {
      if (this.reachedAt) return;
      alive();
      await Promise.race([this.reader.done, sleep(0)]);
    }
    throw new Error(`${this.topic}: ${this.digest.count} of ${this.expected} output records within ${timeoutMs / 1000} s`);
  }

  /** After the system has stopped: sends the end marker and waits for it, so every committed record has been read. */
  async drain(producer: Producer, timeoutMs = 60_000): Promise<void> {
    await producer.send({ topic: this.topic, acks: -1, messages: [{ key: END_KEY, value: '' }] });
    for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(20)) {
      if (this.ended) return;
      await Promise.race([this.reader.done, sleep(0)]);
    }
    throw new Error(`${this.topic}: the end marker did not come back within ${timeoutMs / 1000} s`);
  }

  async stop(): Promise<void> { await this.reader.close(); }
}

const EMPTY = Buffer.alloc(0);

/**
 * What differs between an output topic and a workload's expected output, compared as canonical JSON (sorted keys):
 * up to `limit` missing and unexpected records, or null when they are the same records formatted differently.
 */
export async function differences(kafka: Kafka, topic: string, workload: Workload, records: number, limit = 5): Promise<string | null> {
  const balance = new Map<string, number>();
  for (const [key, value] of expectedOutput(workload, records)) { const c = canonical(key, value); balance.set(c, (balance.get(c) ?? 0) + 1); }
  const consumer = kafka.consumer({ groupId: freshName(`${topic}-diff-`), maxBytesPerPartition: 8 << 20 });
  let ended = false;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const key = m.key?.toString() ?? null;
          if (key === END_KEY) { ended = true; continue; }
          const c = canonical(key, m.value?.toString() ?? '');
          balance.set(c, (balance.get(c) ?? 0) - 1);
        }
      },
    });
    for (const until = Date.now() + 120_000; !ended && Date.now() < until;) await sleep(50);
  } finally {
    await consumer.disconnect();
  }
  const missing = [...balance].filter(([, n]) => n > 0);
  const extra = [...balance].filter(([, n]) => n < 0);
  if (!missing.length && !extra.length) return null;
  const show = (list: Array<[string, number]>) => list.slice(0, limit).map(([r, n]) => `    ${Math.abs(n)} × ${r}`).join('\n');
  return `${missing.reduce((s, [, n]) => s + n, 0)} expected records missing (${missing.length} distinct), ${-extra.reduce((s, [, n]) => s + n, 0)} unexpected (${extra.length} distinct)${ended ? '' : ' (the topic was not read to its end)'}\n  missing:\n${show(missing)}\n  unexpected:\n${show(extra)}`;
}
