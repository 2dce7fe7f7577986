/**
 * `mysql.table`: a bounded scan. A table is read in primary-key chunks
 * (`chunkSize` rows at a time, the most it holds) inside one consistent
 * snapshot (a REPEATABLE READ transaction), so the scan sees the table as of
 * one moment; its position is the last key read, so a restored scan (or one
 * whose connection was lost) opens a new snapshot and reads on after that
 * key. A `query` (or a table without a primary key) is streamed, and its
 * position is the number of rows read: a resumed scan skips that many, which
 * is exact when the query orders its rows by a unique key.
 *
 * Out: one record per row, each column converted to its declared type
 * (columns.ts); a row that does not fit its type goes to the dead-letter
 * output with the reason.
 */
import { connect, drop, mysqlServer, retrying, tableName, type Connection, type MysqlServer } from './connection.ts';
import { rowConverter, type RowConverter } from './columns.ts';
import { chunkQuery, tableInfo, type TableInfo } from './table-info.ts';
import { yieldToEventLoop, type SourceConnector, type SourceContext } from '../types.ts';

/** Where a scan is: the key of the last row read (tables with a primary key), and the rows read. */
interface ScanPosition { last: unknown[] | null; rows: number }

/** A row as dead-letter text (Buffers as hex, bigints as digits). */
export function rowText(row: unknown): string {
  return JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? `0x${Buffer.from((v as { data: number[] }).data).toString('hex')}` : v));
}

/** The scan of a table or a query. */
export class MysqlTableSource implements SourceConnector {
  private position: ScanPosition = { last: null, rows: 0 };
  private connection: Connection | null = null;
  constructor(private readonly ctx: SourceContext) {}

  snapshotPosition(): ScanPosition { return { last: this.position.last ? [...this.position.last] : null, rows: this.position.rows }; }

  restorePosition(position: unknown): void {
    const p = position as ScanPosition | null;
    if (p && typeof p.rows === 'number') this.position = { last: p.last ?? null, rows: p.rows };
  }

  async run(emit: (value: unknown, timestamp: number | undefined) => void): Promise<void> {
    const server = mysqlServer();
    const { table, query, chunkSize = 10_000 } = this.ctx.options as { table?: string; query?: string; chunkSize?: number };
    const convert = rowConverter(this.ctx.columnTypes);
    const origin = `mysql ${table ?? 'query'}`;
    try {
      if (query !== undefined) { await this.stream(server, query, origin, convert, emit); return; }
      const name = tableName(server, table!);
      const info = await retrying(server, this.ctx.log, `reading ${name.db}.${name.table}`, async () => tableInfo(await this.open(server, false), name.db, name.table).catch((error) => { this.lost(error); throw error; }), this.ctx.signal);
      if (info.primaryKey.length === 0) {
        this.ctx.log.info({ table: info.name }, 'the table has no primary key: it is read in one streamed query, and a resumed scan skips the rows read');
        await this.stream(server, `SELECT * FROM ${info.sql}`, origin, convert, emit);
        return;
      }
      await this.chunks(server, info, chunkSize, origin, convert, emit);
    } finally {
      drop(this.connection);
      this.connection = null;
    }
  }

  /** The connection, opened when needed; `snapshot`: in a consistent-snapshot read-only transaction. */
  private async open(server: MysqlServer, snapshot: boolean): Promise<Connection> {
    if (!this.connection) {
      this.connection = await connect(server);
      if (snapshot) await this.connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    }
    return this.connection;
  }

  private lost(error: unknown): void {
    void error;
    drop(this.connection);
    this.connection = null;
  }

  private async chunks(server: MysqlServer, info: TableInfo, chunkSize: number, origin: string, convert: RowConverter, emit: (value: unknown, ts: undefined) => void): Promise<void> {
    drop(this.connection);
    this.connection = null;
    while (!this.ctx.signal.aborted) {
      const sql = chunkQuery(info, this.position.last, chunkSize);
      const rows = await retrying(server, this.ctx.log, `reading ${info.name}`, async () => {
        try {
          const [result] = await (await this.open(server, true)).query(sql);
          return result as Array<Record<string, unknown>>;
        } catch (error) {
          this.lost(error);
          throw error;
        }
      }, this.ctx.signal);
      for (const row of rows) {
        this.position = { last: info.primaryKey.map((c) => row[c]), rows: this.position.rows + 1 };
        this.emitRow(row, origin, convert, emit);
      }
      if (rows.length < chunkSize) return;
      await yieldToEventLoop();
    }
  }

  /** A query's rows, streamed (bounded memory); after a lost connection it runs again and skips the rows already read. */
  private async stream(server: MysqlServer, sql: string, origin: string, convert: RowConverter, emit: (value: unknown, ts: undefined) => void): Promise<void> {
    await retrying(server, this.ctx.log, `reading ${origin}`, async () => {
      try {
        const connection = await this.open(server, true);
        let skip = this.position.rows;
        let count = 0;
        // mysql2's callback connection under the promise wrapper streams rows with backpressure.
        const core = (connection as unknown as { connection: import('mysql2').Connection }).connection;
        for await (const row of core.query(sql).stream({ highWaterMark: 1000 }) as AsyncIterable<Record<string, unknown>>) {
          if (this.ctx.signal.aborted) return;
          if (skip > 0) { skip--; continue; }
          this.position = { last: null, rows: this.position.rows + 1 };
          this.emitRow(row, origin, convert, emit);
          if ((++count & 4095) === 0) await yieldToEventLoop();
        }
      } catch (error) {
        this.lost(error);
        throw error;
      }
    }, this.ctx.signal);
  }

  private emitRow(row: Record<string, unknown>, origin: string, convert: RowConverter, emit: (value: unknown, ts: undefined) => void): void {
    let value: Record<string, unknown>;
    try {
      value = convert(row);
    } catch (error) {
      this.ctx.deadLetter({ origin, position: this.position.rows, reason: `the row does not fit its declared type: ${(error as Error).message}`, raw: rowText(row) });
      return;
    }
    emit(value, undefined);
  }
}
