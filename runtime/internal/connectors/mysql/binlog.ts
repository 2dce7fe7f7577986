/**
 * The binlog side of `mysql.cdc`: is the server set up for it (a ROW binlog
 * with full row images; a clear error saying how to enable it otherwise),
 * where is it now, where does a consistent snapshot read from, and is a
 * transaction after a given point.
 *
 * A point is a binlog file and position plus, where the server has GTIDs,
 * the GTID position there (MariaDB: always with log_bin, `domain-server-seq`
 * per domain; MySQL: with gtid_mode=ON, the executed set `uuid:1-n`). A
 * reader resumes from the GTID position when there is one (it survives
 * binlog rotation and a failover within the replication topology), else
 * from the file and position.
 *
 * Consistent snapshots: MariaDB gives a lock-free one — START TRANSACTION
 * WITH CONSISTENT SNAPSHOT, then `binlog_snapshot_file` / `_position` in the
 * same session name the binlog point the snapshot sees (BINLOG_GTID_POS turns
 * it into a GTID position). MySQL 8 has no such status: the snapshot starts
 * under a brief FLUSH TABLES WITH READ LOCK, during which SHOW MASTER STATUS
 * (8.4: SHOW BINARY LOG STATUS) gives the point (needs the RELOAD privilege).
 */
import { GtidSet, MariadbGtidPosition } from '@vlasky/zongji';
import type { RowDataPacket } from 'mysql2';
import type { Connection, MysqlServer } from './connection.ts';

/** A place in the binlog. */
export interface BinlogPoint { file: string; position: number; gtid?: string }

/** What the reader needs to know about the server. */
export interface ServerFlavour { mariadb: boolean; gtids: boolean; version: string }

type Row = RowDataPacket & Record<string, unknown>;

/** Checks that the server writes a binlog mysql.cdc can read; throws an error saying how to enable it when not. */
export async function checkBinlog(connection: Connection, server: MysqlServer): Promise<ServerFlavour> {
  const [[row]] = await connection.query<Row[]>('SELECT VERSION() AS version, @@log_bin AS logBin, @@binlog_format AS format, @@binlog_row_image AS image, @@server_id AS serverId');
  const version = String(row.version);
  const mariadb = /mariadb/i.test(version);
  const problems: string[] = [];
  if (Number(row.logBin) !== 1) problems.push('log_bin is OFF');
  if (String(row.format).toUpperCase() !== 'ROW') problems.push(`binlog_format is ${row.format}`);
  if (String(row.image).toUpperCase() !== 'FULL') problems.push(`binlog_row_image is ${row.image}`);
  if (Number(row.serverId) === 0) problems.push('server_id is 0');
  if (problems.length) {
    throw new Error(`mysql.cdc reads the server's binlog, but on ${server.label} ${problems.join(', ')}. Start the server with a ROW binlog: in my.cnf [mysqld] set log_bin = mysql-bin, binlog_format = ROW, binlog_row_image = FULL and server_id = 1 (or start mysqld/mariadbd with --log-bin --binlog-format=ROW --binlog-row-image=FULL --server-id=1), then restart it; the connector's user also needs REPLICATION SLAVE and REPLICATION CLIENT`);
  }
  let gtids = mariadb;
  if (!mariadb) {
    const [[mode]] = await connection.query<Row[]>('SELECT @@gtid_mode AS mode');
    gtids = String(mode.mode).toUpperCase() === 'ON';
  }
  return { mariadb, gtids, version };
}

/** The binlog's end now (where 'latest' starts). */
export async function currentPoint(connection: Connection, flavour: ServerFlavour): Promise<BinlogPoint> {
  const status = await masterStatus(connection);
  if (flavour.mariadb) {
    const [[row]] = await connection.query<Row[]>('SELECT BINLOG_GTID_POS(?, ?) AS gtid', [status.file, status.position]);
    return { ...status, gtid: String(row.gtid ?? '') };
  }
  return status;
}

/** The binlog's start (where 'earliest' starts): the oldest file the server still has. */
export async function earliestPoint(connection: Connection, flavour: ServerFlavour): Promise<BinlogPoint> {
  const [logs] = await connection.query<Row[]>('SHOW BINARY LOGS');
  if (logs.length === 0) throw new Error('the server has no binlog files');
  // An empty GTID position streams from the oldest binlog (MariaDB and MySQL alike).
  return { file: String(logs[0].Log_name), position: 4, ...(flavour.gtids ? { gtid: '' } : {}) };
}

/** A given file and position, with its GTID position where the server can say it (MariaDB). */
export async function pointAt(connection: Connection, flavour: ServerFlavour, file: string, position: number): Promise<BinlogPoint> {
  if (!flavour.mariadb) return { file, position };
  const [[row]] = await connection.query<Row[]>('SELECT BINLOG_GTID_POS(?, ?) AS gtid', [file, position]);
  if (row.gtid === null) throw new Error(`the binlog has no position ${file}:${position}`);
  return { file, position, gtid: String(row.gtid) };
}

async function masterStatus(connection: Connection): Promise<{ file: string; position: number; executed?: string }> {
  let rows: Row[];
  try {
    [rows] = await connection.query<Row[]>('SHOW MASTER STATUS');
  } catch {
    [rows] = await connection.query<Row[]>('SHOW BINARY LOG STATUS'); // MySQL 8.4 and later
  }
  if (!rows[0]) throw new Error('SHOW MASTER STATUS returned nothing: the binlog is off');
  const executed = rows[0].Executed_Gtid_Set;
  return { file: String(rows[0].File), position: Number(rows[0].Position), ...(typeof executed === 'string' ? { executed: executed.replace(/\s/g, '') } : {}) };
}

/**
 * Starts a consistent-snapshot transaction on `connection` and returns the
 * binlog point it sees: every transaction committed before it is in the
 * snapshot, every later one in the binlog after it.
 */
export async function startSnapshot(connection: Connection, flavour: ServerFlavour): Promise<BinlogPoint> {
  if (flavour.mariadb) {
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [rows] = await connection.query<Row[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
    const value = (name: string) => rows.find((r) => String(r.Variable_name).toLowerCase() === name)?.Value;
    const file = String(value('binlog_snapshot_file'));
    const position = Number(value('binlog_snapshot_position'));
    const [[row]] = await connection.query<Row[]>('SELECT BINLOG_GTID_POS(?, ?) AS gtid', [file, position]);
    return { file, position, gtid: String(row.gtid ?? '') };
  }
  // MySQL: a global read lock for as long as it takes to start the transaction and read the binlog position.
  await connection.query('FLUSH TABLES WITH READ LOCK');
  try {
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const status = await masterStatus(connection);
    return { file: status.file, position: status.position, ...(flavour.gtids && status.executed !== undefined ? { gtid: status.executed } : {}) };
  } finally {
    await connection.query('UNLOCK TABLES');
  }
}

/** Orders binlog file names (`base.000012`): by their numeric suffix, then as text. */
function compareFiles(a: string, b: string): number {
  const na = Number(a.slice(a.lastIndexOf('.') + 1));
  const nb = Number(b.slice(b.lastIndexOf('.') + 1));
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether a transaction — its GTID, or (without GTIDs) the point where it
 * starts — comes after `point`, i.e. is not in a snapshot read at `point`.
 */
export function isAfter(point: BinlogPoint, transaction: { gtid?: string; start: BinlogPoint }): boolean {
  if (point.gtid !== undefined && transaction.gtid) {
    const position = point.gtid.includes(':') ? GtidSet.parse(point.gtid) : MariadbGtidPosition.parse(point.gtid);
    return position instanceof GtidSet ? !position.contains(transaction.gtid) : !position.covers(transaction.gtid);
  }
  const byFile = compareFiles(transaction.start.file, point.file);
  return byFile > 0 || (byFile === 0 && transaction.start.position >= point.position);
}
