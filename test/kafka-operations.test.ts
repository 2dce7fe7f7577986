// Stage workers in operation, on the real broker: processing-time windows fire
// on the wall clock with no new input; an input partition that never gets data
// goes idle and stops holding the watermark back, also after both stages'
// workers are killed and restarted; /healthz says 503 with the reason when the
// worker cannot join its group, and /metrics reports lag, checkpoints,
// rebalances, watermarks and RSS.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { buildFile } from './helpers.ts';
import { createTopic, deleteTopics, freshName, kafkaBrokers, produce, readUntil, startWorker, waitForLog } from './kafka-helpers.ts';

const workers: ChildProcess[] = [];
const runs: string[] = [];
before(() => { kafkaBrokers(); });
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  for (const run of runs) await deleteTopics(run);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Per user, the rolling totals a keyed reduce of these clicks emits, in order: seq 1..k with the running sum. */
function expectedTotalsByUser(clicks: Array<{ user: string; n: number }>): Record<string, Array<{ seq: number; total: number }>> {
  const expected: Record<string, Array<{ seq: number; total: number }>> = {};
  for (const c of clicks) {
    const list = (expected[c.user] ??= []);
    list.push({ seq: list.length + 1, total: (list.at(-1)?.total ?? 0) + c.n });
  }
  return expected;
}

/** Output lines ({ user, seq, total } as JSON) grouped by user, in their order. */
function totalsByUser(lines: string[]): Record<string, Array<{ seq: number; total: number }>> {
  const got: Record<string, Array<{ seq: number; total: number }>> = {};
  for (const t of lines.map((l) => JSON.parse(l) as { user: string; seq: number; total: number })) (got[t.user] ??= []).push({ seq: t.seq, total: t.total });
  return got;
}

async function build(fixture: string, prefix: string) {
  const run = freshName(prefix);
  runs.push(run);
  process.env.RUN = run;
  const built = await buildFile(fixture);
  assert.deepEqual(built.diagnostics, []);
  return { run, stage: (i: number) => path.join(built.outDir!, `stage-${i}.mjs`) };
}

test('processing-time windows fire on the wall clock: results reach Kafka with no new input', { timeout: 120_000 }, async () => {
  const { run, stage } = await build('test/fixtures/kafka/processing-time.ts', 'kpt');
  const logs: string[][] = [[], []];
  workers.push(startWorker(stage(0), [], { RUN: run }, logs[0]));
  workers.push(startWorker(stage(1), [], { RUN: run }, logs[1]));
  await waitForLog(logs[0], /task (started|restored)/);
  await waitForLog(logs[1], /task (started|restored)/);
  const sentAt = Date.now();
  await produce(`${run}-in`, [{ user: 'a' }, { user: 'a' }, { user: 'b' }]);
  // Nothing else is sent: the 1 s windows must close on the clock.
  const output = await readUntil(`${run}-out`, (v) => v.length >= 2, 15_000);
  const elapsed = Date.now() - sentAt;
  const counts = new Map<string, number>();
  for (const r of output.map((v) => JSON.parse(v) as { user: string; count: number })) counts.set(r.user, (counts.get(r.user) ?? 0) + r.count);
  assert.deepEqual(Object.fromEntries(counts), { a: 2, b: 1 }, logs.join(''));
  // Nothing was sent after the input, so the windows closed on the clock; how soon is a figure (it includes the
  // reader joining its group), not an assertion: speed lives in benchmarks.
  process.stderr.write(`  results read ${elapsed} ms after the input, with no input after it\n`);
});

test('a partition that never gets data goes idle and stops holding the watermark back, also after both stages restart', { timeout: 180_000 }, async (t) => {
  const { run, stage } = await build('test/fixtures/kafka/idle.ts', 'kid');
  const kafka = new Kafka({ brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  await createTopic(`${run}-in`, 2);
  const send = (from: number, to: number) => producer.send({ topic: `${run}-in`, messages: Array.from({ length: to - from }, (_, i) => ({ partition: 0, value: JSON.stringify({ user: 'u', ts: (from + i) * 1000 }) })) });
  const start = (i: number, log: string[]) => { const w = startWorker(stage(i), [], { RUN: run }, log); workers.push(w); return w; };
  const logs: string[][] = [[], []];
  let s0 = start(0, logs[0]);
  let s1 = start(1, logs[1]);
  await send(0, 26);
  const first = await readUntil(`${run}-out`, (v) => v.length >= 2, 30_000);
  assert.deepEqual(first.map((v) => JSON.parse(v)), [{ user: 'u', start: 0, count: 10 }, { user: 'u', start: 10_000, count: 10 }], `partition 1 is idle: windows fire on partition 0 alone\n${logs.join('')}`);
  s0.kill('SIGKILL'); s1.kill('SIGKILL');
  await sleep(500);
  const relogs: string[][] = [[], []];
  s0 = start(0, relogs[0]);
  s1 = start(1, relogs[1]);
  await waitForLog(relogs[1], /task restored from its checkpoint/);
  await send(26, 46);
  const all = await readUntil(`${run}-out`, (v) => v.length >= 4, 30_000);
  assert.deepEqual(all.map((v) => JSON.parse(v)), [
    { user: 'u', start: 0, count: 10 }, { user: 'u', start: 10_000, count: 10 },
    { user: 'u', start: 20_000, count: 10 }, { user: 'u', start: 30_000, count: 10 },
  ], `after a restart the idle partition still does not hold the watermark back, and no window fires twice\n${relogs.join('')}`);
});

test('/healthz says 503 with the reason when the worker cannot join its group; /metrics reports lag, checkpoints, rebalances, watermark and RSS', { timeout: 120_000 }, async (t) => {
  const { run, stage } = await build('test/fixtures/kafka/processing-time.ts', 'khz');
  const port = 19_700 + Math.floor(Math.random() * 200);
  const logs: string[][] = [[], [], []];
  workers.push(startWorker(stage(0), [], { RUN: run }, logs[0]));
  workers.push(startWorker(stage(1), ['--metrics-port', String(port)], { RUN: run }, logs[1]));
  await waitForLog(logs[1], /task (started|restored)/);
  await produce(`${run}-in`, [{ user: 'a' }, { user: 'b' }]);
  await readUntil(`${run}-out`, (v) => v.length >= 2, 15_000);
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  for (const name of ['pipec_records_in_total', 'pipec_records_out_total', 'pipec_consumer_lag_records', 'pipec_checkpoint_duration_seconds_count', 'pipec_checkpoint_size_bytes_count', 'pipec_checkpoint_age_seconds', 'pipec_rebalances_total', 'pipec_late_records_dropped_total', 'pipec_process_resident_memory_bytes']) {
    assert.match(metrics, new RegExp(`^${name}\\{[^}]*\\} \\d`, 'm'), `${name} is reported`);
  }

  // A member of another application already holds the stage's group with another protocol: this worker cannot join.
  const group = `${run}-blocked`;
  const kafka = new Kafka({ brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
  const squatter = kafka.consumer({ groupId: group });
  t.after(() => squatter.disconnect());
  await squatter.connect();
  await squatter.subscribe({ topic: `${run}-in`, fromBeginning: true });
  await squatter.run({ eachMessage: async () => undefined });
  const port2 = port + 300;
  workers.push(startWorker(stage(0), ['--group', group, '--metrics-port', String(port2)], { RUN: run, PIPEC_HEALTH_GRACE_MS: '3000' }, logs[2]));
  await waitForLog(logs[2], /metrics on/);
  let status = 0;
  let body = '';
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const res = await fetch(`http://127.0.0.1:${port2}/healthz`).catch(() => null);
    if (res) { status = res.status; body = await res.text(); }
    if (status === 503) break;
    await sleep(500);
  }
  await squatter.disconnect();
  assert.equal(status, 503, logs[2].join(''));
  assert.match(body, /not in the consumer group|consumer stopped/);
});

test('a bounded job run as stage workers ends: the end of input crosses the repartition topic, every worker exits 0, and the word count is final', { timeout: 120_000 }, async () => {
  const run = freshName('kwc');
  runs.push(run);
  const built = await buildFile('dsl-examples/wordcount.ts');
  assert.deepEqual(built.diagnostics, []);
  const env = { PIPEC_TOPIC_PREFIX: `${run}-` };
  const logs: string[][] = [[], []];
  const exits = [0, 1].map((i) => {
    const w = startWorker(path.join(built.outDir!, `stage-${i}.mjs`), [], env, logs[i]);
    workers.push(w);
    return new Promise<number | null>((resolve) => w.once('exit', (code) => resolve(code)));
  });
  const codes = await Promise.race([Promise.all(exits), sleep(60_000).then(() => null)]);
  assert.deepEqual(codes, [0, 0], `both workers exit 0 on their own\n${logs.join('')}`);
  const printed = logs[1].join('').split('\n').filter((l) => /^[a-z0-9]+,\d+$/.test(l));
  assert.ok(printed.includes('flink,3') && printed.includes('pyflink,2'), printed.join('\n'));
  assert.equal(new Set(printed.map((l) => l.split(',')[0])).size, printed.length, 'one final count per word');
});

test('SIGTERM ends every kind of worker within 10 s with exit code 0: a source stage, a repartition-fed stage, a Kafka-source stage, a single-process stage', { timeout: 180_000 }, async () => {
  const generated = await build('test/fixtures/kafka/generated.ts', 'ksg');
  const sim = freshName('ksim');
  runs.push(sim);
  const simulator = await buildFile('dsl-examples/click-simulator.ts');
  assert.deepEqual(simulator.diagnostics, []);
  const fault = await build('test/fixtures/kafka/fault-job.ts', 'ksf');
  await createTopic(`${fault.run}-in`, 2);
  await produce(`${fault.run}-in`, [{ user: 'a', ts: 1, n: 1 }]);
  const kinds: Array<{ kind: string; script: string; env: Record<string, string>; ready: RegExp }> = [
    { kind: 'generator source stage', script: generated.stage(0), env: { RUN: generated.run }, ready: /worker started/ },
    { kind: 'repartition-fed stage', script: generated.stage(1), env: { RUN: generated.run }, ready: /task (started|restored)/ },
    { kind: 'Kafka-source stage', script: fault.stage(0), env: { RUN: fault.run }, ready: /task (started|restored)/ },
    { kind: 'single-process stage', script: path.join(simulator.outDir!, 'stage-0.mjs'), env: { USER_ACTION_TOPIC: `${sim}-actions` }, ready: /started|running|\{/ },
  ];
  const started = kinds.map((k) => {
    const log: string[] = [];
    const proc = startWorker(k.script, [], k.env, log);
    workers.push(proc);
    return { ...k, proc, log, exit: new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code))) };
  });
  for (const w of started) await waitForLog(w.log, w.ready, 60_000);
  await sleep(2000);
  for (const w of started) {
    const at = Date.now();
    w.proc.kill('SIGTERM');
    const code = await Promise.race([w.exit, sleep(10_000).then(() => 'timeout' as const)]);
    const ms = Date.now() - at;
    process.stderr.write(`  ${w.kind}: exit ${code} after ${ms} ms\n`);
    assert.equal(code, 0, `${w.kind} exits 0 on SIGTERM\n${w.log.join('').slice(-2000)}`);
  }
});

test('a worker restarted after kill -9 on the same machine removes its dead member from the group and restores from its local state copy, reading only the changelog tail; every total is exact', { timeout: 180_000 }, async () => {
  const { run, stage } = await build('test/fixtures/kafka/local-totals.ts', 'klr');
  const users = 200;
  const clicks = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ user: `u${(from + k) % users}`, n: ((from + k) % 7) + 1 }));
  const logs: string[][] = [[], [], []];
  workers.push(startWorker(stage(0), [], { RUN: run }, logs[0]));
  const first = startWorker(stage(1), [], { RUN: run }, logs[1]);
  workers.push(first);
  await produce(`${run}-in`, clicks(0, 2000));
  await readUntil(`${run}-totals`, (v) => v.length >= 2000, 60_000);
  // The dead worker's member stays in the group until its session ends, unless the next worker removes it.
  first.kill('SIGKILL');
  await produce(`${run}-in`, clicks(2000, 3000));
  const second = startWorker(stage(1), [], { RUN: run }, logs[2]);
  workers.push(second);
  const totals = await readUntil(`${run}-totals`, (v) => v.length >= 3000, 60_000);
  second.kill('SIGTERM');
  // Every user's totals, in order, exactly once: seq 1..k with the running sum of its clicks.
  assert.deepEqual(totalsByUser(totals), expectedTotalsByUser(clicks(0, 3000)), logs[2].join(''));
  const log = logs[2].join('');
  assert.match(log, /"removed":true[^\n]*removed the member of a worker that died here/, log);
  const restored = log.split('\n').find((l) => l.includes('task restored from its checkpoint'));
  assert.ok(restored, log);
  const line = JSON.parse(restored) as { localRecords: number; changelogRecords: number; entries: number };
  // The local copy holds the state as of the last checkpoint whose frame was written; the changelog adds at most what came after it.
  assert.ok(line.localRecords > 0, restored);
  assert.ok(line.changelogRecords < line.localRecords, restored);
  assert.equal(line.entries, users, restored);
});

test('a stage worker\'s file sink publishes on checkpoints: after kill -9 and a restart the file holds every rolling total exactly once', { timeout: 180_000 }, async () => {
  const { run, stage } = await build('test/fixtures/kafka/file-totals.ts', 'kft');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-file-totals-'));
  const target = path.join(dir, 'out/totals.jsonl');
  const start = (i: number, log: string[]) => {
    const child = spawn(process.execPath, [stage(i)], { cwd: dir, env: { ...process.env, RUN: run }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => log.push(String(d)));
    child.stderr!.on('data', (d) => log.push(String(d)));
    workers.push(child);
    return child;
  };
  const published = async (count: number, log: string[]) => {
    for (let i = 0; i < 600; i++) {
      const text = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
      const lines = text.split('\n').filter(Boolean);
      if (lines.length >= count) { assert.ok(text.endsWith('\n'), 'whole records only'); return lines; }
      await sleep(100);
    }
    assert.fail(`${target} did not reach ${count} lines:\n${log.join('').slice(-3000)}`);
  };
  const users = 100;
  const clicks = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ user: `u${(from + k) % users}`, n: ((from + k) % 5) + 1 }));
  const logs: string[][] = [[], [], []];
  const s0 = start(0, logs[0]);
  const first = start(1, logs[1]);
  await produce(`${run}-in`, clicks(0, 2000));
  await published(1000, logs[1]);
  first.kill('SIGKILL');
  await produce(`${run}-in`, clicks(2000, 3000));
  const second = start(1, logs[2]);
  await published(3000, logs[2]);
  const exited = new Promise((resolve) => second.once('exit', resolve));
  second.kill('SIGTERM');
  s0.kill('SIGTERM');
  await exited;
  assert.deepEqual(totalsByUser(fs.readFileSync(target, 'utf8').split('\n').filter(Boolean)), expectedTotalsByUser(clicks(0, 3000)), logs[2].join('').slice(-3000));
});

test('a source stage resumes its generator after kill -9 from its checkpointed position, and once its sources ended and committed a restart sends nothing again: the final totals count every record once', { timeout: 180_000 }, async () => {
  const { run, stage } = await build('test/fixtures/kafka/generated-bounded.ts', 'kgb');
  const count = 3000;
  // Every source is bounded, so this is a batch job: stage 1 emits each key's final total once, at the end.
  const totals = new Map<string, { key: string; seq: number; total: number }>();
  for (let i = 0; i < count; i++) {
    const key = `k${i % 7}`;
    const t = totals.get(key) ?? { key, seq: 0, total: 0 };
    t.seq++; t.total += i;
    totals.set(key, t);
  }
  const expected = [...totals.values()].map((t) => JSON.stringify(t)).sort();
  const logs: string[][] = [[], [], [], []];
  const start = (i: number, log: string[]) => { const w = startWorker(stage(i), [], { RUN: run }, log); workers.push(w); return w; };
  const exit = (w: ChildProcess) => new Promise<number | null>((resolve) => w.once('exit', resolve));
  const downstream = start(1, logs[1]);
  let source = start(0, logs[0]);
  // Killed mid-stream (the generator makes 250 records a second, 12 s in all), then started again.
  await waitForLog(logs[0], /worker started/);
  await sleep(4000);
  source.kill('SIGKILL');
  await sleep(300);
  source = start(0, logs[2]);
  await waitForLog(logs[2], /source task restored from its checkpoint/);
  const restored = JSON.parse(logs[2].join('').split('\n').find((l) => l.includes('source task restored from its checkpoint'))!) as { positions: Record<string, number> };
  const next = Object.values(restored.positions)[0];
  assert.ok(next > 0 && next < count, `the generator resumes in the middle, at ${next}`);
  assert.equal(await exit(source), 0, logs[2].join('').slice(-2000));
  assert.match(logs[2].join(''), /source task ended: its output is committed/);
  // Started once more after it ended: it restores "ended" and sends nothing.
  const again = start(0, logs[3]);
  assert.equal(await exit(again), 0, logs[3].join('').slice(-2000));
  assert.match(logs[3].join(''), /its sources had ended and their output is committed/);
  assert.equal(await exit(downstream), 0, logs[1].join('').slice(-2000));
  const output = await readUntil(`${run}-out`, (v) => v.length >= expected.length, 30_000);
  await sleep(1000);
  assert.deepEqual((await readUntil(`${run}-out`, () => false, 2_000)).sort(), expected, `${output.length} read\n${logs[1].join('').slice(-2000)}`);
});
