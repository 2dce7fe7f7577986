/**
 * Connections of the MySQL connectors (mysql2): the server from
 * PIPEC_MYSQL_URL (never from the pipeline or the bundle), every session set
 * up the same way (UTC, strict SQL mode, dates and big numbers as text so no
 * value is rounded on the way in), and the one retry loop every operation
 * goes through: a lost connection is retried with backoff (the server is
 * marked unreachable meanwhile, for the worker's /healthz) until the job
 * stops; anything else is the caller's to handle.
 *
 * Also the classification of server errors: a row the server rejects
 * (constraint, value) is a dead letter; a lost connection or a transient
 * condition (deadlock, lock wait) is retried; anything else (unknown table,
 * access denied, syntax) fails the job with the server's message.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import type { Logger } from '../../log.ts';
import { unreachableServers } from '../types.ts';

/** A connection of ours (mysql2's promise API). */
export type Connection = mysql.Connection;

/** The server of PIPEC_MYSQL_URL: how to connect, its default database, and a name for logs without the password. */
export interface MysqlServer {
  readonly options: mysql.ConnectionOptions;
  readonly database: string | null;
  readonly label: string;
}

/** The server the connectors use, from PIPEC_MYSQL_URL (`mysql://user:password@host:port/database`). */
export function mysqlServer(): MysqlServer {
  const url = process.env.PIPEC_MYSQL_URL;
  if (!url) throw new Error('the MySQL connectors need PIPEC_MYSQL_URL (mysql://user:password@host:port/database)');
  let parsed: URL;
  try { parsed = new URL(url); } catch { throw new Error('PIPEC_MYSQL_URL is not a URL: expected mysql://user:password@host:port/database'); }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || null;
  const options: mysql.ConnectionOptions = {
    host: parsed.hostname || '127.0.0.1',
    port: Number(parsed.port || 3306),
    user: decodeURIComponent(parsed.username || 'root'),
    password: decodeURIComponent(parsed.password),
    ...(database ? { database } : {}),
    // Values come as text where a JavaScript value could round them: DECIMAL and BIGINT as strings, dates as
    // strings in UTC, JSON as text; columns.ts converts them to the declared field types.
    supportBigNumbers: true, bigNumberStrings: true, decimalNumbers: false, dateStrings: true, timezone: 'Z', jsonStrings: true,
    charset: 'utf8mb4', connectTimeout: 10_000, enableKeepAlive: true, multipleStatements: false,
  };
  return { options, database, label: `mysql ${options.host}:${options.port}` };
}

/** Opens a connection and sets up its session: UTC for TIMESTAMP columns, strict mode so a bad value is an error and not a silent truncation. */
export async function connect(server: MysqlServer): Promise<Connection> {
  const connection = await mysql.createConnection(server.options);
  // A server-side disconnect must not become an uncaught 'error' event; the next query reports it.
  connection.on('error', () => undefined);
  try {
    await connection.query("SET time_zone = '+00:00', sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_ALL_TABLES')");
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return connection;
}

/** `table` or `db.table` → the database, the table, and the quoted name for SQL. */
export function tableName(server: MysqlServer, name: string): { db: string; table: string; sql: string } {
  const dot = name.indexOf('.');
  const db = dot >= 0 ? name.slice(0, dot) : server.database;
  const table = dot >= 0 ? name.slice(dot + 1) : name;
  if (!db) throw new Error(`table '${name}' names no database: write it as db.table, or put the database in PIPEC_MYSQL_URL (mysql://…/db)`);
  return { db, table, sql: `${quoteId(db)}.${quoteId(table)}` };
}

/** A quoted identifier. */
export function quoteId(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** mysql2's error fields. */
interface ServerError { code?: string; errno?: number; sqlState?: string; fatal?: boolean; message?: string }

/** Errors of a row the server refused: the row is a dead letter, the job goes on. */
const ROW_ERRORS = new Set([
  1048, // column cannot be null
  1062, // duplicate entry (a unique key)
  1136, // column count does not match
  1264, // out of range
  1292, // incorrect date/time value
  1364, // field has no default value
  1366, // incorrect value for the column's type
  1406, // data too long
  1451, 1452, // foreign key constraint
  1265, // data truncated
  1690, // value out of range in an expression
  3140, // invalid JSON text
  3819, // check constraint (MySQL)
  4025, // check constraint (MariaDB; also a JSON column's json_valid)
]);

/** The server refused this row (a constraint, a value of the wrong type): a dead letter, not a failure. */
export function isRowError(error: unknown): boolean {
  const e = error as ServerError;
  if (!e || e.fatal) return false;
  return (e.errno !== undefined && ROW_ERRORS.has(e.errno)) || e.sqlState?.startsWith('22') === true || e.sqlState?.startsWith('23') === true;
}

/** Errors after which the same operation may succeed when tried again: a lost or refused connection, a deadlock, a lock wait, a server shutting down. */
export function isRetryable(error: unknown): boolean {
  const e = error as ServerError;
  if (!e) return false;
  if (e.fatal) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR'].includes(e.code ?? '')) return true;
  // 1040 too many connections, 1053 shutdown, 1205 lock wait timeout, 1213 deadlock, 1927 connection killed, 2006/2013 gone away
  return [1040, 1053, 1205, 1213, 1927, 2006, 2013].includes(e.errno ?? 0);
}

/** The server's message of an error, as a dead letter or a log gives it. */
export function serverMessage(error: unknown): string {
  const e = error as ServerError;
  return e?.code && e.errno ? `${e.code} (${e.errno}): ${e.message}` : (e?.message ?? String(error));
}

/**
 * Runs `operation` until it succeeds: after an error that `isRetryable` says
 * may pass (a lost connection), it waits (100 ms doubling to 5 s) and runs it
 * again, with the server marked unreachable meanwhile. Other errors, and a
 * stop (`signal`), end it with the error. `operation` gets the attempt number
 * and must itself reconnect when its connection is gone.
 */
export async function retrying<T>(server: MysqlServer, log: Logger, what: string, operation: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await operation(attempt);
      if (attempt > 0) {
        unreachableServers.delete(server.label);
        log.info({ server: server.label, attempts: attempt + 1 }, `${what}: the server answers again`);
      }
      return result;
    } catch (error) {
      if (!isRetryable(error) || signal?.aborted) throw error;
      if (!unreachableServers.has(server.label)) unreachableServers.set(server.label, { since: Date.now(), reason: serverMessage(error) });
      if (attempt === 0 || attempt % 20 === 0) log.warn({ server: server.label, err: serverMessage(error), attempt }, `${what}: lost the connection to the server; retrying`);
      await sleep(Math.min(100 * 2 ** Math.min(attempt, 6), 5000), undefined, signal ? { signal } : undefined).catch(() => undefined);
      if (signal?.aborted) throw error;
    }
  }
}

/** Closes a connection without waiting for a server that may be gone. */
export function drop(connection: Connection | null | undefined): void {
  if (!connection) return;
  try { connection.destroy(); } catch { /* already closed */ }
}
