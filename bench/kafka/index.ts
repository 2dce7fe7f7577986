/**
 * `npm run bench -- kafka`: 1,000,000 JSON records (~200 bytes) through a
 * one-stage filter/map pipeline topic → topic, built by pipec, and through a
 * hand-written kafkajs loop (hand.ts) on the same broker, in fresh processes
 * with fresh topics and groups. Each is timed from outside by polling its
 * consumer group's committed offset: the rate between its first commit and
 * the commit of the last record, so start-up and group joins count for neither.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaBrokers, freshName, deleteTopics } from '../../test/kafka-helpers.ts';
import { buildPipeline, median, root } from '../lib.ts';

const payload = (i: number) => JSON.stringify({
  id: i, ts: 1_700_000_000_000 + i, user: `user${i % 5000}`, action: i % 10 === 0 ? 'noise' : 'view',
  url: `/catalog/item/${i % 977}?ref=home`, agent: 'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0', bytes: (i * 37) % 65536,
});

async function fill(kafka: Kafka, topic: string, records: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  // Batches stay under the broker's 1 MB limit.
  for (let i = 0; i < records; i += 2000) {
    await producer.send({ topic, messages: Array.from({ length: Math.min(2000, records - i) }, (_, j) => ({ value: payload(i + j) })) });
  }
  await producer.disconnect();
}

/** Runs a variant until its group has committed every record; returns records/s between its first and last commit. */
async function timeVariant(kafka: Kafka, command: string[], env: Record<string, string>, records: number): Promise<number> {
  const child = spawn(process.execPath, command, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const admin = kafka.admin();
  await admin.connect();
  let first: { at: number; offset: number } | null = null;
  try {
    for (const deadline = Date.now() + 600_000; Date.now() < deadline;) {
      const [topic] = await admin.fetchOffsets({ groupId: env.BENCH_GROUP, topics: [env.BENCH_IN] });
      const offset = Number(topic?.partitions[0]?.offset ?? -1);
      const now = performance.now();
      if (offset > 0 && !first) first = { at: now, offset };
      if (offset >= records && first) return ((records - first.offset) / (now - first.at)) * 1000;
      if (child.exitCode !== null) throw new Error(`variant exited early: ${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('variant did not finish in 10 minutes');
  } finally {
    await admin.disconnect();
    child.kill('SIGTERM');
  }
}

export async function kafkaBench(options: { records: number; rounds: number }): Promise<void> {
  const brokers = kafkaBrokers();
  const kafka = new Kafka({ clientId: 'bench', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const prefix = freshName('bench');
  const input = `${prefix}-in`;
  process.stderr.write(`writing ${options.records.toLocaleString('en')} records to ${input}...\n`);
  await fill(kafka, input, options.records);
  const outDir = await buildPipeline('bench/kafka/pipeline.ts');
  const hand = path.join(root, 'bench/.out/kafka-hand.mjs');
  await esbuild.build({ entryPoints: [path.join(root, 'bench/kafka/hand.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: hand, logLevel: 'silent', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  const runs: Record<string, number[]> = { pipec: [], hand: [] };
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const variant of ['hand', 'pipec'] as const) {
        // PIPEC_TOPIC_PREFIX: pipec's own topics (the stage's changelog) are fresh each run too.
        const env = { BENCH_IN: input, BENCH_OUT: `${prefix}-out-${variant}-${round}`, BENCH_GROUP: `${prefix}-${variant}-${round}`, PIPEC_KAFKA_BROKERS: brokers, PIPEC_TOPIC_PREFIX: `${prefix}-${variant}-${round}-` };
        const command = variant === 'hand' ? [hand] : [path.join(outDir, 'stage-0.mjs')];
        runs[variant].push(await timeVariant(kafka, command, env, options.records));
        process.stderr.write(`round ${round + 1}/${options.rounds} ${variant}: ${Math.round(runs[variant].at(-1)!).toLocaleString('en')} records/s\n`);
      }
    }
  } finally {
    await deleteTopics(prefix);
  }
  const handRate = median(runs.hand);
  const pipecRate = median(runs.pipec);
  console.log(`kafka: ${options.records.toLocaleString('en')} JSON records (~200 bytes), filter + map, topic → topic, ${options.rounds} runs each, medians (node ${process.version})`);
  console.log(`hand-written kafkajs loop  ${Math.round(handRate).toLocaleString('en').padStart(10)} records/s`);
  console.log(`pipec stage                ${Math.round(pipecRate).toLocaleString('en').padStart(10)} records/s`);
  console.log(`pipec / hand: ${(pipecRate / handRate).toFixed(2)}`);
}
