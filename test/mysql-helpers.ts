/**
 * Helpers for tests against real MariaDB and Redis servers: the project's
 * private MariaDB with a ROW binlog (scripts/mariadb.mjs; started here when
 * it is not running, and then stopped when the test process exits), a
 * second private MariaDB that a test may kill (its own folder and port),
 * fresh databases, a private redis-server, and small SQL helpers.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { repoRoot, tempDir } from './helpers.ts';
import { freshName } from './kafka-helpers.ts';

const MARIADB_PORT = Number(process.env.PIPEC_MARIADB_PORT ?? 13306);
const script = path.join(repoRoot, 'scripts/mariadb.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

let started = false;

/** The private MariaDB's URL (no database): started with scripts/mariadb.mjs when it does not answer, and stopped at exit if started here. */
export async function privateMariadb(): Promise<string> {
  if (!(await answers(MARIADB_PORT))) {
    execFileSync(process.execPath, [script, 'up'], { stdio: 'inherit' });
    if (!started) process.on('exit', () => { spawnSync(process.execPath, [script, 'down'], { stdio: 'inherit' }); });
    started = true;
  }
  return `mysql://root@127.0.0.1:${MARIADB_PORT}/`;
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); }); });
}

/** A MariaDB of one test, in its own folder on its own port (with a ROW binlog unless `binlog: false`): `kill()` it (SIGKILL) and `start()` it again on the same data. */
export async function ownMariadb(options: { binlog?: boolean } = {}): Promise<{ url: string; port: number; start(): void; kill(): void; stop(): void }> {
  const port = await freePort();
  const home = tempDir('pipec-mariadb-');
  const env = { ...process.env, PIPEC_MARIADB_PORT: String(port), PIPEC_MARIADB_HOME: home, ...(options.binlog === false ? { PIPEC_MARIADB_BINLOG: 'off' } : {}) };
  const start = () => { execFileSync(process.execPath, [script, 'up'], { env, stdio: 'inherit' }); };
  const pid = () => Number(execFileSync('cat', [path.join(home, 'mariadb.pid')], { encoding: 'utf8' }));
  const kill = () => { try { process.kill(pid(), 'SIGKILL'); } catch { /* gone */ } };
  const stop = () => { spawnSync(process.execPath, [script, 'down'], { env, stdio: 'inherit' }); };
  start();
  process.on('exit', kill);
  return { url: `mysql://root@127.0.0.1:${port}/`, port, start, kill, stop };
}

/** A connection to a server URL (UTC, big numbers and dates as text, as the connectors read them). */
export async function connectTo(url: string): Promise<mysql.Connection> {
  return mysql.createConnection({ uri: url, timezone: 'Z', dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, multipleStatements: true });
}

/** A fresh database on a server; `drop()` removes it. */
export async function freshDatabase(url: string, prefix = 'pipec_'): Promise<{ name: string; url: string; sql: mysql.Connection; drop(): Promise<void> }> {
  const name = freshName(prefix).replace(/[^a-z0-9_]/gi, '_');
  const admin = await connectTo(url);
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.query(`USE \`${name}\``);
  return {
    name, url: `${url.replace(/\/$/, '')}/${name}`, sql: admin,
    drop: async () => { await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined); await admin.end().catch(() => undefined); },
  };
}

/** Rows of a query. */
export async function rows<T = Record<string, unknown>>(sql: mysql.Connection, query: string, values?: unknown[]): Promise<T[]> {
  const [result] = await sql.query(query, values);
  return result as T[];
}

/** A private redis-server on a free port (no persistence); resolves once it answers. */
export async function privateRedis(): Promise<{ url: string; client: Redis; stop(): void }> {
  const port = await freePort();
  const server: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  process.on('exit', () => server.kill('SIGKILL'));
  for (let i = 0; i < 100; i++) {
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    if (await client.connect().then(() => client.ping()).then(() => true, () => false)) {
      return { url: `redis://127.0.0.1:${port}`, client, stop: () => { client.disconnect(); server.kill('SIGKILL'); } };
    }
    client.disconnect();
    await sleep(100);
  }
  throw new Error('redis-server did not start');
}
