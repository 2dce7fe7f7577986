/**
 * `npm run bench -- mysql [--records N] [--rounds N]` against the private MariaDB
 * (scripts/mariadb.mjs, started when it does not answer) and the Kafka broker:
 *
 * - upsert: N rows (ids 0..N-1, all already in the table, so every row is an
 *   update) by pipec's mysql.upsert (a generator job, local.mjs; its "job
 *   finished" time, which includes the sink's last flush) against a plain
 *   mysql2 loop of one INSERT … ON DUPLICATE KEY UPDATE per 1,000 rows on the
 *   same table (plain.ts), in fresh processes, alternating; target: pipec /
 *   plain ≥ 0.85.
 * - cdc: N row changes already in the binlog (inserts in transactions of
 *   1,000 rows) read by mysql.cdc from the GTID position before them into a
 *   Kafka topic (local.mjs, JSON change events): rows/s between the first and
 *   the last event arriving in the topic (its end offset, polled).
 * Medians of the rounds, with the load average before and after.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import { deleteTopics, freshName, kafkaBrokers } from '../../test/kafka-helpers.ts';
import { buildPipeline, median, root, timeJob } from '../lib.ts';

const MARIADB_PORT = Number(process.env.PIPEC_MARIADB_PORT ?? 13306);
const url = `mysql://root@127.0.0.1:${MARIADB_PORT}/`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function server(): Promise<{ sql: mysql.Connection; stopAfter: boolean }> {
  try {
    return { sql: await mysql.createConnection({ uri: url, multipleStatements: true }), stopAfter: false };
  } catch {
    execFileSync(process.execPath, [path.join(root, 'scripts/mariadb.mjs'), 'up'], { stdio: 'inherit' });
    return { sql: await mysql.createConnection({ uri: url, multipleStatements: true }), stopAfter: true };
  }
}

async function fillUpsertTable(sql: mysql.Connection, db: string, records: number): Promise<void> {
  await sql.query(`CREATE TABLE \`${db}\`.bench_upsert (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, n INT NOT NULL)`);
  for (let at = 0; at < records; at += 5000) {
    const rows = Array.from({ length: Math.min(5000, records - at) }, (_, j) => [at + j, 'initial', 0]);
    await sql.query(`INSERT INTO \`${db}\`.bench_upsert (id, v, n) VALUES ?`, [rows]);
  }
}

async function upsertBench(sql: mysql.Connection, db: string, records: number, rounds: number): Promise<{ pipec: number[]; plain: number[] }> {
  await fillUpsertTable(sql, db, records);
  const env = { BENCH_DB: db, BENCH_RECORDS: String(records), PIPEC_MYSQL_URL: url };
  const runs = { pipec: [] as number[], plain: [] as number[] };
  for (let round = 1; round <= rounds; round++) {
    for (const variant of ['plain', 'pipec'] as const) {
      const tag = `${round}${variant[1]}`;
      let ms: number;
      if (variant === 'pipec') {
        process.env.BENCH_ROUND = tag;
        Object.assign(process.env, env);
        ms = timeJob(await buildPipeline('bench/mysql/upsert-pipeline.ts'), { ...env, BENCH_ROUND: tag }).ms;
      } else {
        const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench/mysql/plain.ts')], { encoding: 'utf8', env: { ...process.env, ...env, BENCH_ROUND: tag } });
        if (run.status !== 0) throw new Error(run.stderr);
        ms = Number(run.stdout.trim());
      }
      const [[check]] = await sql.query(`SELECT COUNT(*) AS n FROM \`${db}\`.bench_upsert WHERE v = ?`, [`r${tag}-0`]) as unknown as [[{ n: number }]];
      if (Number(check.n) !== 1) throw new Error(`${variant} did not write round ${tag}`);
      runs[variant].push((records / ms) * 1000);
      process.stderr.write(`upsert round ${round}/${rounds} ${variant}: ${Math.round(runs[variant].at(-1)!).toLocaleString('en')} rows/s\n`);
    }
  }
  return runs;
}

async function cdcBench(sql: mysql.Connection, db: string, records: number, rounds: number): Promise<number[]> {
  const kafka = new Kafka({ clientId: 'bench', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const prefix = freshName('bench-cdc');
  const rates: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      await sql.query(`DROP TABLE IF EXISTS \`${db}\`.bench_cdc; CREATE TABLE \`${db}\`.bench_cdc (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, qty INT NOT NULL, price DECIMAL(12,2) NOT NULL)`);
      const [[pos]] = await sql.query('SELECT @@gtid_binlog_pos AS gtid') as unknown as [[{ gtid: string }]];
      for (let at = 0; at < records; at += 1000) {
        const rows = Array.from({ length: Math.min(1000, records - at) }, (_, j) => [at + j, `item ${at + j}`, (at + j) % 13, `${(at + j) % 1000}.25`]);
        await sql.query(`INSERT INTO \`${db}\`.bench_cdc (id, name, qty, price) VALUES ?`, [rows]);
      }
      const topic = `${prefix}-${round}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      const env = { BENCH_DB: db, BENCH_GTID: pos.gtid, BENCH_OUT: topic, PIPEC_MYSQL_URL: url, PIPEC_CHECKPOINT_DIR: path.join(root, 'bench/.out/cdc-checkpoints', topic) };
      Object.assign(process.env, env);
      const out = await buildPipeline('bench/mysql/cdc-pipeline.ts');
      const child = spawn(process.execPath, [path.join(out, 'local.mjs')], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d) => { stderr += d; });
      let first: { at: number; count: number } | null = null;
      try {
        for (const deadline = Date.now() + 600_000; ;) {
          if (Date.now() > deadline) throw new Error('cdc did not finish in 10 minutes');
          if (child.exitCode !== null) throw new Error(`the cdc job exited: ${stderr.slice(-2000)}`);
          const [partition] = await admin.fetchTopicOffsets(topic);
          const count = Number(partition.high);
          const now = performance.now();
          if (count > 0 && !first) first = { at: now, count };
          if (first && count >= records) { rates.push(((records - first.count) / (now - first.at)) * 1000); break; }
          await sleep(20);
        }
      } finally {
        child.kill('SIGTERM');
      }
      process.stderr.write(`cdc round ${round}/${rounds}: ${Math.round(rates.at(-1)!).toLocaleString('en')} rows/s\n`);
    }
  } finally {
    await admin.disconnect();
    await deleteTopics(prefix);
  }
  return rates;
}

export async function mysqlBench(options: { records: number; rounds: number }): Promise<void> {
  const { sql, stopAfter } = await server();
  const db = `bench_${Date.now().toString(36)}`;
  await sql.query(`CREATE DATABASE \`${db}\``);
  const loadBefore = os.loadavg();
  try {
    const upsert = await upsertBench(sql, db, options.records, options.rounds);
    const cdc = await cdcBench(sql, db, options.records, options.rounds);
    const fmt = (n: number) => Math.round(n).toLocaleString('en').padStart(10);
    console.log(`mysql: ${options.records.toLocaleString('en')} rows, ${options.rounds} rounds, medians (node ${process.version}, private MariaDB on 127.0.0.1:${MARIADB_PORT})`);
    console.log(`upsert, plain mysql2 loop (1,000 per statement) ${fmt(median(upsert.plain))} rows/s`);
    console.log(`upsert, pipec mysql.upsert (batchSize 1,000)    ${fmt(median(upsert.pipec))} rows/s`);
    console.log(`pipec / plain: ${(median(upsert.pipec) / median(upsert.plain)).toFixed(2)} (target >= 0.85)`);
    console.log(`cdc, binlog -> Kafka topic (JSON change events)  ${fmt(median(cdc))} rows/s`);
    console.log(`load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} after`);
  } finally {
    await sql.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    await sql.end();
    if (stopAfter) execFileSync(process.execPath, [path.join(root, 'scripts/mariadb.mjs'), 'down'], { stdio: 'inherit' });
  }
}
