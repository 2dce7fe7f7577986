// asyncMap (Flink's async I/O) in pipec/testing and local.mjs, against a
// small local HTTP service (test/async-service.ts): ordered results come in
// input order whatever the service's latencies; unordered ones as their calls
// complete but never across a watermark; no more than `capacity` calls are
// ever in flight, and a full asyncMap stops its input (backpressure); a call
// that times out or fails sends its record to the dead-letter output with the
// reason and location, and the job goes on. Kafka stage workers, and a kill -9
// with calls in flight, are in test/async-kafka.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { testPipeline } from 'pipec/testing';
import { nameOf, runBundle, seeded, startUserService, type UserService } from './async-service.ts';
import { buildFile, isolate, lines, tempDir } from './helpers.ts';

const FILE = 'test/fixtures/async/enrich.ts';
let service: UserService;

before(async () => {
  service = await startUserService();
  process.env.ASYNC_SERVICE = service.url;
});
after(async () => {
  await service.close();
  delete process.env.ASYNC_SERVICE;
});

interface Order { id: number; user: string; ts: number }
const orders = (from: number, to: number): Order[] => Array.from({ length: to - from }, (_, i) => ({ id: from + i, user: `u${(from + i) % 7}`, ts: (from + i) * 1000 }));
const resultOf = (o: Order) => `${o.id}:${nameOf(o.user)}`;

/** Runs `body` with environment variables set (settings the fixture bakes in at build time). */
async function withEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try { return await body(); } finally { for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; } }
}

test('ordered: results in input order under random service latencies, never more than capacity calls in flight', async () => {
  const random = seeded(7);
  service.behaviour = { latency: () => Math.floor(random() * 30) };
  service.reset();
  await withEnv({ ASYNC_CAPACITY: '5', ASYNC_ORDERED: 'true' }, async () => {
    const job = await testPipeline(FILE);
    const input = orders(0, 60);
    job.source(0).push(...input);
    await job.settled();
    assert.deepEqual(job.sink(0).values(), input.map(resultOf), 'every result, in input order');
    await job.finish();
  });
  assert.ok(service.maxInFlight <= 5, `at most capacity (5) calls in flight, the service saw ${service.maxInFlight}`);
  assert.ok(service.maxInFlight >= 2, `calls ran concurrently (the service saw ${service.maxInFlight} at once)`);
  assert.notDeepEqual(service.answered, service.requested, 'the service answered out of request order, so order was restored by the operator');
  assert.equal(service.requested.length, 60, 'one call per record');
});

test('unordered: results as calls complete, but never across a watermark', async () => {
  // The first order of each group of ten takes 150 ms, the others answer at once: it comes last in its group.
  service.behaviour = { latency: (order) => (order % 10 === 0 ? 150 : 0) };
  await withEnv({ ASYNC_CAPACITY: '20', ASYNC_ORDERED: 'false' }, async () => {
    const job = await testPipeline('test/fixtures/async/watermarks.ts');
    const source = job.source(0);
    const groups = [orders(0, 10), orders(10, 20), orders(20, 30)];
    groups.forEach((group, g) => {
      source.push(...group);
      job.advanceWatermark((g + 1) * 10_000);
    });
    await job.settled();
    await job.finish();
    const seen = job.sink(0).values() as Array<{ id: number; watermark: number }>;
    assert.deepEqual(seen.map((r) => r.id).sort((a, b) => a - b), orders(0, 30).map((o) => o.id), 'every result once');
    // Each result arrives while the watermark is the one before its group's: no result overtakes a watermark that followed
    // its record, and no watermark overtakes a record that came before it.
    for (const r of seen) assert.equal(r.watermark, Math.floor(r.id / 10) === 0 ? -Infinity : Math.floor(r.id / 10) * 10_000, `order ${r.id} came out under the watermark of its group`);
    const ids = seen.map((r) => r.id);
    for (let g = 0; g < 3; g++) {
      const group = ids.slice(g * 10, g * 10 + 10);
      assert.deepEqual([...group].sort((a, b) => a - b), orders(g * 10, g * 10 + 10).map((o) => o.id), `group ${g} stays within its watermarks`);
      assert.equal(group[9], g * 10, `the slow call of group ${g} comes out last: results leave as they complete`);
    }
  });
});

test('a failed call fails the job under test at the step that waits for it (pipec/testing stops at the first dead letter)', async () => {
  service.behaviour = { fails: (order) => order === 3 };
  await withEnv({ ASYNC_CAPACITY: '4', ASYNC_ORDERED: 'true' }, async () => {
    const job = await testPipeline(FILE);
    job.source(0).push(...orders(0, 6));
    await assert.rejects(job.settled(), /the asyncMap call failed: the user service answered 500 for u3/);
  });
});

test('local.mjs: timeouts and failed calls go to the dead-letter file with the reason and location, the job goes on', async () => {
  service.behaviour = { latency: () => 5, hangs: (order) => order === 7 || order === 21, fails: (order) => order === 12 };
  service.reset();
  // The build function reads its settings from the environment, at build time and again when the bundle starts.
  const settings = { ASYNC_CAPACITY: '4', ASYNC_ORDERED: 'true', ASYNC_TIMEOUT: '300ms' };
  const built = await withEnv(settings, () => buildFile(FILE));
  assert.deepEqual(built.diagnostics, []);
  const dir = tempDir();
  const deadLetters = path.join(dir, 'dead.jsonl');
  const run = await runBundle(path.join(isolate(built.outDir!), 'local.mjs'), ['--dead-letter', deadLetters], { ...settings, ASYNC_SERVICE: service.url });
  assert.equal(run.status, 0, run.stderr);
  const expected = orders(0, 40).filter((o) => ![7, 12, 21].includes(o.id)).map(resultOf);
  assert.deepEqual(lines(run.stdout), expected, 'every other result, in input order');
  const letters = lines(fs.readFileSync(deadLetters, 'utf8')).map((l) => JSON.parse(l) as { reason: string; location?: string; raw: string });
  assert.deepEqual(letters.map((l) => JSON.parse(l.raw).id), [7, 12, 21]);
  const byId = new Map(letters.map((l) => [JSON.parse(l.raw).id as number, l]));
  assert.match(byId.get(7)!.reason, /did not complete within its timeout of 300 ms/);
  assert.equal(byId.get(7)!.location, 'test/fixtures/async/enrich.ts:21:6', 'a timeout names the asyncMap call');
  assert.match(byId.get(12)!.reason, /the asyncMap call failed: the user service answered 500 for u5/);
  assert.match(byId.get(12)!.location ?? '', /^test\/fixtures\/async\/enrich\.ts:14:/, 'a failure names the line that threw');
  // The same job as a single-process stage worker (a one-stage job's stage-0.mjs).
  const worker = await runBundle(path.join(isolate(built.outDir!), 'stage-0.mjs'), ['--dead-letter', path.join(dir, 'worker-dead.jsonl')], { ...settings, ASYNC_SERVICE: service.url });
  assert.equal(worker.status, 0, worker.stderr);
  assert.deepEqual(lines(worker.stdout), expected);
  assert.deepEqual(lines(fs.readFileSync(path.join(dir, 'worker-dead.jsonl'), 'utf8')).map((l) => JSON.parse(JSON.parse(l).raw).id), [7, 12, 21]);
});

test('local.mjs: a full asyncMap stops its source (backpressure): it never holds more than capacity records', async () => {
  service.behaviour = { latency: () => 10 };
  service.reset();
  const built = await buildFile('test/fixtures/async/backpressure.ts');
  assert.deepEqual(built.diagnostics, []);
  const port = 19_700 + Math.floor(Math.random() * 200);
  const running = runBundle(path.join(isolate(built.outDir!), 'local.mjs'), [], { ASYNC_SERVICE: service.url, PIPEC_METRICS_PORT: String(port) });
  // What the asyncMap holds = records that entered it (user gauge before it) − results that left it (user counter after it), read together from /metrics.
  let most = 0, samples = 0, done = false, last = '';
  void running.then(() => { done = true; });
  const value = (text: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  while (!done) {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    if (text.includes('bp_entered')) { samples++; last = text; most = Math.max(most, value(text, 'bp_entered') - value(text, 'bp_left')); }
    await new Promise((r) => setTimeout(r, 5));
  }
  const run = await running;
  assert.equal(run.status, 0, run.stderr);
  assert.equal(lines(run.stdout).length, 300, 'every record came through');
  assert.ok(service.maxInFlight <= 5, `at most capacity (5) calls in flight, the service saw ${service.maxInFlight}`);
  assert.ok(samples >= 5, `/metrics was read while the job ran (${samples} times)`);
  assert.ok(most <= 5, `the source waited for room: the asyncMap never held more than its capacity (5), it held ${most}`);
  // User metrics in local.mjs carry the operator's labels like a stage worker's (stage, operator, uid, task; pipeline).
  assert.match(last, /^bp_entered\{stage="1",operator="keyedProcess",uid="keyedProcess",task="0",pipeline="async-backpressure"\} \d+$/m);
  assert.match(last, /^bp_left\{stage="1",operator="process",uid="process",task="0",pipeline="async-backpressure"\} \d+$/m);
});

test('pipec/testing: user metrics of process functions, read with job.metric', async () => {
  service.behaviour = {};
  const job = await testPipeline('test/fixtures/async/backpressure.ts');
  job.source(0).push(...Array.from({ length: 12 }, (_, id) => ({ id })));
  await job.settled();
  assert.equal(job.sink(0).values().length, 12);
  assert.equal(await job.metric('bp_left'), 12);
  assert.equal(await job.metric('bp_left', { operator: 'process', task: 0 }), 12);
  assert.equal(await job.metric('bp_entered'), 12, 'the gauge holds the last value set');
  assert.equal(await job.metric('bp_left', { operator: 'keyedProcess' }), 0);
  await job.finish();
});

test('pipec/testing: an async open() that fetches a table from the service finishes before the first record', async () => {
  service.behaviour = { latency: (order) => (order === -1 ? 300 : 0) }; // the table takes 300 ms
  const job = await testPipeline('test/fixtures/async/kafka-lifecycle.ts');
  job.source(0).push({ user: 'ann', page: 'u1' }, { user: 'bob', page: 'u2' }, { user: 'cy', page: 'nope' });
  assert.deepEqual(job.sink(0).values().sort(), ['ann:one', 'bob:two', 'cy:missing']);
  assert.equal(await job.metric('lifecycle_visits', { user: 'ann' }), 1);
  await job.finish();
});
