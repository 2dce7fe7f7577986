/**
 * `mysql.upsert`: rows written with batched `INSERT … ON DUPLICATE KEY
 * UPDATE`; a change event (mysql.cdc) is applied by its op — insert and
 * update write `after` (an update that changed the key also deletes
 * `before`'s), delete deletes `before` by key. Rows wait at most
 * `flushInterval` (default 200 ms) or until `batchSize` (default 1,000) rows
 * are pending, and every checkpoint flushes them before it completes.
 *
 * Pending rows are kept per key, the last change of a key replacing earlier
 * ones, so a batch writes each key once and the pending memory is bounded by
 * the number of keys. Writes are idempotent overwrites: after a restart the
 * job replays what came after its checkpoint and writes the same values
 * again, so the table's end state is exactly-once. A lost connection is
 * retried with backoff (the batch waits, and so does a checkpoint), a row the
 * server rejects goes to the dead-letter output with the server's message.
 */
import { parseDuration, type Duration } from '../../../api/duration.ts';
import type { ChangeEvent } from './api.ts';
import { connect, drop, mysqlServer, retrying, tableName, type Connection, type MysqlServer } from './connection.ts';
import { deleteStatement, insertStatement, prepareRows, writeRows, type PreparedRows, type Row } from './statements.ts';
import { tableInfo, type TableInfo } from './table-info.ts';
import { rowText } from './table-source.ts';
import type { SinkConnector, SinkContext } from '../types.ts';

/** Whether a record is a mysql.cdc change event (applied by its op) rather than a row. */
export function isChangeEvent(value: unknown): value is ChangeEvent<Row> {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<ChangeEvent<Row>>;
  return (v.op === 'insert' || v.op === 'update' || v.op === 'delete') && 'before' in v && 'after' in v && typeof v.source === 'object';
}

/** One key value's identity: its text, typed so 1 and '1' stay apart. */
function keyPart(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint') return `n${v}`;
  if (typeof v === 'string') return `s${v}`;
  if (v instanceof Uint8Array) return `x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  if (v instanceof Date) return `d${v.getTime()}`;
  return `j${JSON.stringify(v)}`;
}

/** A key's identity for coalescing. */
function keyIdentity(row: Row, key: readonly string[]): string {
  if (key.length === 1) return keyPart(row[key[0]]);
  let id = '';
  for (const k of key) { const part = keyPart(row[k]); id += `${part.length}:${part}`; }
  return id;
}

/** A pending change of one key. */
interface Pending { delete: boolean; row: Row; position: number }

/** Batched upserts into one table. */
export class MysqlUpsertSink implements SinkConnector {
  private pending = new Map<string, Pending>();
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  private connection: Connection | null = null;
  private info: TableInfo | null = null;
  private received = 0;
  private readonly server: MysqlServer;
  private readonly key: readonly string[];
  private readonly batchSize: number;
  private readonly flushInterval: number;
  private readonly stopped = new AbortController();

  constructor(private readonly ctx: SinkContext) {
    const { key, batchSize = 1000, flushInterval = 200 } = ctx.options as { key: string[]; batchSize?: number; flushInterval?: Duration };
    this.server = mysqlServer();
    this.key = key;
    this.batchSize = batchSize;
    this.flushInterval = parseDuration(flushInterval);
  }

  write(value: unknown): void {
    if (this.failure) throw this.failure;
    const position = ++this.received;
    if (!isChangeEvent(value)) { this.change(value as Row, false, value, position); return; }
    if (value.op === 'delete') { this.change(value.before, true, value, position); return; }
    // An update that changed the key moves the row: the old key is deleted.
    if (value.op === 'update' && value.before && value.after && keyIdentity(value.before, this.key) !== keyIdentity(value.after, this.key)) this.change(value.before, true, value, position);
    this.change(value.after, false, value, position);
  }

  /** Queues the upsert or delete of one row's key (the last change of a key replaces earlier ones). */
  private change(row: Row | null, remove: boolean, record: unknown, position: number): void {
    const missing = row && typeof row === 'object' ? this.key.filter((k) => row[k] === undefined || row[k] === null) : this.key;
    if (!row || missing.length) {
      this.reject(record, position, `the record has no value for key column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
      return;
    }
    // Re-inserted so a batch writes keys in the order of their last change.
    const id = keyIdentity(row, this.key);
    this.pending.delete(id);
    this.pending.set(id, { delete: remove, row, position });
    if (this.pending.size >= this.batchSize) this.startBatch();
    else this.timer ??= setTimeout(() => this.startBatch(), this.flushInterval);
  }

  private reject(value: unknown, position: number, reason: string): void {
    this.ctx.deadLetter?.({ origin: `mysql.upsert ${String(this.ctx.options.table)}`, position, reason, raw: rowText(value) });
  }

  /** Hands the pending changes to the writer (one batch at a time, in order). */
  private startBatch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    // Once the table is known, the batch's SQL is made now, while the previous batch is still being written.
    const made = this.info ? this.makeBatch(this.info, batch) : null;
    this.writing = this.writing.then(() => this.writeBatch(batch, made)).catch((error: unknown) => { this.failure ??= error as Error; });
  }

  /** A batch's rows as SQL (rows that cannot be written are dead letters now), and its deletes. */
  private makeBatch(info: TableInfo, batch: Pending[]): { prepared: PreparedRows; deletes: Row[]; positions: Map<Row, number> } {
    const upserts: Row[] = [];
    const deletes: Row[] = [];
    const positions = new Map<Row, number>();
    for (const change of batch) {
      positions.set(change.row, change.position);
      (change.delete ? deletes : upserts).push(change.row);
    }
    return { prepared: prepareRows(info, upserts, (row, reason) => this.reject(row, positions.get(row) ?? 0, reason)), deletes, positions };
  }

  private async writeBatch(batch: Pending[], made: ReturnType<MysqlUpsertSink['makeBatch']> | null): Promise<void> {
    if (this.failure) return;
    const info = this.info ??= await retrying(this.server, this.ctx.log, 'mysql.upsert', async () => {
      const name = tableName(this.server, String(this.ctx.options.table));
      return tableInfo(await this.open(), name.db, name.table).catch((error) => { this.lost(); throw error; });
    }, this.stopped.signal);
    const { prepared, deletes, positions } = made ?? this.makeBatch(info, batch);
    const rejected = new Set<Row>();
    await retrying(this.server, this.ctx.log, `mysql.upsert into ${info.name}`, async () => {
      try {
        const connection = await this.open();
        // Each key once per batch, so upserts and deletes do not depend on each other's order.
        const todo = rejected.size ? prepared.items.filter((i) => !rejected.has(i.row)) : prepared.items;
        if (todo.length) await writeRows(connection, todo, this.batchSize, (items) => insertStatement(info, prepared.columns, items, this.key), (item, message) => { rejected.add(item.row); this.reject(item.row, positions.get(item.row) ?? 0, message); });
        if (deletes.length) await writeRows(connection, deletes, this.batchSize, (rows) => deleteStatement(info, this.key, rows), (row, message) => this.reject(row, positions.get(row) ?? 0, message));
      } catch (error) {
        this.lost();
        throw error;
      }
    }, this.stopped.signal);
  }

  private async open(): Promise<Connection> {
    this.connection ??= await connect(this.server);
    return this.connection;
  }

  private lost(): void {
    drop(this.connection);
    this.connection = null;
  }

  async flush(): Promise<void> {
    this.startBatch();
    await this.writing;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.stopped.abort();
      await this.connection?.end().catch(() => undefined);
      this.connection = null;
    }
  }

  async abort(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
    this.stopped.abort();
    await this.writing.catch(() => undefined);
    this.lost();
  }
}
