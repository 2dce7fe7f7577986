/**
 * The statements the MySQL sinks write: multi-row INSERT (with ON DUPLICATE
 * KEY UPDATE for upserts) and DELETE by key, built as SQL text with every
 * value escaped (columns.ts `sqlLiteral`), and the one way a batch is
 * written: in one statement, and when the server rejects a row of it (a
 * constraint, a value of the wrong type; the statement is rolled back whole)
 * again one row per statement, so the rows the server accepts are written
 * and each rejected one is reported with the server's message.
 */
import { isRowError, quoteId, serverMessage, type Connection } from './connection.ts';
import { sqlLiteral } from './columns.ts';
import type { TableInfo } from './table-info.ts';

/** A row as the sink writes it: field → value (fields are column names). */
export type Row = Record<string, unknown>;

/** Why a row cannot be written at all (a field that is no column, a value SQL cannot hold), or null. */
export function rowProblem(info: TableInfo, row: Row): string | null {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return `a ${row === null ? 'null' : Array.isArray(row) ? 'array' : typeof row} is not a row: the record must be an object whose fields are columns of ${info.name}`;
  for (const field of Object.keys(row)) {
    if (!info.columns.has(field)) return `field '${field}' is not a column of ${info.name} (its columns: ${[...info.columns.keys()].join(', ')})`;
    try { sqlLiteral(row[field]); } catch (error) { return `field '${field}': ${(error as Error).message}`; }
  }
  return null;
}

/** A value for a column: as sqlLiteral writes it, except that a boolean in a JSON column is JSON's true or false (not 1 or 0). */
function columnLiteral(info: TableInfo, column: string, value: unknown): string {
  if (typeof value === 'boolean' && info.json.has(column)) return value ? "'true'" : "'false'";
  return sqlLiteral(value);
}

/** The columns a batch writes: every field any of its rows has, in the table's column order. */
function columnsOf(info: TableInfo, rows: readonly Row[]): string[] {
  const present = new Set<string>();
  for (const row of rows) for (const field in row) present.add(field);
  return [...info.columns.keys()].filter((c) => present.has(c));
}

/** `INSERT INTO t (cols) VALUES (...), ...` (a field a row lacks is DEFAULT); with `upsertKey`, `ON DUPLICATE KEY UPDATE` of the other columns. */
export function insertStatement(info: TableInfo, rows: readonly Row[], upsertKey?: readonly string[]): string {
  const columns = columnsOf(info, rows);
  const values = rows.map((row) => `(${columns.map((c) => columnLiteral(info, c, row[c])).join(',')})`).join(',');
  let sql = `INSERT INTO ${info.sql} (${columns.map(quoteId).join(',')}) VALUES ${values}`;
  if (upsertKey) {
    const updated = columns.filter((c) => !upsertKey.includes(c));
    // Every column is a key column: nothing to update, but a duplicate must not fail.
    const assignments = updated.length ? updated.map((c) => `${quoteId(c)}=VALUES(${quoteId(c)})`) : [`${quoteId(upsertKey[0])}=${quoteId(upsertKey[0])}`];
    sql += ` ON DUPLICATE KEY UPDATE ${assignments.join(',')}`;
  }
  return sql;
}

/** `DELETE FROM t WHERE key IN (...)` (or the key columns compared one row at a time for a composite key). */
export function deleteStatement(info: TableInfo, key: readonly string[], rows: readonly Row[]): string {
  if (key.length === 1) return `DELETE FROM ${info.sql} WHERE ${quoteId(key[0])} IN (${rows.map((r) => sqlLiteral(r[key[0]])).join(',')})`;
  const match = rows.map((r) => `(${key.map((k) => `${quoteId(k)}=${sqlLiteral(r[k])}`).join(' AND ')})`);
  return `DELETE FROM ${info.sql} WHERE ${match.join(' OR ')}`;
}

/**
 * Writes rows with `statement(rows)` in statements of at most `batchSize`
 * rows. When the server rejects a row, the statement's rows are written one
 * by one; each row the server rejects goes to `rejected` with its message.
 * A lost connection or any other error is thrown (nothing of the failed
 * statement was written).
 */
export async function writeRows(connection: Connection, rows: readonly Row[], batchSize: number, statement: (rows: readonly Row[]) => string, rejected: (row: Row, message: string) => void): Promise<void> {
  for (let at = 0; at < rows.length; at += batchSize) {
    const batch = rows.slice(at, at + batchSize);
    try {
      await connection.query(statement(batch));
    } catch (error) {
      if (!isRowError(error)) throw error;
      for (const row of batch) {
        try {
          await connection.query(statement([row]));
        } catch (rowError) {
          if (!isRowError(rowError)) throw rowError;
          rejected(row, serverMessage(rowError));
        }
      }
    }
  }
}
