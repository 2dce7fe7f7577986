// mysql.cdc against the private MariaDB with a ROW binlog (scripts/mariadb.mjs): a table with rows
// and a writer that keeps inserting, updating and deleting (single statements and multi-row
// transactions) while the job reads its snapshot and then its binlog. The job
// (test/fixtures/mysql/cdc-mirror.ts) mirrors the table with mysql.upsert and logs every change
// event; the log is replayed strictly — an insert of a key that exists, or an update or delete whose
// `before` is not the key's current row, is an error — so a change missed or seen twice at the
// snapshot hand-over, or after a kill -9 and restart, fails the test. The replayed log and the mirror
// must both equal the source table at the end.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type mysql from 'mysql2/promise';
import { buildFile, tempDir } from './helpers.ts';
import { deleteTopics, freshName, kafkaBrokers, readUntil, startWorker, waitForLog } from './kafka-helpers.ts';
import { freshDatabase, privateMariadb, rows } from './mysql-helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const processes: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
let url: string;
before(async () => { url = await privateMariadb(); });
after(async () => {
  for (const p of processes) p.kill('SIGKILL');
  for (const c of cleanups) await c().catch(() => undefined);
});

interface Item { id: number; name: string; qty: number; price: string }
const text = (item: Item) => JSON.stringify({ id: Number(item.id), name: item.name, qty: Number(item.qty), price: String(item.price) });

/** Creates `items` with `count` rows and an empty `mirror` of the same shape. */
async function createTables(sql: mysql.Connection, count: number): Promise<void> {
  await sql.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, qty INT NOT NULL, price DECIMAL(12,2) NOT NULL)');
  await sql.query('CREATE TABLE mirror LIKE items');
  for (let i = 0; i < count; i += 500) {
    const values = Array.from({ length: Math.min(500, count - i) }, (_, j) => `(${i + j + 1}, 'item ${i + j + 1}', ${(i + j) % 7}, ${((i + j) % 100) + 0.5})`);
    await sql.query(`INSERT INTO items VALUES ${values.join(',')}`);
  }
}

/** Random changes to `items` until stopped: inserts, updates (also of the primary key), deletes, some in multi-statement transactions. */
function startWriter(sql: mysql.Connection, firstId: number, existing: number[]): { stop(): Promise<number>; times: number[]; removed: Set<number> } {
  let stopped = false;
  let next = firstId;
  const ids = new Set(existing);
  const times: number[] = [];
  /** Keys deleted (or moved to another key). */
  const removed = new Set<number>();
  const pick = () => { const list = [...ids]; return list[Math.floor(Math.random() * list.length)]; };
  const one = async () => {
    const r = Math.random();
    if (r < 0.35 || ids.size < 10) {
      const id = next++;
      await sql.query('INSERT INTO items VALUES (?, ?, ?, ?)', [id, `new ${id}`, id % 5, `${id % 50}.25`]);
      ids.add(id);
    } else if (r < 0.75) {
      await sql.query('UPDATE items SET qty = qty + 1, name = CONCAT(name, "+"), price = price + 1 WHERE id = ?', [pick()]);
    } else if (r < 0.8) {
      // A primary-key change: a delete of the old key and an insert of the new one for a mirror.
      const from = pick();
      const to = next++;
      await sql.query('UPDATE items SET id = ? WHERE id = ?', [to, from]);
      ids.delete(from); ids.add(to); removed.add(from);
    } else {
      const id = pick();
      await sql.query('DELETE FROM items WHERE id = ?', [id]);
      ids.delete(id); removed.add(id);
    }
  };
  const done = (async () => {
    let count = 0;
    while (!stopped) {
      if (Math.random() < 0.2) {
        await sql.query('START TRANSACTION');
        for (let i = 0; i < 4; i++) await one();
        await sql.query('COMMIT');
        count += 4;
      } else {
        await one();
        count++;
      }
      times.push(Date.now());
      await sleep(2);
    }
    return count;
  })();
  return { stop: async () => { stopped = true; return done; }, times, removed };
}

/** Replays change events strictly onto an empty table; returns the rows and every inconsistency found. */
function replay(lines: string[]): { state: Map<number, string>; problems: string[]; snapshotRows: number } {
  const state = new Map<number, string>();
  const problems: string[] = [];
  let snapshotRows = 0;
  for (const [i, line] of lines.entries()) {
    const e = JSON.parse(line) as { op: string; before: Item | null; after: Item | null; snapshot: boolean };
    if (e.snapshot) snapshotRows++;
    if (e.before) {
      const current = state.get(Number(e.before.id));
      if (current !== text(e.before)) problems.push(`event ${i} (${e.op}): before ${text(e.before)} but the key holds ${current ?? 'nothing'}`);
      state.delete(Number(e.before.id));
    }
    if (e.after) {
      if (e.op === 'insert' && state.has(Number(e.after.id))) problems.push(`event ${i}: insert of ${e.after.id}, which exists`);
      state.set(Number(e.after.id), text(e.after));
    }
  }
  return { state, problems, snapshotRows };
}

async function table(sql: mysql.Connection, name: string): Promise<Map<number, string>> {
  return new Map((await rows<Item>(sql, `SELECT * FROM ${name} ORDER BY id`)).map((r) => [Number(r.id), text(r)]));
}

/**
 * The first rows in which two tables (JSON of [id, row] pairs) differ, as short strings (a whole table in a
 * failure message stalls the runner); rows of `actual` that the source no longer has are allowed when
 * `staleAllowed(id)` says so.
 */
function difference(actualJson: string, expectedJson: string, staleAllowed: (id: number) => boolean = () => false): string[] {
  const actual = new Map(JSON.parse(actualJson) as Array<[number, string]>);
  const expected = new Map(JSON.parse(expectedJson) as Array<[number, string]>);
  const out: string[] = [];
  for (const [id, row] of expected) if (actual.get(id) !== row) out.push(`${id}: expected ${row}, got ${actual.get(id) ?? 'nothing'}`);
  for (const [id, row] of actual) if (!expected.has(id) && !staleAllowed(id)) out.push(`${id}: not in the source, got ${row}`);
  return out.slice(0, 8);
}

/** Waits until the mirror and the replayed event log both hold what the source holds. */
async function converge(sql: mysql.Connection, readEvents: () => Promise<string[]>, log: () => string, staleAllowed?: (id: number) => boolean): Promise<{ problems: string[]; snapshotRows: number; events: number; stale: number }> {
  const source = await table(sql, 'items');
  const expected = JSON.stringify([...source]);
  const deadline = Date.now() + 90_000;
  let last = { mirror: '', replayed: '', problems: [] as string[], snapshotRows: 0, events: 0, stale: 0 };
  while (Date.now() < deadline) {
    const events = await readEvents();
    const r = replay(events);
    const mirror = await table(sql, 'mirror');
    last = { mirror: JSON.stringify([...mirror]), replayed: JSON.stringify([...r.state].sort((a, b) => a[0] - b[0])), problems: r.problems, snapshotRows: r.snapshotRows, events: events.length, stale: [...mirror.keys()].filter((id) => !source.has(id)).length };
    if (difference(last.mirror, expected, staleAllowed).length === 0 && last.replayed === expected) break;
    await sleep(500);
  }
  assert.deepEqual(difference(last.mirror, expected, staleAllowed), [], `the mirror equals the source table\n${log().slice(-3000)}`);
  assert.deepEqual(difference(last.replayed, expected), [], `the replayed change log (${last.events} events) equals the source table\n${log().slice(-3000)}`);
  return last;
}

/** A job's worker whose exit can be awaited. */
function start(script: string, env: Record<string, string>, logs: string[][], args: string[] = []): ChildProcess {
  const log: string[] = [];
  logs.push(log);
  const worker = startWorker(script, args, env, log);
  processes.push(worker);
  return worker;
}

async function stop(worker: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (worker.exitCode !== null) return worker.exitCode;
  const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
  worker.kill(signal);
  return exited;
}

/** A topic's records (read committed) once no new one came for 1.5 s. */
function readSettled(topic: string): Promise<string[]> {
  let count = -1;
  let changed = Date.now();
  return readUntil(topic, (values) => {
    if (values.length !== count) { count = values.length; changed = Date.now(); }
    return count > 0 && Date.now() - changed > 1500;
  }, 30_000);
}

const fileLines = (file: string) => async () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

test('snapshot to binlog hand-over under concurrent writes (local.mjs): every change once, the mirror equals the source', { timeout: 180_000 }, async () => {
  const db = await freshDatabase(url, 'pipec_cdc_');
  cleanups.push(db.drop);
  await createTables(db.sql, 3000);
  const run = freshName('cdc-handover-');
  const events = path.join(tempDir('pipec-cdc-'), 'events.txt');
  const env = { RUN: run, DB: db.name, CHUNK: '10', EVENTS_FILE: events, PIPEC_MYSQL_URL: url, PIPEC_CHECKPOINT_DIR: tempDir('pipec-cdc-ckpt-') };
  process.env.RUN = run; process.env.DB = db.name; process.env.CHUNK = '10'; process.env.EVENTS_FILE = events;
  const built = await buildFile('test/fixtures/mysql/cdc-mirror.ts');
  assert.deepEqual(built.diagnostics, []);
  const logs: string[][] = [];
  const writerSql = await (await import('./mysql-helpers.ts')).connectTo(db.url);
  cleanups.push(() => writerSql.end());
  const writer = startWriter(writerSql, 100_000, Array.from({ length: 3000 }, (_, i) => i + 1));
  await sleep(300);
  const job = start(path.join(built.outDir!, 'local.mjs'), env, logs);
  await waitForLog(logs[0], /snapshot read: following the binlog/, 60_000);
  await sleep(1500);
  const writes = await writer.stop();
  const log = () => logs.map((l) => l.join('')).join('\n');
  const result = await converge(db.sql, fileLines(events), log);
  assert.deepEqual(result.problems.slice(0, 5), [], 'no change event missing or doubled');
  // The writer ran during the snapshot: its changes were committed between the snapshot's start and its end.
  const times = (pattern: string) => logs[0].join('').split('\n').filter((l) => l.includes(pattern)).map((l) => (JSON.parse(l) as { time: number }).time);
  const [snapshotStart] = times('"msg":"snapshot started"');
  const [snapshotEnd] = times('snapshot read: following the binlog');
  const during = writer.times.filter((t) => t > snapshotStart && t < snapshotEnd).length;
  process.stderr.write(`  ${writes} writes, ${during} during the snapshot (${snapshotEnd - snapshotStart} ms), ${result.events} events (${result.snapshotRows} snapshot rows)\n`);
  assert.ok(during > 0, 'writes were committed while the snapshot was read');
  assert.ok(result.snapshotRows >= 2900, 'the snapshot rows came as inserts with source.snapshot');
  assert.equal(await stop(job, 'SIGTERM'), 0, log().slice(-2000));
});

test('mysql.cdc resumes from its checkpoint after kill -9 (local.mjs, during the snapshot and in the binlog): every change once', { timeout: 240_000 }, async () => {
  const db = await freshDatabase(url, 'pipec_cdc_');
  cleanups.push(db.drop);
  await createTables(db.sql, 4000);
  const run = freshName('cdc-kill-');
  const events = path.join(tempDir('pipec-cdc-'), 'events.txt');
  const env = { RUN: run, DB: db.name, CHUNK: '5', EVENTS_FILE: events, PIPEC_MYSQL_URL: url, PIPEC_CHECKPOINT_DIR: tempDir('pipec-cdc-ckpt-') };
  process.env.RUN = run; process.env.DB = db.name; process.env.CHUNK = '5'; process.env.EVENTS_FILE = events;
  const built = await buildFile('test/fixtures/mysql/cdc-mirror.ts');
  assert.deepEqual(built.diagnostics, []);
  const script = path.join(built.outDir!, 'local.mjs');
  const logs: string[][] = [];
  const log = () => logs.map((l) => l.join('')).join('\n');
  const writerSql = await (await import('./mysql-helpers.ts')).connectTo(db.url);
  cleanups.push(() => writerSql.end());
  const writer = startWriter(writerSql, 100_000, Array.from({ length: 4000 }, (_, i) => i + 1));
  let job = start(script, env, logs);
  await waitForLog(logs[0], /"msg":"snapshot started"/, 60_000);
  await sleep(30 + Math.random() * 100);
  await stop(job, 'SIGKILL');
  const midSnapshot = !/snapshot read: following the binlog/.test(logs[0].join(''));
  job = start(script, env, logs);
  await waitForLog(logs[1], /snapshot read: following the binlog|"phase":"binlog"/, 60_000);
  await sleep(1500 + Math.random() * 1000);
  await stop(job, 'SIGKILL');
  job = start(script, env, logs);
  await waitForLog(logs[2], /mysql.cdc started/, 60_000);
  assert.match(logs[2].join(''), /"phase":"binlog"/, 'the third run resumed in the binlog');
  await sleep(1000);
  const writes = await writer.stop();
  // A restart during the snapshot reads the rest of the table at a newer point: the change log stays
  // exactly-once, but the idempotent mirror may keep rows the killed run wrote after its last
  // checkpoint that were deleted before the restart (README: mysql.cdc). Only those may be extra.
  const result = await converge(db.sql, fileLines(events), log, midSnapshot ? (id) => writer.removed.has(id) : undefined);
  const resumedSnapshot = /"segment":2/.test(logs[1].join(''));
  process.stderr.write(`  ${writes} writes, ${result.events} events; first kill ${midSnapshot ? 'during the snapshot' : 'after it'}${resumedSnapshot ? ', resumed the snapshot in a second segment' : ''}, ${result.stale} stale mirror rows\n`);
  assert.deepEqual(result.problems.slice(0, 5), [], `no change event missing or doubled\n${log().slice(-2000)}`);
  assert.equal(await stop(job, 'SIGTERM'), 0, log().slice(-2000));
});

test('mysql.cdc as stage workers: the binlog reader killed with kill -9 resumes from its GTID, every change once', { timeout: 240_000 }, async () => {
  kafkaBrokers();
  const db = await freshDatabase(url, 'pipec_cdc_');
  cleanups.push(db.drop);
  await createTables(db.sql, 2000);
  const run = freshName('cdcw');
  cleanups.push(() => deleteTopics(run));
  const env = { RUN: run, DB: db.name, CHUNK: '20', EVENTS: 'kafka', PIPEC_MYSQL_URL: url, PIPEC_TOPIC_PREFIX: '', PIPEC_CHECKPOINT_DIR: tempDir('pipec-cdc-ckpt-') };
  process.env.RUN = run; process.env.DB = db.name; process.env.CHUNK = '20'; process.env.EVENTS = 'kafka';
  const built = await buildFile('test/fixtures/mysql/cdc-mirror.ts');
  delete process.env.EVENTS;
  assert.deepEqual(built.diagnostics, []);
  const logs: string[][] = [];
  const log = () => logs.map((l) => l.join('')).join('\n');
  const writerSql = await (await import('./mysql-helpers.ts')).connectTo(db.url);
  cleanups.push(() => writerSql.end());
  const writer = startWriter(writerSql, 100_000, Array.from({ length: 2000 }, (_, i) => i + 1));
  // Stage 0 reads the binlog; the rebalanced changes feed two stages: the mirror (1) and the event log (2).
  const sinks = [start(path.join(built.outDir!, 'stage-1.mjs'), env, logs), start(path.join(built.outDir!, 'stage-2.mjs'), env, logs)];
  let reader = start(path.join(built.outDir!, 'stage-0.mjs'), env, logs);
  await waitForLog(logs[2], /snapshot read: following the binlog/, 60_000);
  await sleep(1500 + Math.random() * 1000);
  await stop(reader, 'SIGKILL');
  reader = start(path.join(built.outDir!, 'stage-0.mjs'), env, logs);
  await waitForLog(logs[3], /mysql.cdc started/, 60_000);
  assert.match(logs[3].join(''), /"phase":"binlog"/, 'the restarted reader resumed in the binlog');
  await sleep(1500);
  const writes = await writer.stop();
  const result = await converge(db.sql, () => readSettled(`${run}-events`), log);
  process.stderr.write(`  ${writes} writes, ${result.events} events\n`);
  assert.deepEqual(result.problems.slice(0, 5), [], `no change event missing or doubled\n${log().slice(-2000)}`);
  assert.equal(await stop(reader, 'SIGTERM'), 0, logs[3].join('').slice(-2000));
  for (const [i, worker] of sinks.entries()) assert.equal(await stop(worker, 'SIGTERM'), 0, logs[i].join('').slice(-2000));
});
