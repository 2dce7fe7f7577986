// Every mapped column type, read by mysql.table and by mysql.cdc (snapshot and binlog) as the declared
// field types of the row type (test/fixtures/mysql/typed-row.ts), and written back by mysql.insert:
// BIGINT (signed, unsigned, as bigint and as text), DECIMAL (as text, and as a number when exact),
// DATETIME(3) / DATE / TIMESTAMP as Date, DATETIME(6) as text, JSON parsed and as text, BLOB as a
// Buffer, VARBINARY as a Uint8Array, TINYINT(1) as boolean, DOUBLE, VARCHAR (non-ASCII), NULL. A
// BIGINT past 2^53 declared `number` cannot be read without loss: its row is a dead letter.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildFile, runNode, tempDir } from './helpers.ts';
import { startWorker, waitForLog } from './kafka-helpers.ts';
import { freshDatabase, privateMariadb, rows } from './mysql-helpers.ts';
import type { ChildProcess } from 'node:child_process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: Array<() => Promise<void>> = [];
const processes: ChildProcess[] = [];
let url: string;
before(async () => { url = await privateMariadb(); });
after(async () => { for (const p of processes) p.kill('SIGKILL'); for (const c of cleanups) await c().catch(() => undefined); });

const DDL = `CREATE TABLE typed (
  id INT PRIMARY KEY, big BIGINT NOT NULL, big_text BIGINT NOT NULL, ubig BIGINT UNSIGNED NOT NULL,
  exact DECIMAL(30,10) NOT NULL, money DECIMAL(10,2) NOT NULL, at DATETIME(3) NOT NULL, at_micro DATETIME(6) NOT NULL,
  stamp TIMESTAMP(3) NULL DEFAULT NULL, day DATE NOT NULL, doc JSON NOT NULL, doc_text JSON NOT NULL, payload BLOB NOT NULL,
  bin VARBINARY(8) NOT NULL, flag TINYINT(1) NOT NULL, ratio DOUBLE NOT NULL, name VARCHAR(40) NOT NULL, maybe INT NULL,
  safe BIGINT NOT NULL)`;
const ROWS = `INSERT INTO typed VALUES
  (1, 9223372036854775807, -9223372036854775808, 18446744073709551615, 12345678901234567890.0123456789, 1234.50,
   '2024-02-29 23:59:59.999', '2024-01-02 03:04:05.123456', '2024-06-01 12:00:00.250', '1999-12-31',
   '{"a":[1,2,{"b":null}],"s":"é"}', '[1,"x"]', x'00ff10', x'deadbeef', 1, 0.1, 'héllo ✓', NULL, 9007199254740991),
  (2, -1, 0, 0, -0.0000000001, 0.10, '1970-01-01 00:00:00.000', '2000-01-01 00:00:00.000000', NULL, '2024-01-01',
   'true', '{}', x'', x'', 0, -1.5e300, '', 42, -9007199254740991),
  (3, 1, 1, 1, 1, 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00', NULL, '2024-01-01', '1', '1', x'01', x'01', 1, 1, 'lossy', 1, 9007199254740993)`;

/** Rows 1 and 2 as the declared types must give them (describe() of typed-row.ts). */
const EXPECTED = [
  {
    id: 'number:1', big: 'bigint:9223372036854775807', big_text: 'string:"-9223372036854775808"', ubig: 'bigint:18446744073709551615',
    exact: 'string:"12345678901234567890.0123456789"', money: 'number:1234.5', at: 'Date:2024-02-29T23:59:59.999Z', at_micro: 'string:"2024-01-02 03:04:05.123456"',
    stamp: 'Date:2024-06-01T12:00:00.250Z', day: 'Date:1999-12-31T00:00:00.000Z', doc: 'object:{"a":[1,2,{"b":null}],"s":"é"}', doc_text: 'string:"[1,\\"x\\"]"',
    payload: 'Buffer:00ff10', bin: 'Buffer:deadbeef', flag: 'boolean:true', ratio: 'number:0.1', name: 'string:"héllo ✓"', maybe: 'null', safe: 'number:9007199254740991',
  },
  {
    id: 'number:2', big: 'bigint:-1', big_text: 'string:"0"', ubig: 'bigint:0',
    exact: 'string:"-0.0000000001"', money: 'number:0.1', at: 'Date:1970-01-01T00:00:00.000Z', at_micro: 'string:"2000-01-01 00:00:00.000000"',
    stamp: 'null', day: 'Date:2024-01-01T00:00:00.000Z', doc: 'boolean:true', doc_text: 'string:"{}"',
    payload: 'Buffer:', bin: 'Buffer:', flag: 'boolean:false', ratio: 'number:-1.5e+300', name: 'string:""', maybe: 'number:42', safe: 'number:-9007199254740991',
  },
];

/** A table's rows as text (binary columns as hex, JSON compared by value). */
async function render(sql: import('mysql2/promise').Connection, table: string): Promise<string[]> {
  const result = await rows<Record<string, unknown>>(sql, `SELECT * FROM ${table} ORDER BY id`);
  return result.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('hex') : k.startsWith('doc') ? JSON.stringify(typeof v === 'string' ? JSON.parse(v) : v) : String(v)]))));
}

test('mysql.table reads every mapped type as declared; mysql.insert writes them back unchanged; a row that does not fit is a dead letter', { timeout: 120_000 }, async () => {
  const db = await freshDatabase(url, 'pipec_types_');
  cleanups.push(db.drop);
  await db.sql.query(DDL);
  await db.sql.query('CREATE TABLE typed_copy LIKE typed');
  await db.sql.query(ROWS);
  const dir = tempDir('pipec-types-');
  process.env.DB = db.name;
  const built = await buildFile('test/fixtures/mysql/types-table.ts');
  assert.deepEqual(built.diagnostics, []);
  const manifest = JSON.parse(fs.readFileSync(path.join(built.outDir!, 'manifest.json'), 'utf8')) as { columnTypes: Record<string, Record<string, string>> };
  assert.deepEqual(manifest.columnTypes[0], {
    id: 'number', big: 'bigint', big_text: 'string', ubig: 'bigint', exact: 'string', money: 'number', at: 'date', at_micro: 'string', stamp: 'date?', day: 'date',
    doc: 'json', doc_text: 'string', payload: 'bytes', bin: 'bytes', flag: 'boolean', ratio: 'number', name: 'string', maybe: 'number?', safe: 'number',
  }, 'the compiler takes each column\'s type from the row type');
  const out = path.join(dir, 'rows.jsonl');
  const dead = path.join(dir, 'dead.jsonl');
  const run = runNode(path.join(built.outDir!, 'local.mjs'), ['--dead-letter', dead], { env: { DB: db.name, OUT: out, PIPEC_MYSQL_URL: url } });
  assert.equal(run.status, 0, run.stderr);
  const read = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
  // A Uint8Array field is read as a Buffer (which is a Uint8Array).
  assert.deepEqual(read, EXPECTED);
  const letters = fs.readFileSync(dead, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { reason: string; raw: string });
  assert.equal(letters.length, 1);
  assert.match(letters[0].reason, /column 'safe': 9007199254740993 is beyond the integers a number holds exactly/);
  assert.equal((JSON.parse(letters[0].raw) as { id: number }).id, 3);
  const source = await render(db.sql, 'typed WHERE id < 3');
  assert.deepEqual(await render(db.sql, 'typed_copy'), source, 'the copy holds exactly the rows read');
});

test('mysql.cdc maps every type the same way from the snapshot and from the binlog', { timeout: 120_000 }, async () => {
  const db = await freshDatabase(url, 'pipec_types_');
  cleanups.push(db.drop);
  await db.sql.query(DDL);
  await db.sql.query(ROWS);
  const out = path.join(tempDir('pipec-types-'), 'events.jsonl');
  process.env.DB = db.name;
  const built = await buildFile('test/fixtures/mysql/types-cdc.ts');
  assert.deepEqual(built.diagnostics, []);
  const log: string[] = [];
  const job = startWorker(path.join(built.outDir!, 'local.mjs'), ['--dead-letter', path.join(path.dirname(out), 'dead.jsonl')], { DB: db.name, OUT: out, PIPEC_MYSQL_URL: url, PIPEC_CHECKPOINT_DIR: tempDir('pipec-types-ckpt-') }, log);
  processes.push(job);
  await waitForLog(log, /snapshot read: following the binlog/, 60_000);
  // Through the binlog: a copy of row 1 as row 4, an update of row 2, the delete of row 1.
  await db.sql.query('INSERT INTO typed SELECT 4, big, big_text, ubig, exact, money, at, at_micro, stamp, day, doc, doc_text, payload, bin, flag, ratio, name, maybe, safe FROM typed WHERE id = 1');
  await db.sql.query("UPDATE typed SET name = 'changed', maybe = NULL, stamp = '2030-01-01 00:00:00.001' WHERE id = 2");
  await db.sql.query('DELETE FROM typed WHERE id = 1');
  const expected = [
    { op: 'insert', snapshot: true, row: EXPECTED[0] },
    { op: 'insert', snapshot: true, row: EXPECTED[1] },
    { op: 'insert', snapshot: false, row: { ...EXPECTED[0], id: 'number:4' } },
    { op: 'update', snapshot: false, row: { ...EXPECTED[1], name: 'string:"changed"', maybe: 'null', stamp: 'Date:2030-01-01T00:00:00.001Z' } },
    { op: 'delete', snapshot: false, row: EXPECTED[0] },
  ];
  const events = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown) : []);
  for (let i = 0; i < 100 && events().length < expected.length; i++) await sleep(200);
  assert.deepEqual(events(), expected, log.join('').slice(-2000));
  const stopped = new Promise<number | null>((resolve) => job.once('exit', resolve));
  job.kill('SIGTERM');
  assert.equal(await stopped, 0);
});
