/**
 * Helpers for tests against the real Kafka broker: start it with the
 * project's script (or use PIPEC_KAFKA_BROKERS), fresh names per run, produce,
 * read a topic, and run stage workers as child processes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { repoRoot } from './helpers.ts';

/** Brokers of the test broker, started by scripts/kafka.mjs when PIPEC_KAFKA_BROKERS is not set. */
export function kafkaBrokers(): string {
  if (!process.env.PIPEC_KAFKA_BROKERS) {
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts/kafka.mjs'), 'up'], { stdio: 'inherit' });
    process.env.PIPEC_KAFKA_BROKERS = `127.0.0.1:${process.env.PIPEC_KAFKA_PORT ?? 19092}`;
  }
  return process.env.PIPEC_KAFKA_BROKERS;
}

/** A name no earlier run used. */
export function freshName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

function client() {
  return new Kafka({ brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING, clientId: 'pipec-test' });
}

/** Creates a topic and sends values (strings or JSON) to it. */
export async function produce(topic: string, values: Array<string | object>, partitions = 1): Promise<void> {
  await createTopic(topic, partitions);
  const producer = client().producer();
  await producer.connect();
  try {
    for (let i = 0; i < values.length; i += 1000) {
      await producer.send({ topic, messages: values.slice(i, i + 1000).map((v) => ({ value: typeof v === 'string' ? v : JSON.stringify(v) })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Reads a topic from the beginning until `done(values)` holds or the timeout passes; returns the values as strings. */
export async function readUntil(topic: string, done: (values: string[]) => boolean, timeoutMs = 60_000): Promise<string[]> {
  await createTopic(topic);
  const consumer = client().consumer({ groupId: freshName('reader-') });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => { values.push(message.value?.toString() ?? ''); } });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !done(values)) await new Promise((r) => setTimeout(r, 250));
    return values;
  } finally {
    await consumer.disconnect();
  }
}

/** Creates a topic (if missing) and waits for its leader, so producers and consumers never race auto-creation. */
export async function createTopic(topic: string, partitions = 1): Promise<void> {
  const admin = client().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics whose names start with `prefix` (cleanup after a run). */
export async function deleteTopics(prefix: string): Promise<void> {
  const admin = client().admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

/** Starts a bundle as a worker process; its output goes to `log`. */
export function startWorker(script: string, args: string[], env: Record<string, string>, log: string[]): ChildProcess {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => log.push(String(d)));
  child.stderr!.on('data', (d) => log.push(String(d)));
  return child;
}

/** Waits until a worker's log shows it owns partitions. */
export async function waitForLog(log: string[], pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(log.join(''))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${pattern} in:\n${log.join('').slice(-3000)}`);
}

/** Reads a topic from the beginning until `done(messages)` holds or the timeout passes; returns values, keys, timestamps and headers as strings. */
export async function readMessagesUntil(topic: string, done: (messages: Array<{ value: string; key: string | null; timestamp: string; headers: Record<string, string> }>) => boolean, timeoutMs = 60_000): Promise<Array<{ value: string; key: string | null; timestamp: string; headers: Record<string, string> }>> {
  await createTopic(topic);
  const consumer = client().consumer({ groupId: freshName('reader-') });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const messages: Array<{ value: string; key: string | null; timestamp: string; headers: Record<string, string> }> = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        messages.push({ value: message.value?.toString() ?? '', key: message.key?.toString() ?? null, timestamp: message.timestamp, headers });
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !done(messages)) await new Promise((r) => setTimeout(r, 250));
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** The outputs a keyed rolling count and sum of clicks must emit, as JSON lines `{ user, seq, total }` (each once, in any order). */
export function rollingTotalLines(input: Array<{ user: string; n: number }>): Set<string> {
  const expected = new Set<string>();
  const running = new Map<string, { seq: number; total: number }>();
  for (const c of input) {
    const r = running.get(c.user) ?? { seq: 0, total: 0 };
    r.seq++; r.total += c.n;
    running.set(c.user, r);
    expected.add(JSON.stringify({ user: c.user, seq: r.seq, total: r.total }));
  }
  return expected;
}

/** Compares the read outputs with rollingTotalLines' set and prints the counts: the outputs that are wrong and the expected ones missing. */
export function compareRollingTotals(output: string[], expected: Set<string>): { wrong: string[]; missing: string[] } {
  const wrong = output.filter((v) => !expected.has(v));
  const missing = [...expected].filter((e) => !output.includes(e));
  process.stderr.write(`  ${output.length} outputs for ${expected.size} expected: ${output.length - new Set(output).size} repeated, ${wrong.length} wrong, ${missing.length} missing\n`);
  return { wrong, missing };
}
