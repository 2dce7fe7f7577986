// A user function that throws in a stage worker, over the real broker: the
// record goes to the `<pipeline>-dlq` topic with the error and the user's
// source location in headers, and later records of the partition still arrive.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildFile, repoRoot } from './helpers.ts';
import { deleteTopics, freshName, kafkaBrokers, produce, readMessagesUntil, readUntil, startWorker, waitForLog } from './kafka-helpers.ts';

const workers: ChildProcess[] = [];
let run: string;
let garbled: string;
let single: string;

before(() => { kafkaBrokers(); run = freshName('ke'); garbled = freshName('kg'); single = freshName('ks'); });
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await deleteTopics(run);
  await deleteTopics(garbled);
  await deleteTopics(single);
});

test('a record that makes a reduce throw goes to the DLQ topic with its reason and line; the partition goes on', { timeout: 120_000 }, async () => {
  process.env.RUN = run;
  const file = 'test/fixtures/kafka/throwing.ts';
  const built = await buildFile(file);
  assert.deepEqual(built.diagnostics, []);
  const scores = [{ user: 'a', n: 1 }, { user: 'a', n: -1 }, { user: 'b', n: 2 }, { user: 'a', n: 3 }];
  await produce(`${run}-in`, scores);
  const logs: string[][] = [[], []];
  workers.push(startWorker(path.join(built.outDir!, 'stage-0.mjs'), [], { RUN: run }, logs[0]));
  workers.push(startWorker(path.join(built.outDir!, 'stage-1.mjs'), [], { RUN: run }, logs[1]));
  await waitForLog(logs[1], /task (started|restored)/);

  const dead = await readMessagesUntil(`${run}-dlq`, (m) => m.length >= 1);
  assert.equal(dead.length, 1, logs[1].join(''));
  assert.deepEqual(JSON.parse(dead[0].value), { user: 'a', n: -1 });
  assert.equal(dead[0].headers['pipec-error'], 'negative score for a');
  const line = fs.readFileSync(path.join(repoRoot, file), 'utf8').split('\n').findIndex((l) => l.includes('throw new Error')) + 1;
  assert.match(dead[0].headers['pipec-location'], new RegExp(`^${file}:${line}:\\d+$`));
  assert.match(dead[0].headers['pipec-source'], new RegExp(`^${run}-.*-repartition/0@1$`));

  const output = await readUntil(`${run}-out`, (v) => v.length >= 3);
  assert.deepEqual(output.map((v) => JSON.parse(v)), [{ user: 'a', n: 1 }, { user: 'b', n: 2 }, { user: 'a', n: 4 }], 'records after the bad one still arrive');
});

test('a repartition record pipec cannot read back goes to the DLQ topic; the records after it still arrive', { timeout: 120_000 }, async () => {
  process.env.RUN = garbled;
  const built = await buildFile('test/fixtures/kafka/throwing.ts');
  assert.deepEqual(built.diagnostics, []);
  // A record written by something else than this build's stage 0, ahead of the real ones.
  await produce(built.emitted!.manifest.edges[0].topic, ['not a pipec record']);
  await produce(`${garbled}-in`, [{ user: 'a', n: 1 }, { user: 'a', n: 2 }]);
  const logs: string[][] = [[], []];
  workers.push(startWorker(path.join(built.outDir!, 'stage-0.mjs'), [], { RUN: garbled }, logs[0]));
  workers.push(startWorker(path.join(built.outDir!, 'stage-1.mjs'), [], { RUN: garbled }, logs[1]));
  const dead = await readMessagesUntil(`${garbled}-dlq`, (m) => m.length >= 1);
  assert.equal(dead.length, 1, logs[1].join(''));
  assert.match(dead[0].headers['pipec-error'], /^undecodable repartition record/);
  const output = await readUntil(`${garbled}-out`, (v) => v.length >= 2);
  assert.deepEqual(output.map((v) => JSON.parse(v)), [{ user: 'a', n: 1 }, { user: 'a', n: 3 }]);
});

test('a one-stage Kafka-to-Kafka job sends a record its map throws on to the DLQ topic with its original bytes; the rest arrive', { timeout: 120_000 }, async () => {
  process.env.RUN = single;
  const file = 'test/fixtures/kafka/throwing-single.ts';
  const built = await buildFile(file);
  assert.deepEqual(built.diagnostics, []);
  assert.equal(built.emitted!.manifest.stages.length, 1);
  await produce(`${single}-in`, [{ user: 'a', n: 1 }, { user: 'a', n: -1 }, { user: 'b', n: 2 }]);
  const logs: string[] = [];
  workers.push(startWorker(path.join(built.outDir!, 'stage-0.mjs'), [], { RUN: single }, logs));
  const dead = await readMessagesUntil(`${single}-dlq`, (m) => m.length >= 1);
  assert.equal(dead.length, 1, logs.join(''));
  assert.deepEqual(JSON.parse(dead[0].value), { user: 'a', n: -1 });
  assert.equal(dead[0].headers['pipec-error'], 'negative score for a');
  const line = fs.readFileSync(path.join(repoRoot, file), 'utf8').split('\n').findIndex((l) => l.includes('throw new Error')) + 1;
  assert.match(dead[0].headers['pipec-location'], new RegExp(`^${file}:${line}:\\d+$`));
  const output = await readUntil(`${single}-out`, (v) => v.length >= 2);
  assert.deepEqual(output.map((v) => JSON.parse(v)), [{ user: 'a', n: 10 }, { user: 'b', n: 20 }]);
});
