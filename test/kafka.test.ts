// Stages as workers over a real Kafka broker: a two-stage job (source stage →
// repartition topic → keyed window stage at parallelism 3), one stage-1 worker
// killed with SIGKILL mid-run; the group rebalances, the killed worker's task
// resumes from its checkpoint elsewhere, and the output holds every expected
// window result once, with the right count.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildFile } from './helpers.ts';
import { deleteTopics, freshName, kafkaBrokers, produce, readUntil, startWorker, waitForLog } from './kafka-helpers.ts';

const workers: ChildProcess[] = [];
let run: string;

before(() => { kafkaBrokers(); run = freshName('kt'); });
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await deleteTopics(run);
});

test('a killed stage worker loses nothing: the group rebalances and every window result arrives once', { timeout: 180_000 }, async () => {
  process.env.RUN = run;
  const built = await buildFile('test/fixtures/kafka/two-stage.ts');
  assert.deepEqual(built.diagnostics, []);
  const stage0 = path.join(built.outDir!, 'stage-0.mjs');
  const stage1 = path.join(built.outDir!, 'stage-1.mjs');
  const clicks = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ user: `u${(from + i) % 7}`, ts: (from + i) * 100 }));

  await produce(`${run}-in`, clicks(0, 300));
  const env = { RUN: run, PIPEC_LOG_LEVEL: 'debug' };
  const logs: string[][] = [[], [], [], []];
  workers.push(startWorker(stage0, ['--session-timeout', '6000'], env, logs[0]));
  const metricsPort = 19_200 + Math.floor(Math.random() * 500);
  for (let i = 1; i <= 3; i++) workers.push(startWorker(stage1, ['--session-timeout', '6000', ...(i === 3 ? ['--metrics-port', String(metricsPort)] : [])], env, logs[i]));
  await Promise.all([1, 2, 3].map((i) => waitForLog(logs[i], /task (started|restored)/)));
  // First results (windows up to 20 s) show the job is running; then kill a worker that owns a partition.
  await readUntil(`${run}-out`, (v) => v.length >= 14, 60_000);
  const victim = workers[1];
  victim.kill('SIGKILL');
  await produce(`${run}-in`, [...clicks(300, 600), { user: 'u0', ts: 1_000_000 }]);

  const expected = new Map<string, number>();
  for (const c of clicks(0, 600)) {
    const id = `${c.user}@${c.ts - (c.ts % 10_000)}`;
    expected.set(id, (expected.get(id) ?? 0) + 1);
  }
  const complete = (values: string[]) => {
    const seen = new Set(values.map((v) => { const r = JSON.parse(v); return `${r.user}@${r.start}=${r.count}`; }));
    return [...expected].every(([id, count]) => seen.has(`${id}=${count}`));
  };
  const output = await readUntil(`${run}-out`, complete, 120_000);
  const results = output.map((v) => JSON.parse(v) as { user: string; start: number; count: number });
  if (!complete(output)) {
    const fs = await import('node:fs');
    fs.writeFileSync('/tmp/kafka-test-logs.txt', logs.map((l, i) => `==== worker ${i}\n${l.join('')}`).join('\n'));
  }
  const missing = [...expected].filter(([id, count]) => !results.some((r) => `${r.user}@${r.start}` === id && r.count === count));
  assert.deepEqual(missing, [], `every window arrives with its full count (got ${results.length} results)`);
  for (const r of results) assert.equal(r.count, expected.get(`${r.user}@${r.start}`), `no partial window for ${r.user}@${r.start}`);
  assert.equal(results.length, expected.size, 'each window result exactly once');
  assert.match(logs.slice(2).join(''), /partitions assigned/, 'the survivors took over the partitions');
  const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
  assert.equal(health.status, 200);
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  assert.match(metrics, /pipec_records_in_total\{[^}]*\} [1-9]/, 'the worker counts what it consumed');
  assert.match(metrics, /pipec_watermark_ms\{/);
});
