/**
 * The statements the MySQL sinks write: multi-row INSERT (with ON DUPLICATE
 * KEY UPDATE for upserts) and DELETE by key, built as SQL text with every
 * value escaped once (columns.ts `sqlLiteral`), and the one way a batch is
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

/** Rows ready for INSERT: the columns the batch writes, and each row with its values as SQL (`(1,'a',DEFAULT)`). */
export interface PreparedRows { columns: string[]; items: Array<{ row: Row; values: string }> }

/** A value for a column: as sqlLiteral writes it, except that a boolean in a JSON column is JSON's true or false (not 1 or 0). */
function columnLiteral(info: TableInfo, column: string, value: unknown): string {
  if (typeof value === 'boolean' && info.json.has(column)) return value ? "'true'" : "'false'";
  return sqlLiteral(value);
}

/**
 * Turns rows into SQL values, once: the columns are every field any row has,
 * in the table's order (a field a row lacks is DEFAULT). A row that cannot be
 * written at all — not an object, a field that is no column, a value SQL
 * cannot hold — goes to `rejected` with the reason instead.
 */
export function prepareRows(info: TableInfo, rows: readonly Row[], rejected: (row: Row, reason: string) => void): PreparedRows {
  const present = new Set<string>();
  const candidates: Row[] = [];
  for (const row of rows) {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      rejected(row, `a ${row === null ? 'null' : Array.isArray(row) ? 'array' : typeof row} is not a row: the record must be an object whose fields are columns of ${info.name}`);
      continue;
    }
    let unknown: string | null = null;
    for (const field in row) {
      if (!present.has(field)) {
        if (!info.columns.has(field)) { unknown = field; break; }
        present.add(field);
      }
    }
    if (unknown !== null) { rejected(row, `field '${unknown}' is not a column of ${info.name} (its columns: ${[...info.columns.keys()].join(', ')})`); continue; }
    candidates.push(row);
  }
  const columns = [...info.columns.keys()].filter((c) => present.has(c));
  const items: PreparedRows['items'] = [];
  for (const row of candidates) {
    let values = '(';
    try {
      for (let i = 0; i < columns.length; i++) values += (i ? ',' : '') + columnLiteral(info, columns[i], row[columns[i]]);
    } catch (error) {
      rejected(row, (error as Error).message);
      continue;
    }
    items.push({ row, values: values + ')' });
  }
  return { columns, items };
}

/** `INSERT INTO t (cols) VALUES ...` of prepared rows; with `upsertKey`, `ON DUPLICATE KEY UPDATE` of the other columns. */
export function insertStatement(info: TableInfo, columns: readonly string[], items: ReadonlyArray<{ values: string }>, upsertKey?: readonly string[]): string {
  let sql = `INSERT INTO ${info.sql} (${columns.map(quoteId).join(',')}) VALUES ${items.map((i) => i.values).join(',')}`;
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
 * Writes items with `statement(items)` in statements of at most `batchSize`.
 * When the server rejects a row, the statement's items are written one by
 * one; each the server rejects goes to `rejected` with its message. A lost
 * connection or any other error is thrown (nothing of the failed statement
 * was written).
 */
export async function writeRows<T>(connection: Connection, items: readonly T[], batchSize: number, statement: (items: readonly T[]) => string, rejected: (item: T, message: string) => void): Promise<void> {
  for (let at = 0; at < items.length; at += batchSize) {
    const batch = items.length <= batchSize ? items : items.slice(at, at + batchSize);
    try {
      await connection.query(statement(batch));
    } catch (error) {
      if (!isRowError(error)) throw error;
      for (const item of batch) {
        try {
          await connection.query(statement([item]));
        } catch (rowError) {
          if (!isRowError(rowError)) throw rowError;
          rejected(item, serverMessage(rowError));
        }
      }
    }
  }
}
