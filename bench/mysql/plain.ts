/**
 * The baseline of `npm run bench -- mysql`: the same rows as upsert-pipeline.ts written by a plain
 * mysql2 loop — one multi-row INSERT … ON DUPLICATE KEY UPDATE per 1,000 rows, one after another on
 * one connection — timed from connecting to the last statement's answer (as pipec's time includes
 * its sink connecting); prints the milliseconds.
 */
import mysql from 'mysql2/promise';

const records = Number(process.env.BENCH_RECORDS ?? 100_000);
const round = process.env.BENCH_ROUND ?? '0';
const started = performance.now();
const connection = await mysql.createConnection({ uri: process.env.PIPEC_MYSQL_URL! });
for (let at = 0; at < records; at += 1000) {
  const rows: Array<[number, string, number]> = [];
  for (let i = at; i < Math.min(records, at + 1000); i++) rows.push([i, `r${round}-${i}`, i % 97]);
  await connection.query(`INSERT INTO \`${process.env.BENCH_DB}\`.bench_upsert (id, v, n) VALUES ? ON DUPLICATE KEY UPDATE v = VALUES(v), n = VALUES(n)`, [rows]);
}
process.stdout.write(`${performance.now() - started}\n`);
await connection.end();
