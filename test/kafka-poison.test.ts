// Poison records never stop a stage worker (real broker): an undecodable value,
// a JSON null, a missing and a non-numeric timestamp, a function that throws,
// and an output record over the broker's size limit each go to the DLQ topic
// with the original key, timestamp and headers plus the reason and the source
// location; the good records around them all arrive; a flood of 5,000 bad
// records delays a good one by about a second at most.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { buildFile, repoRoot } from './helpers.ts';
import { createTopic, deleteTopics, freshName, kafkaBrokers, readMessagesUntil, readUntil, startWorker, waitForLog } from './kafka-helpers.ts';

const workers: ChildProcess[] = [];
let run: string;
before(() => { kafkaBrokers(); run = freshName('kp'); });
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await deleteTopics(run);
});

test('each kind of poison record goes to the DLQ topic, complete, and the partition goes on; a flood of 5,000 does not stall good records', { timeout: 180_000 }, async (t) => {
  process.env.RUN = run;
  const file = 'test/fixtures/kafka/poison.ts';
  const built = await buildFile(file);
  assert.deepEqual(built.diagnostics, []);
  const kafka = new Kafka({ brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  await createTopic(`${run}-in`, 1);
  const good = (user: string, ts: number) => ({ key: user, value: JSON.stringify({ user, ts }), timestamp: String(ts), headers: { origin: 'test' } });
  const poison = [
    { key: 'p1', value: '{not json', timestamp: '1001', headers: { origin: 'test' } },
    { key: 'p2', value: 'null', timestamp: '1002', headers: { origin: 'test' } },
    { key: 'p3', value: JSON.stringify({ user: 'c' }), timestamp: '1003', headers: { origin: 'test' } },
    { key: 'p4', value: JSON.stringify({ user: 'c', ts: 'yesterday' }), timestamp: '1004', headers: { origin: 'test' } },
    { key: 'p5', value: JSON.stringify({ user: 'c', ts: 1005, bad: 'throw' }), timestamp: '1005', headers: { origin: 'test' } },
    { key: 'p6', value: JSON.stringify({ user: 'c', ts: 1006, bad: 'big' }), timestamp: '1006', headers: { origin: 'test' } },
  ];
  await producer.send({ topic: `${run}-in`, messages: [good('a', 1000), ...poison, good('a', 2000), good('b', 3000)] });
  const logs: string[][] = [[], []];
  workers.push(startWorker(path.join(built.outDir!, 'stage-0.mjs'), [], { RUN: run }, logs[0]));
  workers.push(startWorker(path.join(built.outDir!, 'stage-1.mjs'), [], { RUN: run }, logs[1]));
  await waitForLog(logs[1], /task (started|restored)/);

  const dead = await readMessagesUntil(`${run}-dlq`, (m) => m.length >= poison.length);
  assert.equal(dead.length, poison.length, logs[0].join(''));
  const reasons = dead.map((d) => d.headers['pipec-error']);
  assert.match(reasons[0], /invalid JSON/);
  assert.match(reasons[1], /JSON value is null/);
  assert.match(reasons[2], /timestamp is undefined/);
  assert.match(reasons[3], /timestamp is a string/);
  assert.equal(reasons[4], 'bad click of c');
  assert.match(reasons[5], /over the \d+-byte record limit/);
  const source = fs.readFileSync(path.join(repoRoot, file), 'utf8').split('\n');
  const lineOf = (text: string) => source.findIndex((l) => l.includes(text)) + 1;
  assert.match(dead[2].headers['pipec-location'], new RegExp(`^${file}:${lineOf('.assignTimestamps')}:\\d+$`), 'a bad timestamp names the assignTimestamps call');
  assert.match(dead[4].headers['pipec-location'], new RegExp(`^${file}:${lineOf('throw new Error')}:\\d+$`), 'a throw names its line');
  for (const [i, d] of dead.entries()) {
    assert.equal(d.value, poison[i].value, 'the DLQ record keeps the original bytes');
    assert.equal(d.headers.origin, 'test', 'and the original headers');
    assert.equal(d.key, poison[i].key, 'and key');
    assert.equal(d.timestamp, poison[i].timestamp, 'and timestamp');
    assert.match(d.headers['pipec-source'], new RegExp(`^${run}-in/0@${i + 1}$`));
  }
  const output = await readUntil(`${run}-out`, (v) => v.length >= 3);
  assert.deepEqual(output.map((v) => JSON.parse(v)).map((r) => `${r.user}=${r.count}`).sort(), ['a=1', 'a=2', 'b=1'], 'the good records around the bad ones all arrive, once');

  // A flood of bad records, then one good record: how long until it comes out (a reader already running watches).
  const reader = kafka.consumer({ groupId: freshName('flood-reader-') });
  t.after(() => reader.disconnect());
  await reader.connect();
  await reader.subscribe({ topic: `${run}-out`, fromBeginning: true });
  const arrivals = new Map<string, number>();
  let seen = 0;
  await reader.run({ eachMessage: async ({ message }) => { seen++; arrivals.set(JSON.parse(message.value!.toString()).user, Date.now()); } });
  while (seen < output.length) await new Promise((r) => setTimeout(r, 50));
  /** Sends records and returns how long until the output of `user` arrives. */
  const latency = async (messages: Array<{ key: string; value: string; headers?: Record<string, string> }>, user: string) => {
    const sentAt = Date.now();
    await producer.send({ topic: `${run}-in`, messages });
    const deadline = Date.now() + 60_000;
    while (!arrivals.has(user) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(arrivals.has(user), `the output of ${user} arrives`);
    return arrivals.get(user)! - sentAt;
  };
  // The same path without bad records first, as the baseline on this machine at this moment.
  const baseline = await latency([good('y', 4000)], 'y');
  const flood = Array.from({ length: 5000 }, (_, i) => ({ key: 'f', value: `garbage ${i}`, headers: {} }));
  const delay = await latency([...flood, good('z', 5000)], 'z');
  process.stderr.write(`  a good record arrived ${baseline} ms after it was sent alone, ${delay} ms after it was sent behind 5,000 bad ones\n`);
  assert.ok(delay - baseline < 2500, `5,000 bad records ahead of a good one delay it by ${delay - baseline} ms more than alone (${baseline} ms)`);
});
