/**
 * Stage-worker runs of a differential program on the real Kafka broker: one
 * `stage-N.mjs` process per stage (the source stage ends with its collection,
 * the others consume repartition topics), sinks are Kafka topics read back
 * until every sink holds as many records as the reference says, then a short
 * grace period catches extra ones. Topics and groups are namespaced per run.
 *
 * In: a built output folder, its environment, the run name and expected
 * counts. Out: each sink topic's values (JSON texts), or the workers' logs on error.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createTopic, deleteTopics, startWorker } from '../kafka-helpers.ts';

/** Runs every stage as a worker and reads the sink topics `<run>-sink<i>`. */
export async function runWorkers(outDir: string, env: Record<string, string>, run: string, expectedCounts: number[], timeoutMs: number): Promise<{ sinks: string[][] } | { error: string }> {
  const topics = expectedCounts.map((_, i) => `${run}-sink${i}`);
  for (const topic of topics) await createTopic(topic);
  const stages = fs.readdirSync(outDir).filter((f) => /^stage-\d+\.mjs$/.test(f)).sort();
  const logs: string[][] = stages.map(() => []);
  const workers: ChildProcess[] = [];
  const kafka = new Kafka({ brokers: env.PIPEC_KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING, clientId: 'pipec-differential' });
  const consumer = kafka.consumer({ groupId: `${run}-reader` });
  const sinks: string[][] = topics.map(() => []);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ topic, message }) => { sinks[topics.indexOf(topic)].push(message.value?.toString() ?? ''); } });
    // Downstream stages first, so they are in their groups before the source stage produces.
    for (let i = stages.length - 1; i >= 0; i--) workers.push(startWorker(path.join(outDir, stages[i]), [], env, logs[i]));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && sinks.some((s, i) => s.length < expectedCounts[i])) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 2_000));
    const crashed = workers.filter((w) => w.exitCode !== null && w.exitCode !== 0);
    if (crashed.length) return { error: `a stage worker exited with ${crashed[0].exitCode}:\n${logs.map((l, i) => `--- ${stages[i]}\n${l.join('').slice(-1500)}`).join('\n')}` };
    return { sinks };
  } finally {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await consumer.disconnect().catch(() => undefined);
    await deleteTopics(run).catch(() => undefined);
  }
}
