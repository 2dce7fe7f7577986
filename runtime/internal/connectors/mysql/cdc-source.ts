/**
 * `mysql.cdc`: a table's changes as Flink CDC gives them. With startFrom
 * 'initial' (the default) it reads a consistent snapshot of the table in
 * primary-key chunks — each row an `insert` with `source.snapshot` true —
 * and then the binlog from the snapshot's point, so no change is missed and
 * none is seen twice; then every row change (insert, update with before and
 * after images, delete) of the table's transactions, in commit order.
 *
 * Checkpoints: the position is where the reader is.
 * - In the snapshot: the snapshot segments read so far. A segment is a
 *   binlog point and the last key read at it; a restart (or a lost
 *   connection) opens a new snapshot at a newer point and reads on after
 *   that key, as a new segment. The binlog is then read from the first
 *   segment's point, and a row change is passed on only when its
 *   transaction comes after the point of the segment its key was read in
 *   (Flink CDC's chunk hand-over): each key's changes start exactly where
 *   the snapshot of that key left off. Keys are compared as the server
 *   orders them for integer and binary keys (text keys of a case-insensitive
 *   collation are compared as code points).
 * - In the binlog: the point before the transaction being read (its GTID
 *   position where the server has GTIDs, else file and position) and how
 *   many of its row changes were emitted; a restart resumes there and skips
 *   those.
 * A lost binlog connection is retried with backoff from the same position.
 *
 * Out: ChangeEvent records (api.ts) whose rows are converted to the declared
 * field types (columns.ts); an event whose row does not fit goes to the
 * dead-letter output with the reason. Its timestamp is the binlog event's.
 */
import crypto from 'node:crypto';
import ZongJi, { GtidSet, MariadbGtidPosition } from '@vlasky/zongji';
import type { ChangeEvent, ChangeSource, CdcStartFrom } from './api.ts';
import { checkBinlog, currentPoint, earliestPoint, isAfter, pointAt, startSnapshot, type BinlogPoint, type ServerFlavour } from './binlog.ts';
import { comparableKey, compareKeys, rowConverter, type RowConverter } from './columns.ts';
import { connect, drop, isRetryable, mysqlServer, retrying, serverMessage, tableName, type Connection, type MysqlServer } from './connection.ts';
import { chunkQuery, tableInfo, type TableInfo } from './table-info.ts';
import { rowText } from './table-source.ts';
import { unreachableServers, yieldToEventLoop, type SourceConnector, type SourceContext } from '../types.ts';

/** Keys in (previous segment's `upTo`, `upTo`] were read by a snapshot at `at`; `upTo` 'end': every key after the previous segment. */
interface Segment { at: BinlogPoint; upTo: unknown[] | 'end' | null }

/** A checkpointed position (structured-cloneable). */
type CdcPosition =
  | { phase: 'snapshot'; segments: Segment[] }
  | { phase: 'binlog'; resume: BinlogPoint; skip: number; segments: Segment[] };

/** The part of a zongji row event the source reads. */
interface RowsEvent {
  getEventName(): string;
  rows: Array<Record<string, unknown>> | Array<{ before: Record<string, unknown>; after: Record<string, unknown> }>;
  gtid?: string;
  timestamp: number;
  nextPosition: number;
  tableMap?: Record<number, { parentSchema: string; tableName: string }>;
  tableId?: number;
}

/** The binlog transaction being read: its GTID (absent without GTIDs), the point before it, and its row changes so far. */
interface Transaction { gtid?: string; start: BinlogPoint; rows: number }

/** A server id for the binlog client from the pipeline and node (unique among the server's replicas unless two jobs collide). */
function defaultServerId(ctx: SourceContext): number {
  const hash = crypto.createHash('sha1').update(`${process.env.PIPEC_TOPIC_PREFIX ?? ''}\0${ctx.pipeline}\0${ctx.nodeId}`).digest();
  return 1_000_000 + (hash.readUInt32BE(0) % 2_000_000_000);
}

/** The change stream of one table. */
export class MysqlCdcSource implements SourceConnector {
  private position: CdcPosition | null = null;
  /** Row changes of the transaction being read (counted whether emitted or not), and its start. */
  private transaction: Transaction | null = null;
  private skip = 0;
  private zongji: ZongJi | null = null;
  private convert!: RowConverter;
  private info!: TableInfo;
  private keyTypes: string[] = [];
  private readonly parsedPoints = new Map<string, GtidSet | MariadbGtidPosition>();
  constructor(private readonly ctx: SourceContext) {}

  snapshotPosition(): CdcPosition | null { return this.position ? structuredClone(this.position) : null; }

  restorePosition(position: unknown): void {
    const p = position as CdcPosition | null;
    if (p && (p.phase === 'snapshot' || p.phase === 'binlog')) this.position = structuredClone(p);
  }

  async run(emit: (value: unknown, timestamp: number | undefined) => void): Promise<void> {
    const server = mysqlServer();
    const { table, startFrom = 'initial', chunkSize = 10_000 } = this.ctx.options as { table: string; startFrom?: CdcStartFrom; chunkSize?: number };
    const name = tableName(server, table);
    this.convert = rowConverter(this.ctx.columnTypes);
    const setup = await retrying(server, this.ctx.log, `mysql.cdc ${name.db}.${name.table}`, async () => {
      const connection = await connect(server);
      try {
        const flavour = await checkBinlog(connection, server);
        const info = await tableInfo(connection, name.db, name.table);
        if (info.primaryKey.length === 0) throw new Error(`mysql.cdc needs a primary key on ${info.name}: its changes are matched to snapshot rows, and applied downstream, by key`);
        if (!this.position) this.position = await this.startPosition(connection, flavour, startFrom);
        return { flavour, info };
      } finally {
        drop(connection);
      }
    }, this.ctx.signal);
    this.info = setup.info;
    this.keyTypes = this.info.primaryKey.map((c) => this.info.columns.get(c) ?? 'varchar');
    this.ctx.log.info({ table: this.info.name, server: server.label, version: setup.flavour.version, phase: this.position!.phase, gtids: setup.flavour.gtids }, 'mysql.cdc started');
    if (this.position!.phase === 'snapshot') await this.snapshot(server, setup.flavour, chunkSize, emit);
    while (!this.ctx.signal.aborted) await this.readBinlog(server, setup.flavour, emit);
  }

  /** Where a source without a checkpoint starts. */
  private async startPosition(connection: Connection, flavour: ServerFlavour, startFrom: CdcStartFrom): Promise<CdcPosition> {
    const binlogFrom = (resume: BinlogPoint): CdcPosition => ({ phase: 'binlog', resume, skip: 0, segments: [] });
    if (startFrom === 'initial') return { phase: 'snapshot', segments: [] };
    if (startFrom === 'latest') return binlogFrom(await currentPoint(connection, flavour));
    if (startFrom === 'earliest') return binlogFrom(await earliestPoint(connection, flavour));
    if ('gtid' in startFrom) return binlogFrom({ file: '', position: 4, gtid: startFrom.gtid });
    return binlogFrom(await pointAt(connection, flavour, startFrom.file, startFrom.position));
  }

  /** Reads the snapshot, segment by segment (a lost connection starts a new segment), then moves the position to the binlog. */
  private async snapshot(server: MysqlServer, flavour: ServerFlavour, chunkSize: number, emit: (value: unknown, ts: number | undefined) => void): Promise<void> {
    const position = this.position as Extract<CdcPosition, { phase: 'snapshot' }>;
    let connection: Connection | null = null;
    let done = false;
    try {
      await retrying(server, this.ctx.log, `snapshot of ${this.info.name}`, async () => {
        try {
          drop(connection);
          connection = await connect(server);
          // Segments that read nothing cover no key: the new one starts where the last that read something ended.
          position.segments = position.segments.filter((s) => s.upTo !== null);
          const at = await startSnapshot(connection, flavour);
          const segment: Segment = { at, upTo: null };
          position.segments.push(segment);
          const readFrom = position.segments.length > 1 ? position.segments[position.segments.length - 2].upTo as unknown[] : null;
          this.ctx.log.info({ table: this.info.name, at, segment: position.segments.length, after: readFrom }, 'snapshot started');
          const started = Date.now();
          let last = readFrom;
          for (;;) {
            if (this.ctx.signal.aborted) return;
            const [rows] = await connection.query(chunkQuery(this.info, last, chunkSize));
            const chunk = rows as Array<Record<string, unknown>>;
            const source: ChangeSource = { snapshot: true, db: this.info.name.slice(0, this.info.name.indexOf('.')), table: this.info.name.slice(this.info.name.indexOf('.') + 1), ...(at.gtid !== undefined ? { gtid: at.gtid } : {}), file: at.file, position: at.position, ts: started };
            for (const row of chunk) {
              last = this.info.primaryKey.map((c) => row[c]);
              segment.upTo = last;
              this.emitChange(emit, { op: 'insert', before: null, after: row }, source, started, row);
            }
            if (chunk.length < chunkSize) break;
            await yieldToEventLoop();
          }
          segment.upTo = 'end';
          done = true;
          await connection.query('COMMIT').catch(() => undefined);
        } catch (error) {
          drop(connection);
          connection = null;
          throw error;
        }
      }, this.ctx.signal);
    } finally {
      drop(connection);
    }
    if (!done) return;
    const segments = position.segments;
    // One segment: the binlog starts at its point, so every change read is after it and nothing needs filtering.
    this.position = { phase: 'binlog', resume: segments[0].at, skip: 0, segments: segments.length > 1 ? segments : [] };
    this.ctx.log.info({ table: this.info.name, segments: segments.length, from: segments[0].at }, 'snapshot read: following the binlog');
  }

  /** Follows the binlog from the position until the job stops; a lost connection returns (the caller retries after a pause). */
  private async readBinlog(server: MysqlServer, flavour: ServerFlavour, emit: (value: unknown, ts: number | undefined) => void): Promise<void> {
    const position = this.position as Extract<CdcPosition, { phase: 'binlog' }>;
    const { db, table } = { db: this.info.name.slice(0, this.info.name.indexOf('.')), table: this.info.name.slice(this.info.name.indexOf('.') + 1) };
    this.skip = position.skip;
    this.transaction = null;
    const zongji = new ZongJi({ ...server.options, database: undefined });
    this.zongji = zongji;
    const failed = new Promise<Error>((resolve) => zongji.on('error', (error: Error) => resolve(error)));
    const stopped = new Promise<void>((resolve) => this.ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    zongji.on('ready', () => {
      if (unreachableServers.delete(server.label)) this.ctx.log.info({ server: server.label }, 'binlog connection restored');
    });
    zongji.on('binlog', (event) => {
      try {
        this.onEvent(event as unknown as RowsEvent, zongji, db, table, emit);
      } catch (error) {
        zongji.emit('error', error);
      }
    });
    const serverId = (this.ctx.options.serverId as number | undefined) ?? defaultServerId(this.ctx);
    const start = position.resume.gtid !== undefined && flavour.gtids ? { gtidSet: position.resume.gtid } : { filename: position.resume.file, position: position.resume.position };
    zongji.start({
      serverId, ...start,
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query'],
      includeSchema: { [db]: [table] },
    });
    const outcome = await Promise.race([failed, stopped.then(() => null)]);
    await new Promise<void>((resolve) => { zongji.once('stopped', () => resolve()); zongji.stop(); setTimeout(resolve, 2000).unref(); });
    this.zongji = null;
    if (outcome === null) return;
    const code = (outcome as { errno?: number }).errno;
    if (code === 1236) throw new Error(`the binlog cannot be read from ${JSON.stringify(position.resume)}: ${outcome.message} (were the binlog files purged? start over without the checkpoint, with a new snapshot)`);
    if (!isRetryable(outcome) && !/connect|closed|lost|ECONN|EPIPE|timeout/i.test(outcome.message)) throw outcome;
    if (!unreachableServers.has(server.label)) unreachableServers.set(server.label, { since: Date.now(), reason: serverMessage(outcome) });
    this.ctx.log.warn({ server: server.label, err: serverMessage(outcome), resume: position.resume, skip: position.skip }, 'lost the binlog connection; reconnecting from the checkpointable position');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  /** One binlog event: row changes of the table (filtered during the snapshot hand-over), or the end of a transaction. */
  private onEvent(event: RowsEvent, zongji: ZongJi, db: string, table: string, emit: (value: unknown, ts: number | undefined) => void): void {
    const position = this.position as Extract<CdcPosition, { phase: 'binlog' }>;
    const name = event.getEventName();
    const here = (): BinlogPoint => {
      const gtid = zongji.gtidSet;
      return { file: String(zongji.get('filename') ?? position.resume.file), position: Number(zongji.get('position') ?? position.resume.position), ...(gtid !== undefined ? { gtid } : {}) };
    };
    if (name === 'xid' || name === 'query') {
      // A commit marker (zongji has folded the transaction into its GTID position): resume after it. Other
      // statements (BEGIN, DDL) are not row changes; a DDL's GTID joins the position with the next transaction.
      if (name === 'query' && !/^(COMMIT|ROLLBACK|XA COMMIT|XA ROLLBACK)/i.test(String((event as unknown as { query: string }).query).trim())) return;
      this.transaction = null;
      position.resume = here();
      position.skip = 0;
      this.skip = 0;
      return;
    }
    if (name !== 'writerows' && name !== 'updaterows' && name !== 'deleterows') return;
    const start = here();
    const same = this.transaction && (event.gtid !== undefined ? this.transaction.gtid === event.gtid : this.transaction.start.file === start.file && this.transaction.start.position === start.position);
    if (!this.transaction || !same) {
      this.transaction = { ...(event.gtid !== undefined ? { gtid: event.gtid } : {}), start, rows: 0 };
      position.resume = this.transaction.start;
      // Past the last snapshot segment's point, every change passes: the hand-over is over.
      if (position.segments.length && this.after(position.segments[position.segments.length - 1].at, this.transaction)) position.segments = [];
    }
    const source: ChangeSource = { snapshot: false, db, table, ...(event.gtid ? { gtid: event.gtid } : {}), file: String(zongji.get('filename') ?? ''), position: event.nextPosition, ts: event.timestamp };
    for (const row of event.rows) {
      this.transaction.rows++;
      position.skip = this.transaction.rows;
      if (this.skip > 0) { this.skip--; continue; }
      const before = name === 'writerows' ? null : name === 'updaterows' ? (row as { before: Record<string, unknown> }).before : row as Record<string, unknown>;
      const after = name === 'deleterows' ? null : name === 'updaterows' ? (row as { after: Record<string, unknown> }).after : row as Record<string, unknown>;
      const keepBefore = before !== null && this.passes(before, position.segments);
      const keepAfter = after !== null && this.passes(after, position.segments);
      // A change restricted to the keys the snapshot hands over at this point (an update across the boundary becomes its half).
      const change = keepBefore && keepAfter ? { op: 'update' as const, before, after }
        : keepBefore ? { op: 'delete' as const, before, after: null }
          : keepAfter ? { op: 'insert' as const, before: null, after }
            : null;
      if (change) this.emitChange(emit, change, source, event.timestamp, row);
    }
  }

  /** Whether a row's changes in the current transaction are new to the snapshot segment its key was read in. */
  private passes(row: Record<string, unknown>, segments: Segment[]): boolean {
    if (segments.length === 0) return true;
    const key = this.info.primaryKey.map((c, i) => comparableKey(row[c], this.keyTypes[i]));
    const segment = segments.find((s) => s.upTo === 'end' || (s.upTo !== null && compareKeys(key, s.upTo.map((v, i) => comparableKey(v, this.keyTypes[i]))) <= 0)) ?? segments[segments.length - 1];
    return this.after(segment.at, this.transaction!);
  }

  /** isAfter, with the points' GTID positions parsed once. */
  private after(point: BinlogPoint, transaction: Transaction): boolean {
    if (point.gtid !== undefined && transaction.gtid !== undefined) {
      let parsed = this.parsedPoints.get(point.gtid);
      if (!parsed) { parsed = point.gtid.includes(':') ? GtidSet.parse(point.gtid) : MariadbGtidPosition.parse(point.gtid); this.parsedPoints.set(point.gtid, parsed); }
      return parsed instanceof GtidSet ? !parsed.contains(transaction.gtid) : !parsed.covers(transaction.gtid);
    }
    return isAfter(point, transaction);
  }

  private emitChange(emit: (value: unknown, ts: number | undefined) => void, change: { op: ChangeEvent<unknown>['op']; before: Record<string, unknown> | null; after: Record<string, unknown> | null }, source: ChangeSource, ts: number, raw: unknown): void {
    let event: ChangeEvent<unknown>;
    try {
      event = { op: change.op, before: change.before && this.convert(change.before), after: change.after && this.convert(change.after), source };
    } catch (error) {
      this.ctx.deadLetter({ origin: `mysql.cdc ${this.info.name}`, position: source.position, reason: `the row does not fit its declared type: ${(error as Error).message}`, raw: rowText({ op: change.op, row: raw }) });
      return;
    }
    emit(event, ts);
  }
}
