// The MySQL and Redis connectors at build time and at start-up: the README's example builds, `pipec
// build` reports each sink's guarantee, the stages list the servers they need (and no server address
// or credential set at build time reaches a bundle), and mysql.cdc on a server without a ROW binlog
// stops with an error that says how to enable one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { sinkGuarantees } from '../compiler/phases/5-generate/workers.ts';
import { buildFile, runNode, tempDir } from './helpers.ts';
import { connectTo, ownMariadb } from './mysql-helpers.ts';

test('the README example builds: guarantees per sink, servers from the environment only', async () => {
  const secret = 'mysql://admin:s3cr3t-password@db.internal:3306/shop';
  process.env.PIPEC_MYSQL_URL = secret;
  process.env.PIPEC_REDIS_URL = 'redis://:r3dis-secret@cache.internal:6379';
  try {
    const built = await buildFile('test/fixtures/mysql/readme-example.ts');
    assert.deepEqual(built.diagnostics, []);
    assert.deepEqual(sinkGuarantees(built.plan!).map((s) => `${s.sink}: ${s.guarantee}`), [
      'sink mysql.upsert(copy.orders): idempotent (end state exactly-once)',
      'sink mysql.upsert(mirror.orders): idempotent (end state exactly-once)',
      'sink mysql.insert(audit.new_orders): exactly-once',
      'sink redis.set(): idempotent (end state exactly-once)',
    ]);
    const manifest = JSON.parse(fs.readFileSync(path.join(built.outDir!, 'manifest.json'), 'utf8')) as { stages: Array<{ env: string[]; connectors: string[] }> };
    assert.ok(manifest.stages.some((s) => s.env.includes('PIPEC_MYSQL_URL') && s.env.includes('PIPEC_REDIS_URL')), 'the stages name the servers they need');
    for (const file of fs.readdirSync(built.outDir!, { recursive: true }).map(String)) {
      const full = path.join(built.outDir!, file);
      if (!fs.statSync(full).isFile()) continue;
      const text = fs.readFileSync(full, 'utf8');
      assert.ok(!text.includes('s3cr3t-password') && !text.includes('r3dis-secret') && !text.includes('db.internal'), `${file} holds no server address or credential`);
    }
  } finally {
    delete process.env.PIPEC_MYSQL_URL;
    delete process.env.PIPEC_REDIS_URL;
  }
});

test('mysql.cdc on a server without a ROW binlog fails with how to enable it', { timeout: 120_000 }, async () => {
  const server = await ownMariadb({ binlog: false });
  try {
    const sql = await connectTo(server.url);
    await sql.query('CREATE DATABASE nobinlog; CREATE TABLE nobinlog.items (id INT PRIMARY KEY, name VARCHAR(10))');
    await sql.end();
    process.env.DB = 'nobinlog';
    const built = await buildFile('test/fixtures/mysql/cdc-mirror.ts');
    assert.deepEqual(built.diagnostics, []);
    const run = runNode(path.join(built.outDir!, 'local.mjs'), [], { env: { DB: 'nobinlog', PIPEC_MYSQL_URL: server.url, EVENTS_FILE: path.join(tempDir(), 'events.txt') } });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /mysql.cdc reads the server's binlog, but on mysql 127\.0\.0\.1:\d+ log_bin is OFF/);
    assert.match(run.stderr, /binlog_format = ROW, binlog_row_image = FULL and server_id = 1/);
  } finally {
    server.stop();
  }
});
