// local.mjs with checkpoint: { store: 'redis' } (runtime/internal/local/checkpoints.ts):
// a job with a Kafka source and a rolling aggregate, killed with SIGKILL while
// it consumes and restarted while its Redis is down, then Redis killed again
// under the running job; state resumes from the checkpoints in Redis, so every
// rolling total is right and nothing is lost (the Kafka sink of a one-process
// job is at-least-once: values since the last checkpoint may come twice).
// The Redis is a private redis-server (AOF, fsync always) on a free port, so
// the test can stop it without touching the machine's.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildFile, tempDir } from './helpers.ts';
import { compareRollingTotals, deleteTopics, freshName, kafkaBrokers, produce, readUntil, rollingTotalLines, startWorker, waitForLog } from './kafka-helpers.ts';

const processes: ChildProcess[] = [];
let run: string;
before(() => { kafkaBrokers(); run = freshName('krc'); });
after(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await deleteTopics(run);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); }); });
}

/** A private redis-server with an append-only file fsynced on every write, in `dir`; resolves once it answers. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
  processes.push(server);
  for (let i = 0; i < 100; i++) {
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    const up = await client.connect().then(() => client.ping()).then(() => true, () => false);
    client.disconnect();
    if (up) return server;
    await sleep(100);
  }
  throw new Error('redis-server did not start');
}

async function stopRedis(server: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  await exited;
}

test('local.mjs with the redis store survives kill -9, a restart while Redis is down and a Redis crash under load: every rolling total right, nothing lost', { timeout: 240_000 }, async () => {
  process.env.RUN = run;
  const built = await buildFile('test/fixtures/kafka/redis-totals.ts');
  assert.deepEqual(built.diagnostics, []);
  const local = path.join(built.outDir!, 'local.mjs');
  const port = await freePort();
  const redisDir = tempDir('pipec-redis-');
  let redis = await startRedis(port, redisDir);
  const env = { RUN: run, PIPEC_REDIS_URL: `redis://127.0.0.1:${port}`, PIPEC_LOG_LEVEL: 'info' };
  const input = Array.from({ length: 30_000 }, (_, i) => ({ user: `u${(i * 7) % 13}`, n: 1 + (i % 5) }));
  const expected = rollingTotalLines(input);
  await produce(`${run}-in`, input.slice(0, 15_000));
  const logs: string[][] = [];
  const start = () => { const log: string[] = []; logs.push(log); const w = startWorker(local, [], env, log); processes.push(w); return w; };

  let job = start();
  await readUntil(`${run}-totals`, (v) => v.length >= 3000, 60_000);
  await sleep(300 + Math.random() * 300);
  job.kill('SIGKILL');
  await produce(`${run}-in`, input.slice(15_000));
  // The job starts while Redis is down: it waits for its checkpoints, then restores them.
  await stopRedis(redis);
  job = start();
  await sleep(1500);
  redis = await startRedis(port, redisDir);
  await waitForLog(logs[1], /restoring from the last checkpoint/);
  // Redis crashes under the running job: checkpoints wait, the client reconnects, the job goes on.
  await sleep(300);
  await stopRedis(redis);
  await sleep(1000);
  redis = await startRedis(port, redisDir);
  const output = await readUntil(`${run}-totals`, (v) => [...expected].every((e) => v.includes(e)), 120_000);
  const { wrong, missing } = compareRollingTotals(output, expected);
  const allLogs = logs.map((l) => l.join('')).join('\n');
  assert.deepEqual(wrong.slice(0, 5), [], `no wrong rolling total\n${allLogs.slice(-3000)}`);
  assert.deepEqual(missing.slice(0, 5), [], 'nothing lost');
  // The checkpoints are in Redis, and the job resumed from them.
  const client = new Redis(port, '127.0.0.1');
  try {
    assert.ok(await client.llen(`pipec:checkpoints:${run}`) > 0);
  } finally {
    client.disconnect();
  }
  assert.match(logs[1].join(''), /"store":"redis pipec:checkpoints:[^"]+","checkpoint":\d+/);
  const stopped = new Promise<number | null>((resolve) => job.once('exit', resolve));
  job.kill('SIGTERM');
  assert.equal(await stopped, 0, logs[1].join('').slice(-2000));
});
