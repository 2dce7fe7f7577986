// The MySQL and Redis sinks against real servers, each job run as local.mjs and as a stage worker
// (they read Kafka): mysql.upsert through a 30 s MySQL outage (its own MariaDB, killed with SIGKILL
// and started again; the stage worker's /healthz says why it is stuck), mysql.insert exactly-once
// across kill -9 (an auto-increment id makes every duplicate a row of its own) with the rows the
// table's constraints reject in the dead-letter output with the server's message, and redis.set /
// redis.hset values and TTLs. Every check compares the whole table (or keyspace) with what the
// input says it must hold.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type mysql from 'mysql2/promise';
import { buildFile, tempDir } from './helpers.ts';
import { deleteTopics, freshName, kafkaBrokers, produce, readMessagesUntil, startWorker, waitForLog } from './kafka-helpers.ts';
import { freePort, freshDatabase, ownMariadb, privateMariadb, privateRedis, rows } from './mysql-helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const processes: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
before(() => { kafkaBrokers(); });
after(async () => {
  for (const p of processes) p.kill('SIGKILL');
  for (const c of cleanups) await c().catch(() => undefined);
});

function start(script: string, args: string[], env: Record<string, string>): { worker: ChildProcess; log: string[] } {
  const log: string[] = [];
  const worker = startWorker(script, args, env, log);
  processes.push(worker);
  return { worker, log };
}

async function stop(worker: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (worker.exitCode !== null) return worker.exitCode;
  const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
  worker.kill(signal);
  return exited;
}

/** Polls `check` until it returns true (or the time is up); returns its last result. */
async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await check().catch(() => false);
    if (ok || Date.now() > deadline) return ok;
    await sleep(300);
  }
}

function healthz(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', (error) => resolve({ status: 0, body: error.message }));
  });
}

/** Builds a fixture with RUN and DB set as its workers will see them. */
async function buildWith(file: string, vars: Record<string, string>) {
  Object.assign(process.env, vars);
  const built = await buildFile(file);
  assert.deepEqual(built.diagnostics, []);
  return built.outDir!;
}

test('mysql.upsert through a 30 s MySQL outage (local.mjs and a stage worker): retried, nothing lost, the table ends exactly as the input says; /healthz says 503 meanwhile', { timeout: 240_000 }, async () => {
  const server = await ownMariadb();
  cleanups.push(async () => server.stop());
  const ids = 300;
  const input = Array.from({ length: 6000 }, (_, i) => ({ id: i % ids, v: `v${i}`, seq: i }));
  const expected = new Map(input.map((u) => [u.id, `${u.v}/${u.seq}`]));
  const jobs = await Promise.all(['local', 'worker'].map(async (kind) => {
    const db = await freshDatabase(server.url, 'pipec_up_');
    await db.sql.query('CREATE TABLE latest (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL, seq INT NOT NULL)');
    const run = freshName(`up${kind[0]}`);
    cleanups.push(() => deleteTopics(run));
    const out = await buildWith('test/fixtures/mysql/kafka-upsert.ts', { RUN: run, DB: db.name });
    return { kind, db, run, out };
  }));
  const metricsPort = await freePort();
  const started = jobs.map((job) => {
    const env = { RUN: job.run, DB: job.db.name, PIPEC_MYSQL_URL: server.url, PIPEC_HEALTH_GRACE_MS: '4000', PIPEC_CHECKPOINT_DIR: tempDir('pipec-up-') };
    return job.kind === 'local'
      ? start(path.join(job.out, 'local.mjs'), [], env)
      : start(path.join(job.out, 'stage-0.mjs'), ['--metrics-port', String(metricsPort)], env);
  });
  for (const job of jobs) await produce(`${job.run}-in`, input.slice(0, 2000));
  const written = async (sql: mysql.Connection) => Number((await rows<{ n: number }>(sql, 'SELECT COUNT(*) AS n FROM latest'))[0].n);
  assert.ok(await until(async () => (await Promise.all(jobs.map((j) => written(j.db.sql)))).every((n) => n > 0), 60_000), 'both jobs write before the outage');

  server.kill();
  const downAt = Date.now();
  for (const job of jobs) await produce(`${job.run}-in`, input.slice(2000, 4000));
  // Past the grace period the stage worker's /healthz names the database.
  const unhealthy = await until(async () => { const h = await healthz(metricsPort); return h.status === 503 && /mysql 127\.0\.0\.1:\d+ unreachable/.test(h.body); }, 25_000);
  const health = await healthz(metricsPort);
  await sleep(Math.max(0, 30_000 - (Date.now() - downAt)));
  server.start();
  for (const job of jobs) await produce(`${job.run}-in`, input.slice(4000));

  for (const [i, job] of jobs.entries()) {
    const table = async () => new Map((await rows<{ id: number; v: string; seq: number }>(job.db.sql, 'SELECT id, v, seq FROM latest')).map((r) => [Number(r.id), `${r.v}/${r.seq}`]));
    // The admin connection of the test died with the server: reconnect.
    job.db.sql = await (await import('./mysql-helpers.ts')).connectTo(`${server.url}${job.db.name}`);
    await until(async () => JSON.stringify([...(await table())].sort()) === JSON.stringify([...expected].sort()), 60_000);
    const actual = await table();
    const wrong = [...expected].filter(([id, v]) => actual.get(id) !== v).slice(0, 5);
    assert.deepEqual(wrong, [], `${job.kind}: every id holds its last update\n${started[i].log.join('').slice(-2000)}`);
    assert.equal(actual.size, ids, `${job.kind}: one row per id`);
    assert.match(started[i].log.join(''), /lost the connection to the server; retrying/, `${job.kind}: the connection was retried`);
  }
  assert.ok(unhealthy, `/healthz said 503 for the database: ${health.status} ${health.body}`);
  assert.equal((await healthz(metricsPort)).status, 200, 'healthy again once the database answers');
  for (const { worker, log } of started) assert.equal(await stop(worker, 'SIGTERM'), 0, log.join('').slice(-2000));
  for (const job of jobs) await job.db.drop();
});

/** The input of the insert jobs: entries the `log` table takes, and some its constraints reject. */
function insertInput(count: number) {
  const input = Array.from({ length: count }, (_, i) => {
    if (i % 997 === 5) return { seq: i, note: 'a note far too long for the column' };
    if (i % 1009 === 7) return { seq: -i, note: 'negative' };
    return { seq: i, note: `n${i % 100}` };
  });
  const good = input.filter((e) => e.seq >= 0 && e.note.length <= 12).map((e) => e.seq);
  const bad = input.filter((e) => !(e.seq >= 0 && e.note.length <= 12)).map((e) => e.seq);
  return { input, good, bad };
}

async function insertTable(url: string) {
  const db = await freshDatabase(url, 'pipec_ins_');
  cleanups.push(db.drop);
  await db.sql.query('CREATE TABLE log (id BIGINT AUTO_INCREMENT PRIMARY KEY, seq INT NOT NULL, note VARCHAR(12) NOT NULL, CONSTRAINT non_negative CHECK (seq >= 0))');
  return db;
}

/** Every seq of the log table with how often it is there. */
async function seqCounts(sql: mysql.Connection): Promise<Map<number, number>> {
  return new Map((await rows<{ seq: number; n: number }>(sql, 'SELECT seq, COUNT(*) AS n FROM log GROUP BY seq')).map((r) => [Number(r.seq), Number(r.n)]));
}

function checkExactlyOnce(counts: Map<number, number>, good: number[], log: string): void {
  const doubled = [...counts].filter(([, n]) => n > 1).slice(0, 5);
  const missing = good.filter((s) => !counts.has(s)).slice(0, 5);
  const extra = [...counts.keys()].filter((s) => !good.includes(s)).slice(0, 5);
  assert.deepEqual(doubled, [], `no row written twice\n${log.slice(-2000)}`);
  assert.deepEqual(missing, [], 'no row missing');
  assert.deepEqual(extra, [], 'no row that is not in the input');
}

async function leftoverXa(sql: mysql.Connection): Promise<string[]> {
  return (await rows<{ data: string }>(sql, 'XA RECOVER')).map((r) => String(r.data)).filter((d) => d.startsWith('pipec-'));
}

test('mysql.insert is exactly-once across kill -9 in local.mjs; rejected rows go to the dead-letter file with the server message', { timeout: 240_000 }, async () => {
  const url = await privateMariadb();
  const db = await insertTable(url);
  const run = freshName('insl');
  cleanups.push(() => deleteTopics(run));
  const out = await buildWith('test/fixtures/mysql/kafka-insert.ts', { RUN: run, DB: db.name });
  const { input, good, bad } = insertInput(20_000);
  await produce(`${run}-in`, input);
  const deadLetters = path.join(tempDir('pipec-ins-'), 'dead.jsonl');
  const env = { RUN: run, DB: db.name, PIPEC_MYSQL_URL: url, PIPEC_CHECKPOINT_DIR: tempDir('pipec-ins-ckpt-') };
  const args = ['--dead-letter', deadLetters];
  let job = start(path.join(out, 'local.mjs'), args, env);
  const count = async () => [...(await seqCounts(db.sql)).values()].reduce((a, b) => a + b, 0);
  await until(async () => (await count()) >= 4000, 60_000);
  await sleep(Math.random() * 300);
  await stop(job.worker, 'SIGKILL');
  const logs = [job.log];
  job = start(path.join(out, 'local.mjs'), args, env);
  logs.push(job.log);
  await until(async () => (await count()) >= good.length, 90_000);
  await sleep(1000);
  checkExactlyOnce(await seqCounts(db.sql), good, logs.map((l) => l.join('')).join('\n'));
  const dead = fs.readFileSync(deadLetters, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { reason: string; raw: string });
  assert.deepEqual([...new Set(dead.map((d) => (JSON.parse(d.raw) as { seq: number }).seq))].sort((a, b) => a - b), [...bad].sort((a, b) => a - b), 'every rejected row is a dead letter');
  assert.ok(dead.every((d) => /Data too long for column 'note'|CONSTRAINT `non_negative` failed/.test(d.reason)), `the server's message is the reason: ${dead[0]?.reason}`);
  assert.equal(await stop(job.worker, 'SIGTERM'), 0, job.log.join('').slice(-2000));
  assert.deepEqual(await leftoverXa(db.sql), [], 'no XA transaction left prepared');
});

test('mysql.insert is exactly-once across kill -9 in a stage worker; rejected rows go to the DLQ topic with the server message', { timeout: 240_000 }, async () => {
  const url = await privateMariadb();
  const db = await insertTable(url);
  const run = freshName('insw');
  cleanups.push(() => deleteTopics(run));
  const out = await buildWith('test/fixtures/mysql/kafka-insert.ts', { RUN: run, DB: db.name });
  const { input, good, bad } = insertInput(20_000);
  await produce(`${run}-in`, input.slice(0, 10_000));
  const env = { RUN: run, DB: db.name, PIPEC_MYSQL_URL: url, PIPEC_CHECKPOINT_DIR: tempDir('pipec-insw-') };
  let job = start(path.join(out, 'stage-0.mjs'), [], env);
  const count = async () => [...(await seqCounts(db.sql)).values()].reduce((a, b) => a + b, 0);
  await until(async () => (await count()) >= 3000, 60_000);
  await sleep(Math.random() * 300);
  await stop(job.worker, 'SIGKILL');
  await produce(`${run}-in`, input.slice(10_000));
  const logs = [job.log];
  job = start(path.join(out, 'stage-0.mjs'), [], env);
  logs.push(job.log);
  await waitForLog(job.log, /task (restored from its checkpoint|started with empty state)/, 60_000);
  await until(async () => (await count()) >= good.length, 90_000);
  await sleep(1000);
  checkExactlyOnce(await seqCounts(db.sql), good, logs.map((l) => l.join('')).join('\n'));
  const dlq = await readMessagesUntil(`${run}-dlq`, (m) => new Set(m.map((r) => r.value)).size >= bad.length, 30_000);
  const seqs = [...new Set(dlq.map((m) => (JSON.parse(m.value) as { seq: number }).seq))].sort((a, b) => a - b);
  assert.deepEqual(seqs, [...bad].sort((a, b) => a - b), 'every rejected row is in the DLQ topic');
  assert.ok(dlq.every((m) => /Data too long for column 'note'|CONSTRAINT `non_negative` failed/.test(m.headers['pipec-error'])), `the server's message is in pipec-error: ${dlq[0]?.headers['pipec-error']}`);
  assert.equal(await stop(job.worker, 'SIGTERM'), 0, job.log.join('').slice(-2000));
  assert.deepEqual(await leftoverXa(db.sql), [], 'no XA transaction left prepared');
});

test('redis.set with a TTL and redis.hset (local.mjs and a stage worker): the latest value of every key, TTLs set, a refused command is a dead letter', { timeout: 180_000 }, async () => {
  const redis = await privateRedis();
  cleanups.push(async () => redis.stop());
  for (const kind of ['local', 'worker']) {
    const run = freshName(`rds${kind[0]}`);
    cleanups.push(() => deleteTopics(run));
    const out = await buildWith('test/fixtures/mysql/kafka-redis.ts', { RUN: run });
    // HSET on a string key fails with WRONGTYPE: the records of group 'bad' are dead letters.
    await redis.client.set(`${run}:h:bad`, 'a string');
    const input = Array.from({ length: 3000 }, (_, i) => ({ user: `u${i % 40}`, group: i % 250 === 3 ? 'bad' : `g${i % 4}`, score: i }));
    const deadLetters = path.join(tempDir('pipec-rds-'), 'dead.jsonl');
    await produce(`${run}-in`, input);
    const env = { RUN: run, PIPEC_REDIS_URL: redis.url, PIPEC_CHECKPOINT_DIR: tempDir('pipec-rds-ckpt-') };
    const job = start(path.join(out, kind === 'local' ? 'local.mjs' : 'stage-0.mjs'), ['--dead-letter', deadLetters], env);
    const latest = new Map(input.map((s) => [s.user, String(s.score)]));
    const hashes = new Map<string, Map<string, string>>();
    for (const s of input) if (s.group !== 'bad') { if (!hashes.has(s.group)) hashes.set(s.group, new Map()); hashes.get(s.group)!.set(s.user, String(s.score)); }
    const values = async () => Promise.all([...latest.keys()].map((u) => redis.client.get(`${run}:score:${u}`)));
    await until(async () => (await values()).every((v, i) => v === [...latest.values()][i]), 60_000);
    assert.deepEqual(await values(), [...latest.values()], `${kind}: every user's latest score\n${job.log.join('').slice(-2000)}`);
    for (const u of latest.keys()) {
      const ttl = await redis.client.pttl(`${run}:score:${u}`);
      assert.ok(ttl > 0 && ttl <= 60_000, `${kind}: ${u} expires within the TTL (${ttl} ms)`);
    }
    for (const [group, fields] of hashes) assert.deepEqual(await redis.client.hgetall(`${run}:h:${group}`), Object.fromEntries(fields), `${kind}: hash ${group}`);
    assert.equal(await redis.client.ttl(`${run}:h:g0`), -1, `${kind}: the hash has no TTL`);
    await until(async () => fs.existsSync(deadLetters) && fs.readFileSync(deadLetters, 'utf8').split('\n').filter(Boolean).length >= input.filter((s) => s.group === 'bad').length, 20_000);
    const dead = fs.readFileSync(deadLetters, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { reason: string; raw: string });
    assert.deepEqual(dead.map((d) => (JSON.parse(d.raw) as { score: number }).score), input.filter((s) => s.group === 'bad').map((s) => s.score), `${kind}: the records whose HSET Redis refused`);
    assert.match(dead[0].reason, /WRONGTYPE/);
    assert.equal(await stop(job.worker, 'SIGTERM'), 0, job.log.join('').slice(-2000));
  }
});
