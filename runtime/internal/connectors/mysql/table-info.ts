/**
 * What the connectors need to know about a table, from information_schema:
 * its columns (name → data type), its primary key (in key order) and its
 * JSON columns, and the
 * keyset query that reads it in primary-key chunks (`WHERE key > last ORDER
 * BY key LIMIT n`, with the row comparison spelled out so every server uses
 * the index).
 */
import { quoteId, type Connection } from './connection.ts';
import { sqlLiteral } from './columns.ts';

/** A table's columns and primary key. */
export interface TableInfo {
  /** `db`.`table`. */
  readonly sql: string;
  readonly name: string;
  /** Column name → information_schema DATA_TYPE (`int`, `varchar`, `decimal`, ...), in table order. */
  readonly columns: ReadonlyMap<string, string>;
  /** The primary key's columns in key order (empty: the table has none). */
  readonly primaryKey: readonly string[];
  /** JSON columns (MySQL's JSON type; MariaDB's JSON is LONGTEXT with a json_valid check). */
  readonly json: ReadonlySet<string>;
}

/** Reads a table's columns and primary key; a table that does not exist is an error saying so. */
export async function tableInfo(connection: Connection, db: string, table: string): Promise<TableInfo> {
  const [columns] = await connection.query<Array<{ name: string; type: string } & import('mysql2').RowDataPacket>>(
    'SELECT COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [db, table]);
  if (columns.length === 0) throw new Error(`table ${db}.${table} does not exist (or this user cannot see it)`);
  const [key] = await connection.query<Array<{ name: string } & import('mysql2').RowDataPacket>>(
    "SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION", [db, table]);
  const json = new Set(columns.filter((c) => String(c.type).toLowerCase() === 'json').map((c) => String(c.name)));
  // MariaDB: JSON columns are LONGTEXT with a CHECK (json_valid(`column`)) constraint (information_schema has it since 10.2).
  const [checks] = await connection.query<Array<{ clause: string } & import('mysql2').RowDataPacket>>(
    'SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?', [db, table]).catch(() => [[]] as unknown as [Array<{ clause: string } & import('mysql2').RowDataPacket>]);
  for (const { clause } of checks) {
    const match = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(clause).trim());
    if (match) json.add(match[1].replace(/``/g, '`'));
  }
  return {
    sql: `${quoteId(db)}.${quoteId(table)}`, name: `${db}.${table}`,
    columns: new Map(columns.map((c) => [String(c.name), String(c.type).toLowerCase()])),
    primaryKey: key.map((k) => String(k.name)),
    json,
  };
}

/** `(a, b) > (x, y)` spelled out as `a > x OR (a = x AND b > y)`. */
function after(key: readonly string[], last: readonly unknown[]): string {
  const terms = key.map((_, i) => [...key.slice(0, i).map((c, j) => `${quoteId(c)} = ${sqlLiteral(last[j])}`), `${quoteId(key[i])} > ${sqlLiteral(last[i])}`].join(' AND '));
  return terms.map((t) => `(${t})`).join(' OR ');
}

/** The query for the next chunk of a table in primary-key order, after the key `last` (null: from the start). */
export function chunkQuery(info: TableInfo, last: readonly unknown[] | null, chunkSize: number): string {
  const order = info.primaryKey.map(quoteId).join(', ');
  const where = last ? ` WHERE ${after(info.primaryKey, last)}` : '';
  return `SELECT * FROM ${info.sql}${where} ORDER BY ${order} LIMIT ${chunkSize}`;
}
