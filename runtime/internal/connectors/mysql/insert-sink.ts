/**
 * `mysql.insert`: rows inserted exactly-once, as Flink's
 * TwoPhaseCommitSinkFunction does it, with XA transactions.
 *
 * In a job that checkpoints (initializeState is called): the rows between
 * two checkpoint cuts are one epoch. At the cut (snapshotState) the epoch
 * closes and its XA id goes into the checkpoint (the local checkpoint frame,
 * or a stage worker task's meta record, committed in the task's Kafka
 * transaction); before the checkpoint is made durable (flush) the epoch is
 * written in its own XA transaction — XA START, INSERTs of `batchSize` rows,
 * XA END, XA PREPARE (pre-commit). When the checkpoint is durable
 * (notifyCheckpointComplete) it is committed. A prepared XA transaction
 * survives a lost connection and a server restart (MariaDB 10.5+, MySQL
 * 5.7.7+), so a restart (initializeState with the restored checkpoint's
 * state) commits every epoch the restored checkpoint covers that is still
 * prepared, and rolls back any later one: those rows come again from the
 * replayed input. The table receives each row once.
 *
 * XA ids are `pipec-<sink>:<epoch>`, `<sink>` a hash of the topic prefix,
 * the pipeline, the node and the task (SinkContext.instance), kept in the
 * checkpoint. A connection lost before PREPARE loses the epoch's branch on
 * the server: the epoch's rows are kept until it is prepared and written
 * again (retried with backoff); one lost after PREPARE leaves it prepared,
 * committed later from another connection. A row the server rejects goes to
 * the dead-letter output with its message, and the epoch goes on.
 *
 * In a batch job (no checkpoints) the rows go into one ordinary transaction,
 * written in batches as they come and committed when the job ends: all or
 * nothing (a lost connection fails the job, and a rerun starts over).
 */
import crypto from 'node:crypto';
import type { RowDataPacket } from 'mysql2';
import { connect, drop, isRetryable, mysqlServer, retrying, serverMessage, tableName, type Connection, type MysqlServer } from './connection.ts';
import { insertStatement, prepareRows, writeRows, type PreparedRows, type Row } from './statements.ts';
import { tableInfo, type TableInfo } from './table-info.ts';
import { rowText } from './table-source.ts';
import type { SinkConnector, SinkContext } from '../types.ts';

/** What the sink keeps in a checkpoint: its XA id prefix and the last epoch the checkpoint covers. */
interface InsertSinkState { prefix: string; epoch: number }

/** The rows between two cuts, and where its XA transaction is. */
interface Epoch {
  number: number;
  rows: Row[];
  /** Rows the server rejected (dead-lettered once; left out when the epoch is written again). */
  rejected: Set<Row>;
  /** The connection its prepared transaction is attached to (null once it was lost: committed from any connection). */
  connection: Connection | null;
  prepared: boolean;
}

/** XA errors: unknown id (1397), id already exists (1440), the branch is in the wrong state (1399). */
const XAER_NOTA = 1397;
const XAER_DUPID = 1440;

function errno(error: unknown): number | undefined { return (error as { errno?: number })?.errno; }

/** Exactly-once inserts into one table. */
export class MysqlInsertSink implements SinkConnector {
  private readonly server: MysqlServer;
  private readonly batchSize: number;
  private info: TableInfo | null = null;
  private rows: Row[] = [];
  private received = 0;
  private readonly positions = new WeakMap<Row, number>();
  private readonly epochs: Epoch[] = [];
  private prefix: string | null = null;
  private epoch = 0;
  /** Recovery, prepares and commits, one after another. */
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private readonly stopped = new AbortController();
  /** A batch job's transaction. */
  private batch: { connection: Connection | null; writing: Promise<void> } | null = null;

  constructor(private readonly ctx: SinkContext) {
    this.server = mysqlServer();
    this.batchSize = (ctx.options.batchSize as number | undefined) ?? 1000;
  }

  private get checkpointed(): boolean { return this.prefix !== null; }

  private get table(): string { return String(this.ctx.options.table); }

  write(value: unknown): void {
    if (this.failure) throw this.failure;
    const row = value as Row;
    this.positions.set(row, ++this.received);
    this.rows.push(row);
    if (!this.checkpointed && this.rows.length >= this.batchSize) this.writeBatchRows();
  }

  private reject(row: unknown, reason: string): void {
    this.ctx.deadLetter?.({ origin: `mysql.insert ${this.table}`, position: (row && typeof row === 'object' ? this.positions.get(row as Row) : undefined) ?? 0, reason, raw: rowText(row) });
  }

  private async tableInfo(connection: Connection): Promise<TableInfo> {
    if (!this.info) {
      const name = tableName(this.server, this.table);
      this.info = await tableInfo(connection, name.db, name.table);
    }
    return this.info;
  }

  /** The rows that can be written, as SQL (the others are dead letters, once: a field that is no column, a value SQL cannot hold). */
  private writable(info: TableInfo, rows: Row[], rejected: Set<Row>): PreparedRows {
    return prepareRows(info, rejected.size ? rows.filter((row) => !rejected.has(row)) : rows, (row, reason) => { rejected.add(row); this.reject(row, reason); });
  }

  // ---- checkpointed (two-phase commit) ----

  initializeState(state: unknown): void {
    const saved = state as InsertSinkState | undefined;
    const identity = `${process.env.PIPEC_TOPIC_PREFIX ?? ''}\0${this.ctx.pipeline}\0${this.ctx.nodeId}\0${this.ctx.instance ?? 'local'}`;
    this.prefix = saved?.prefix ?? `pipec-${crypto.createHash('sha1').update(identity).digest('hex').slice(0, 20)}`;
    this.epoch = saved?.epoch ?? 0;
    this.enqueue(() => this.recover(saved?.epoch ?? 0));
  }

  private xid(epoch: number): string { return `'${this.prefix}:${epoch}'`; }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(() => (this.failure ? undefined : step())).catch((error: unknown) => { this.failure ??= error as Error; });
  }

  /** After a restart: commits what the restored checkpoint covers and is still prepared, rolls back anything later (a fresh start: everything of this sink). */
  private async recover(covered: number): Promise<void> {
    const ids = await retrying(this.server, this.ctx.log, 'mysql.insert recovery', async () => {
      const connection = await connect(this.server);
      try {
        const [rows] = await connection.query<Array<RowDataPacket & { data: Buffer | string }>>('XA RECOVER');
        return rows.map((r) => String(r.data)).filter((id) => id.startsWith(`${this.prefix}:`));
      } finally {
        drop(connection);
      }
    }, this.stopped.signal);
    for (const id of ids) {
      const epoch = Number(id.slice(id.lastIndexOf(':') + 1));
      await this.finish(epoch, epoch <= covered ? 'COMMIT' : 'ROLLBACK', null);
      this.ctx.log.info({ table: this.table, xid: id }, epoch <= covered ? 'committed the rows of a checkpoint the restart restored' : 'rolled back rows written after the restored checkpoint (they are written again)');
    }
  }

  /**
   * XA COMMIT or ROLLBACK of an epoch: on the connection its prepared
   * transaction is attached to, or (that one lost) from a new connection once
   * the server has let go of the old one's session.
   */
  private async finish(epoch: number, action: 'COMMIT' | 'ROLLBACK', attached: Connection | null): Promise<void> {
    if (attached) {
      try {
        await attached.query(`XA ${action} ${this.xid(epoch)}`);
        return;
      } catch (error) {
        drop(attached);
        if (!isRetryable(error)) throw error;
      }
    }
    await retrying(this.server, this.ctx.log, `mysql.insert XA ${action}`, async () => {
      const connection = await connect(this.server);
      try {
        await connection.query(`XA ${action} ${this.xid(epoch)}`);
      } catch (error) {
        if (errno(error) !== XAER_NOTA) throw error;
        // Unknown here: finished already, or still attached to a session the server has not closed yet.
        const [rows] = await connection.query<Array<RowDataPacket & { data: Buffer | string }>>('XA RECOVER');
        if (rows.some((r) => String(r.data) === `${this.prefix}:${epoch}`)) throw Object.assign(new Error(`XA transaction ${this.prefix}:${epoch} is still attached to a closed session`), { fatal: true });
      } finally {
        drop(connection);
      }
    }, this.stopped.signal);
  }

  snapshotState(): InsertSinkState | undefined {
    if (!this.checkpointed) return undefined;
    if (this.rows.length > 0) {
      this.epochs.push({ number: ++this.epoch, rows: this.rows, rejected: new Set(), connection: null, prepared: false });
      this.rows = [];
    }
    return { prefix: this.prefix!, epoch: this.epoch };
  }

  /** Pre-commit: writes and prepares every epoch closed by a cut. */
  private async prepare(epoch: Epoch): Promise<void> {
    await retrying(this.server, this.ctx.log, `mysql.insert into ${this.table}`, async (attempt) => {
      let connection: Connection | null = null;
      try {
        connection = await connect(this.server);
        if (attempt > 0 && await this.isPrepared(connection, epoch.number)) {
          // The PREPARE went through before the connection was lost: it waits, detached, for its commit.
          epoch.prepared = true;
          drop(connection);
          return;
        }
        const info = await this.tableInfo(connection);
        const prepared = this.writable(info, epoch.rows, epoch.rejected);
        await connection.query(`XA START ${this.xid(epoch.number)}`);
        await writeRows(connection, prepared.items, this.batchSize, (items) => insertStatement(info, prepared.columns, items), (item, message) => { epoch.rejected.add(item.row); this.reject(item.row, message); });
        await connection.query(`XA END ${this.xid(epoch.number)}`);
        await connection.query(`XA PREPARE ${this.xid(epoch.number)}`);
        epoch.connection = connection;
        epoch.prepared = true;
        epoch.rows = [];
      } catch (error) {
        drop(connection);
        // The id is still taken by the lost session's branch, which the server rolls back when it closes it.
        if (errno(error) === XAER_DUPID) throw Object.assign(error as Error, { fatal: true });
        throw error;
      }
    }, this.stopped.signal);
  }

  private async isPrepared(connection: Connection, epoch: number): Promise<boolean> {
    const [rows] = await connection.query<Array<RowDataPacket & { data: Buffer | string }>>('XA RECOVER');
    return rows.some((r) => String(r.data) === `${this.prefix}:${epoch}`);
  }

  notifyCheckpointComplete(state: unknown): void {
    const covered = (state as InsertSinkState | undefined)?.epoch;
    if (covered === undefined) return;
    this.enqueue(async () => {
      while (this.epochs.length && this.epochs[0].number <= covered && this.epochs[0].prepared) {
        const epoch = this.epochs.shift()!;
        await this.finish(epoch.number, 'COMMIT', epoch.connection);
        await epoch.connection?.end().catch(() => undefined);
      }
    });
  }

  async flush(): Promise<void> {
    if (this.checkpointed) {
      for (const epoch of this.epochs) if (!epoch.prepared) this.enqueue(async () => { if (!epoch.prepared) await this.prepare(epoch); });
      await this.chain;
    } else if (this.batch || this.rows.length) {
      this.writeBatchRows();
      await this.batch!.writing;
    }
    if (this.failure) throw this.failure;
  }

  // ---- batch job: one transaction ----

  private writeBatchRows(): void {
    const rows = this.rows;
    this.rows = [];
    this.batch ??= { connection: null, writing: Promise.resolve() };
    const batch = this.batch;
    batch.writing = batch.writing.then(async () => {
      if (this.failure || rows.length === 0) return;
      if (!batch.connection) {
        batch.connection = await connect(this.server);
        await batch.connection.query('START TRANSACTION');
      }
      const info = await this.tableInfo(batch.connection);
      const prepared = this.writable(info, rows, new Set());
      await writeRows(batch.connection, prepared.items, this.batchSize, (items) => insertStatement(info, prepared.columns, items), (item, message) => this.reject(item.row, message));
    }).catch((error: unknown) => {
      this.failure ??= isRetryable(error) ? new Error(`mysql.insert lost its connection during a batch job; its transaction is rolled back, run the job again (${serverMessage(error)})`) : error as Error;
    });
  }

  async close(): Promise<void> {
    try {
      if (this.checkpointed) {
        await this.chain;
        // A job ends with a checkpoint, which covers every row; rows after it would be replayed by a restart.
        if (this.rows.length) this.ctx.log.warn({ table: this.table, rows: this.rows.length }, 'mysql.insert: rows after the last checkpoint were not written');
      } else {
        await this.flush();
        await this.batch?.connection?.query('COMMIT');
      }
      if (this.failure) throw this.failure;
    } finally {
      this.release();
    }
  }

  async abort(): Promise<void> {
    await Promise.race([this.chain, new Promise((resolve) => setTimeout(resolve, 2000))]);
    // Unprepared work is rolled back by the server with its session; prepared epochs stay for the restart to decide.
    this.release();
  }

  private release(): void {
    this.stopped.abort();
    for (const epoch of this.epochs) drop(epoch.connection);
    drop(this.batch?.connection);
    if (this.batch) this.batch.connection = null;
  }
}
