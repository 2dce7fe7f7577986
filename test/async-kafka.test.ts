// Async user code in Kafka stage workers, against the real broker and a small
// local HTTP service (test/async-service.ts):
// - asyncMap with calls in flight when its worker is killed with kill -9: the
//   restarted worker makes the checkpointed calls again, and every click is in
//   the committed rolling totals exactly once (compared with totals computed
//   here from the input);
// - a process function's async open() (a table fetched from the service) is
//   awaited before the first record, its async close() runs when its task
//   moves away and on SIGTERM, in stage workers and in local.mjs;
// - user metrics (ctx.metrics) are on /metrics with the operator's labels and
//   the user's, and a task's series leave the worker it moved away from.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { nameOf, seeded, startUserService, type UserService } from './async-service.ts';
import { buildFile, tempDir } from './helpers.ts';
import { compareRollingTotals, deleteTopics, freshName, kafkaBrokers, produce, readMessagesUntil, readUntil, rollingTotalLines, startWorker, waitForLog } from './kafka-helpers.ts';

const workers: ChildProcess[] = [];
const runs: string[] = [];
let service: UserService;

before(async () => {
  kafkaBrokers();
  service = await startUserService();
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await service.close();
  for (const run of runs) await deleteTopics(run);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function exited(worker: ChildProcess): Promise<number | null> {
  return worker.exitCode !== null ? Promise.resolve(worker.exitCode) : new Promise((resolve) => worker.once('exit', (code) => resolve(code)));
}

test('kill -9 with asyncMap calls in flight: the restarted worker makes them again, and every click is counted exactly once', { timeout: 300_000 }, async () => {
  const run = freshName('at');
  runs.push(run);
  const random = seeded(11);
  service.behaviour = { latency: () => 5 + Math.floor(random() * 35) };
  service.reset();
  process.env.RUN = run;
  const built = await buildFile('test/fixtures/async/kafka-totals.ts');
  assert.deepEqual(built.diagnostics, []);
  const input = Array.from({ length: 3000 }, (_, id) => ({ id, user: `u${id % 13}`, n: 1 + (id % 5) }));
  await produce(`${run}-in`, input);
  // Computed here, independently: the service's name for a user has nameOf(user).length characters.
  const expected = rollingTotalLines(input.map((c) => ({ user: c.user, n: c.n * nameOf(c.user).length })));
  const env = { RUN: run, ASYNC_SERVICE: service.url };
  const logs: string[][] = [[], [], []];
  const stage0 = path.join(built.outDir!, 'stage-0.mjs');
  workers.push(startWorker(path.join(built.outDir!, 'stage-1.mjs'), ['--session-timeout', '6000'], env, logs[1]));
  const first = startWorker(stage0, ['--session-timeout', '6000'], env, logs[0]);
  workers.push(first);
  // Kill stage 0 mid-stream, while the service has calls of it in flight (capacity 20, 3000 clicks waiting).
  await until(() => service.answers >= 800 && service.inFlight >= 5, 'stage 0 to be busy with calls in flight', 120_000);
  first.kill('SIGKILL');
  await exited(first);
  const answeredBeforeKill = service.answers;
  workers.push(startWorker(stage0, ['--session-timeout', '6000'], env, logs[2]));
  const complete = (values: string[]) => { const seen = new Set(values); return [...expected].every((e) => seen.has(e)); };
  const output = await readUntil(`${run}-totals`, complete, 180_000);
  const { wrong, missing } = compareRollingTotals(output, expected);
  assert.deepEqual(missing, [], 'every rolling total arrives');
  assert.deepEqual(wrong, [], 'no total is wrong (no click missing or counted twice)');
  assert.equal(output.length, expected.size, 'each rolling total exactly once');
  assert.ok(answeredBeforeKill < input.length, 'the kill came before the service had answered every click');
  assert.match(logs[2].join(''), /asyncMap calls that were in flight at the checkpoint are made again/, 'the restarted worker restored calls in flight');
  assert.ok([...service.calls.values()].some((n) => n > 1), 'some calls were made twice: once before the kill, once after');
});

test('stage workers: async open() before the first record, user metrics with labels that leave with a moved task, async close() on a move and on SIGTERM', { timeout: 300_000 }, async () => {
  const run = freshName('al');
  runs.push(run);
  service.behaviour = { latency: (order) => (order === -1 ? 300 : 0) }; // the table takes 300 ms
  process.env.RUN = run;
  const built = await buildFile('test/fixtures/async/kafka-lifecycle.ts');
  assert.deepEqual(built.diagnostics, []);
  const table: Record<string, string> = { u0: 'zero', u1: 'one', u2: 'two' };
  const visits = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ user: `user${(from + i) % 6}`, page: `u${(from + i) % 3}` }));
  await produce(`${run}-in`, visits(0, 30));
  const dir = tempDir();
  const closedA = path.join(dir, 'closed-a'), closedB = path.join(dir, 'closed-b');
  const env = { RUN: run, ASYNC_SERVICE: service.url };
  const port = 19_900 + Math.floor(Math.random() * 50) * 2;
  const logs: string[][] = [[], [], []];
  const stage0 = startWorker(path.join(built.outDir!, 'stage-0.mjs'), ['--session-timeout', '6000'], env, logs[0]);
  const a = startWorker(path.join(built.outDir!, 'stage-1.mjs'), ['--session-timeout', '6000', '--metrics-port', String(port)], { ...env, LIFECYCLE_CLOSED: closedA }, logs[1]);
  workers.push(stage0, a);
  const expectedLines = (vs: Array<{ user: string; page: string }>) => vs.map((v) => JSON.stringify(`${v.user}:${table[v.page]}`)).sort();
  let output = await readUntil(`${run}-out`, (v) => v.length >= 30, 120_000);
  assert.deepEqual(output.sort(), expectedLines(visits(0, 30)), 'every visit named from the table: open() finished before the first record');

  const series = async (metricsPort: number) => {
    const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
    return [...text.matchAll(/^lifecycle_visits\{([^}]*)\} (\S+)$/gm)].map((m) => ({ labels: Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]])), value: Number(m[2]) }));
  };
  const before = await series(port);
  assert.deepEqual([...new Set(before.map((s) => s.labels.task))].sort(), ['0', '1'], 'the only worker of stage 1 runs both tasks');
  for (const s of before) {
    assert.deepEqual(Object.keys(s.labels).sort(), ['operator', 'pipeline', 'stage', 'task', 'uid', 'user']);
    assert.equal(s.labels.pipeline, run);
    assert.equal(s.labels.stage, '1');
    assert.equal(s.labels.operator, 'keyedProcess');
    assert.equal(s.labels.uid, 'keyedProcess');
  }
  const perUser = (list: typeof before) => { const m: Record<string, number> = {}; for (const s of list) m[s.labels.user] = (m[s.labels.user] ?? 0) + s.value; return m; };
  assert.deepEqual(perUser(before), { user0: 5, user1: 5, user2: 5, user3: 5, user4: 5, user5: 5 }, 'one count per visit, per user');

  const b = startWorker(path.join(built.outDir!, 'stage-1.mjs'), ['--session-timeout', '6000', '--metrics-port', String(port + 1)], { ...env, LIFECYCLE_CLOSED: closedB }, logs[2]);
  workers.push(b);
  await waitForLog(logs[1], /partitions revoked/, 60_000);
  await waitForLog(logs[2], /task (started|restored)/, 60_000);
  // The moved task's series leave worker A; its close() ran there when it stopped.
  await until(async () => new Set((await series(port)).map((s) => s.labels.task)).size === 1, "worker A's /metrics to drop the moved task's series");
  const kept = (await series(port))[0].labels.task;
  const moved = kept === '0' ? '1' : '0';
  await until(() => fs.existsSync(closedA), "the moved task's close() on worker A");
  await produce(`${run}-in`, visits(30, 60));
  output = await readUntil(`${run}-out`, (v) => v.length >= 60, 120_000);
  assert.deepEqual(output.sort(), expectedLines(visits(0, 60)), 'after the move, the new owner opened its table before its first record too');
  await until(async () => (await series(port + 1)).some((s) => s.labels.task === moved), "worker B's series of the moved task");
  assert.ok((await series(port + 1)).every((s) => s.labels.task === moved), 'worker B shows only the task it runs');

  for (const w of [a, b, stage0]) w.kill('SIGTERM');
  assert.deepEqual(await Promise.all([a, b, stage0].map(exited)), [0, 0, 0], 'every worker stops cleanly on SIGTERM');
  const closes = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(closes(closedA), [`closed by ${a.pid}`, `closed by ${a.pid}`], 'worker A closed the function of the task that moved, then of the one it kept, on SIGTERM');
  assert.deepEqual(closes(closedB), [`closed by ${b.pid}`], 'worker B closed its task on SIGTERM');
});

test('local.mjs: async open() before the first record, async close() on SIGTERM of an unbounded job', { timeout: 180_000 }, async () => {
  const run = freshName('ao');
  runs.push(run);
  service.behaviour = { latency: (order) => (order === -1 ? 300 : 0) };
  process.env.RUN = run;
  const built = await buildFile('test/fixtures/async/kafka-lifecycle.ts');
  assert.deepEqual(built.diagnostics, []);
  await produce(`${run}-in`, [{ user: 'ann', page: 'u1' }, { user: 'bob', page: 'u2' }]);
  const closed = path.join(tempDir(), 'closed');
  const log: string[] = [];
  const local = startWorker(path.join(built.outDir!, 'local.mjs'), [], { RUN: run, ASYNC_SERVICE: service.url, LIFECYCLE_CLOSED: closed }, log);
  workers.push(local);
  const output = await readUntil(`${run}-out`, (v) => v.length >= 2, 120_000);
  assert.deepEqual(output.sort(), ['"ann:one"', '"bob:two"']);
  assert.equal(fs.existsSync(closed), false, 'close() has not run while the job runs');
  local.kill('SIGTERM');
  assert.equal(await exited(local), 0, log.join(''));
  const lines = fs.readFileSync(closed, 'utf8').split('\n').filter(Boolean);
  assert.ok(lines.length >= 1 && lines.every((l) => l === `closed by ${local.pid}`), `close() ran in local.mjs on SIGTERM: ${JSON.stringify(lines)}`);
});

test('local.mjs killed with kill -9 while asyncMap calls are in flight resumes from its file checkpoint: every rolling total right, nothing lost', { timeout: 300_000 }, async () => {
  const run = freshName('alc');
  runs.push(run);
  const random = seeded(5);
  service.behaviour = { latency: () => 5 + Math.floor(random() * 35) };
  service.reset();
  process.env.RUN = run;
  const built = await buildFile('test/fixtures/async/kafka-totals.ts');
  assert.deepEqual(built.diagnostics, []);
  const input = Array.from({ length: 3000 }, (_, id) => ({ id, user: `u${id % 13}`, n: 1 + (id % 5) }));
  await produce(`${run}-in`, input);
  const expected = rollingTotalLines(input.map((c) => ({ user: c.user, n: c.n * nameOf(c.user).length })));
  const env = { RUN: run, ASYNC_SERVICE: service.url, PIPEC_CHECKPOINT_DIR: tempDir('pipec-async-checkpoints-') };
  const logs: string[][] = [[], []];
  const local = path.join(built.outDir!, 'local.mjs');
  const first = startWorker(local, [], env, logs[0]);
  workers.push(first);
  await until(() => service.answers >= 800 && service.inFlight >= 5, 'the job to be busy with calls in flight', 120_000);
  first.kill('SIGKILL');
  await exited(first);
  workers.push(startWorker(local, [], env, logs[1]));
  // The Kafka sink of a one-process job is at-least-once: a total since the last checkpoint may come twice, but none is wrong or missing.
  const output = await readUntil(`${run}-totals`, (v) => { const seen = new Set(v); return [...expected].every((e) => seen.has(e)); }, 180_000);
  const { wrong, missing } = compareRollingTotals(output, expected);
  assert.deepEqual(missing, [], 'nothing lost');
  assert.deepEqual(wrong, [], 'no wrong rolling total (no click missing or counted twice in the state)');
  assert.match(logs[1].join(''), /asyncMap calls that were in flight at the checkpoint are made again/);
});

test('a stage worker: failed and timed-out asyncMap calls go to the DLQ topic with the reason and location, in their task\'s transaction; the job goes on', { timeout: 240_000 }, async () => {
  const run = freshName('ad');
  runs.push(run);
  const fails = (id: number) => id % 50 === 7;
  const hangs = (id: number) => id % 50 === 21;
  service.behaviour = { latency: () => 3, fails, hangs };
  service.reset();
  process.env.RUN = run;
  process.env.ASYNC_TIMEOUT = '500ms';
  let built;
  try { built = await buildFile('test/fixtures/async/kafka-totals.ts'); } finally { delete process.env.ASYNC_TIMEOUT; }
  assert.deepEqual(built.diagnostics, []);
  const input = Array.from({ length: 400 }, (_, id) => ({ id, user: `u${id % 13}`, n: 1 + (id % 5) }));
  await produce(`${run}-in`, input);
  const good = input.filter((c) => !fails(c.id) && !hangs(c.id));
  const expected = rollingTotalLines(good.map((c) => ({ user: c.user, n: c.n * nameOf(c.user).length })));
  const env = { RUN: run, ASYNC_SERVICE: service.url, ASYNC_TIMEOUT: '500ms' };
  const logs: string[][] = [[], []];
  workers.push(startWorker(path.join(built.outDir!, 'stage-0.mjs'), ['--session-timeout', '6000'], env, logs[0]));
  workers.push(startWorker(path.join(built.outDir!, 'stage-1.mjs'), ['--session-timeout', '6000'], env, logs[1]));
  const output = await readUntil(`${run}-totals`, (v) => { const seen = new Set(v); return [...expected].every((e) => seen.has(e)); }, 120_000);
  const { wrong, missing } = compareRollingTotals(output, expected);
  assert.deepEqual(missing, []);
  assert.deepEqual(wrong, [], 'the failed clicks are in no total');
  const dlq = await readMessagesUntil(`${run}-dlq`, (m) => m.length >= 16, 60_000);
  const byId = new Map(dlq.map((m) => [(JSON.parse(m.value) as { id: number }).id, m.headers]));
  assert.deepEqual([...byId.keys()].sort((a, b) => a - b), input.filter((c) => fails(c.id) || hangs(c.id)).map((c) => c.id), 'each failed or timed-out click once in the DLQ');
  assert.match(byId.get(7)!['pipec-error'], /^the asyncMap call failed: the user service answered 500$/);
  assert.match(byId.get(7)!['pipec-location'], /^test\/fixtures\/async\/kafka-totals\.ts:15:/);
  assert.equal(byId.get(21)!['pipec-error'], 'the asyncMap call did not complete within its timeout of 500 ms');
  assert.match(byId.get(21)!['pipec-location'], /^test\/fixtures\/async\/kafka-totals\.ts:22:/, 'a timeout names the asyncMap call');
});
