// local.mjs checkpoints to files (runtime/internal/local/checkpoints.ts): a job
// with a Kafka source and a rolling aggregate, killed with SIGKILL twice while
// it consumes and restarted; state resumes from the last checkpoint, so every
// rolling total is right — nothing lost, no wrong value (the Kafka sink of a
// one-process job is at-least-once: values since the last checkpoint may come
// twice) — and a torn last frame is ignored.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildFile, tempDir } from './helpers.ts';
import { compareRollingTotals, deleteTopics, freshName, kafkaBrokers, produce, readUntil, rollingTotalLines, startWorker, waitForLog } from './kafka-helpers.ts';

const workers: ChildProcess[] = [];
let run: string;
before(() => { kafkaBrokers(); run = freshName('klc'); });
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await deleteTopics(run);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('local.mjs killed with SIGKILL resumes from its file checkpoint: every rolling total right, nothing lost', { timeout: 180_000 }, async () => {
  process.env.RUN = run;
  const built = await buildFile('test/fixtures/kafka/local-totals.ts');
  assert.deepEqual(built.diagnostics, []);
  const local = path.join(built.outDir!, 'local.mjs');
  const checkpoints = tempDir('pipec-local-checkpoints-');
  const env = { RUN: run, PIPEC_CHECKPOINT_DIR: checkpoints, PIPEC_LOG_LEVEL: 'info' };
  const input = Array.from({ length: 30_000 }, (_, i) => ({ user: `u${(i * 7) % 13}`, n: 1 + (i % 5) }));
  const expected = rollingTotalLines(input);
  await produce(`${run}-in`, input.slice(0, 15_000));
  const logs: string[][] = [];
  const start = () => { const log: string[] = []; logs.push(log); const w = startWorker(local, [], env, log); workers.push(w); return w; };

  const file = path.join(checkpoints, run, 'checkpoints.log');
  let job = start();
  await readUntil(`${run}-totals`, (v) => v.length >= 3000, 60_000);
  while (!fs.existsSync(file) || fs.statSync(file).size === 0) await sleep(50);
  await sleep(Math.random() * 300);
  job.kill('SIGKILL');
  await produce(`${run}-in`, input.slice(15_000));
  job = start();
  await waitForLog(logs[1], /restoring from the last checkpoint/);
  await sleep(300 + Math.random() * 700);
  job.kill('SIGKILL');
  // A crash while appending leaves a torn frame: the next start ignores it.
  fs.appendFileSync(file, Buffer.from([200, 1, 0, 0, 9, 9]));
  job = start();
  const output = await readUntil(`${run}-totals`, (v) => [...expected].every((e) => v.includes(e)), 120_000);
  const { wrong, missing } = compareRollingTotals(output, expected);
  assert.deepEqual(wrong.slice(0, 5), [], `no wrong rolling total\n${logs.map((l) => l.join('')).join('\n').slice(-3000)}`);
  assert.deepEqual(missing.slice(0, 5), [], 'nothing lost');
  assert.match(logs[2].join(''), /torn by a crash/);
});
