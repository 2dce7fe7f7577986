/**
 * AsyncWaitOperator: Flink's async I/O (`AsyncDataStream.orderedWait /
 * unorderedWait`) for `asyncMap(fn, { capacity, timeout, ordered })`.
 *
 * A record that reaches the operator joins its queue and its call starts at
 * once, unless `capacity` calls are in flight (then it waits for a slot, so a
 * service never sees more than `capacity` calls of one task). A queue of
 * `capacity` records makes the operator `full`: the job takes no more input
 * until one leaves (backpressure; LocalJob.backpressure). Results leave:
 * - ordered: in input order (a completed call waits for the ones before it);
 * - unordered: as calls complete, but never past a watermark: a watermark
 *   that arrived after a record waits in the queue until that record's result
 *   is out, and results of records after the watermark wait for it (Flink's
 *   UnorderedStreamElementQueue). So downstream the operator is a watermark
 *   origin of its own (`async:<node>`), which it advances as held watermarks
 *   reach the head of the queue.
 * Each result carries its input's timestamp. A call that rejects (or throws)
 * or takes longer than `timeout` sends its input to the dead-letter output
 * with the reason and location, in its turn, and the job goes on.
 *
 * The queue is the operator's checkpointed state: one entry of its keyed
 * state backend (table `inflight`) holding the inputs not yet out and the
 * watermarks held behind them, in order, as plain data, so a checkpoint's cut
 * (between two records or completions) stores exactly the calls whose results
 * the cut does not contain. A restored operator makes those calls again, in
 * order, before any new record (Flink's AsyncWaitOperator stores its queue
 * the same way).
 *
 * Completions arrive between records, from promise continuations and timers:
 * everything they send downstream runs through `env.asyncEntry`, so a stage
 * worker counts it as the task's output and its next checkpoint covers it.
 *
 * In: records and watermarks from the fused chain, completions of the user's
 * calls. Out: results into the rest of the chain, dead letters, watermarks.
 */
import type { AsyncMapSpec } from '../../api/graph.ts';
import type { AsyncOperator } from '../stage.ts';
import type { ProcessingTimeService } from '../time.ts';

/** An entry of the checkpointed queue: an input whose result is not out yet, or a watermark held back behind such inputs. */
export type QueuedEntry = { record: unknown; ts: number | undefined } | { watermark: number };

/** The key of the queue in the operator's state table. */
export const QUEUE_KEY = 'queue';

/** Why a call ended without a result: it took longer than the operator's timeout. */
export class AsyncTimeoutError extends Error {
  override name = 'AsyncTimeoutError';
}

/** What the operator needs from the runtime (built by rt.asyncWaitOperator from the StageEnv). */
export interface AsyncWaitContext {
  fn: (value: unknown) => unknown;
  spec: AsyncMapSpec;
  /** The rest of the chain after the operator. */
  emit(value: unknown, ts: number | undefined): void;
  /** The table of the operator's state that holds the queue (QUEUE_KEY): restored before open, written at every change. */
  state: Map<unknown, QueuedEntry[]>;
  time: ProcessingTimeService;
  /** The watermark the operator sends downstream (origin `async:<node>`). */
  watermark: { advance(watermark: number): void; setIdle(idle: boolean): void };
  /** Runs completion work as an entry into generated code (env.asyncEntry). */
  enter(work: () => void): void;
  /** Sends one result on; a user error downstream makes the input a dead letter (env.completed). */
  completed(position: number, value: unknown, send: () => void): void;
  /** A call failed or timed out: its input is a dead letter (env.callFailed). */
  failed(position: number, value: unknown, error: unknown): void;
}

interface PendingRecord {
  kind: 'record';
  /** 1-based number of the input among those that reached the operator (dead letters name it). */
  position: number;
  value: unknown;
  ts: number | undefined;
  status: 'waiting' | 'running' | 'done';
  outcome: { ok: true; result: unknown } | { ok: false; error: unknown } | null;
  cancelTimeout: (() => void) | null;
  /** The entry as checkpointed (same object as in `persisted`). */
  entry: QueuedEntry;
}

interface HeldWatermark { kind: 'watermark'; entry: { watermark: number } }

type Pending = PendingRecord | HeldWatermark;

/** Flink's AsyncWaitOperator. */
export class AsyncWaitOperator implements AsyncOperator {
  private readonly queue: Pending[] = [];
  /** The queue as checkpointed: the same entries, in the same order, as plain data. */
  private persisted: QueuedEntry[] = [];
  /** Records whose call waits for a slot, in input order. */
  private readonly waiting: PendingRecord[] = [];
  private records = 0;
  private running = 0;
  private positions = 0;
  private opened = false;
  private started = false;
  private stopped = false;
  /** Every input of the operator is idle: it goes idle downstream once nothing is held back. */
  private inputIdle = false;
  private roomWaiters: Array<() => void> = [];
  private drainWaiters: Array<() => void> = [];
  /** Keeps the process alive while calls are in flight (timeouts use unref'd timers; a call may hold nothing the event loop sees). */
  private keepAlive: NodeJS.Timeout | null = null;

  constructor(private readonly ctx: AsyncWaitContext) {}

  get full(): boolean { return this.records >= this.ctx.spec.capacity; }

  get empty(): boolean { return this.queue.length === 0; }

  room(): Promise<void> {
    if (!this.full || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  drained(): Promise<void> {
    if (this.queue.length === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Takes over the queue restored from a checkpoint (before the first record; the calls start with `start`). */
  async open(): Promise<void> {
    const restored = this.ctx.state.get(QUEUE_KEY) ?? [];
    this.persisted = [...restored];
    for (const entry of this.persisted) {
      if ('watermark' in entry) this.queue.push({ kind: 'watermark', entry });
      else this.enqueue(entry.record, entry.ts, entry);
    }
    this.ctx.state.set(QUEUE_KEY, this.persisted);
    this.opened = true;
  }

  /** The job is open: restored calls are made again, in order, before any new record. */
  start(): number {
    this.started = true;
    const restored = this.records;
    this.startWaiting();
    return restored;
  }

  /** Nothing more leaves the operator (the job stopped or failed); what is queued stays in its state. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of this.queue) if (p.kind === 'record') p.cancelTimeout?.();
    this.setKeepAlive(false);
    this.wake();
  }

  /** A record from the chain: it joins the queue, and its call starts when a slot is free. */
  processElement(value: unknown, ts: number | undefined): void {
    const entry: QueuedEntry = { record: value, ts };
    this.persisted.push(entry);
    this.touch();
    this.enqueue(value, ts, entry);
    if (this.started) this.startWaiting();
  }

  /** The watermark of the operator's input rose: it goes on once every record before it has left. */
  onWatermark(watermark: number): void {
    // While restoring, the coordinator replays the input watermark: what the checkpoint held back is in the restored queue.
    if (!this.opened) return;
    if (this.queue.length === 0) { this.ctx.watermark.advance(watermark); return; }
    const last = this.queue[this.queue.length - 1];
    if (last.kind === 'watermark') {
      // Watermarks only rise: the latest one held behind the same records replaces the one before.
      last.entry.watermark = watermark;
    } else {
      const entry = { watermark };
      this.queue.push({ kind: 'watermark', entry });
      this.persisted.push(entry);
    }
    this.touch();
  }

  /** Every input went idle (or one is active again). */
  onIdle(idle: boolean): void {
    if (!this.opened) return;
    this.inputIdle = idle;
    if (!idle || this.queue.length === 0) this.ctx.watermark.setIdle(idle);
  }

  private enqueue(value: unknown, ts: number | undefined, entry: QueuedEntry): void {
    const pending: PendingRecord = { kind: 'record', position: ++this.positions, value, ts, status: 'waiting', outcome: null, cancelTimeout: null, entry };
    this.queue.push(pending);
    this.waiting.push(pending);
    this.records++;
  }

  /** The queue changed: the next checkpoint writes it. */
  private touch(): void {
    this.ctx.state.set(QUEUE_KEY, this.persisted);
  }

  private startWaiting(): void {
    while (!this.stopped && this.running < this.ctx.spec.capacity && this.waiting.length > 0) this.call(this.waiting.shift()!);
  }

  private call(pending: PendingRecord): void {
    pending.status = 'running';
    this.running++;
    this.setKeepAlive(true);
    const { time, spec } = this.ctx;
    pending.cancelTimeout = time.schedule(time.now() + spec.timeout, () => {
      this.settle(pending, { ok: false, error: new AsyncTimeoutError(`the asyncMap call did not complete within its timeout of ${spec.timeout} ms`) });
    });
    let result: unknown;
    try {
      result = this.ctx.fn(pending.value);
    } catch (error) {
      // A function that throws before returning its promise fails like one whose promise rejects.
      result = Promise.reject(error);
    }
    Promise.resolve(result).then(
      (value) => this.settle(pending, { ok: true, result: value }),
      (error: unknown) => this.settle(pending, { ok: false, error }),
    );
  }

  /** A call completed, failed or timed out (whichever came first counts). */
  private settle(pending: PendingRecord, outcome: NonNullable<PendingRecord['outcome']>): void {
    if (pending.status !== 'running' || this.stopped) return;
    pending.status = 'done';
    pending.outcome = outcome;
    pending.cancelTimeout?.();
    pending.cancelTimeout = null;
    this.running--;
    if (this.running === 0) this.setKeepAlive(false);
    this.ctx.enter(() => {
      this.startWaiting();
      this.release();
    });
  }

  /** Sends on what may leave the queue now: in order, or (unordered) every completed result before the first held watermark. */
  private release(): void {
    const queue = this.queue;
    for (;;) {
      if (this.stopped) return;
      if (this.ctx.spec.ordered) {
        const head = queue[0];
        if (head?.kind === 'record' && head.status === 'done') { this.remove(0); this.send(head); continue; }
      } else {
        let i = 0;
        while (i < queue.length && queue[i].kind === 'record') {
          const pending = queue[i] as PendingRecord;
          if (pending.status === 'done') { this.remove(i); this.send(pending); } else i++;
        }
        if (i > 0) break;
      }
      const head = queue[0];
      if (head?.kind !== 'watermark') break;
      this.remove(0);
      this.ctx.watermark.advance(head.entry.watermark);
    }
    this.wake();
  }

  private remove(index: number): void {
    const [removed] = this.queue.splice(index, 1);
    this.persisted.splice(index, 1);
    if (removed.kind === 'record') this.records--;
    this.touch();
  }

  private send(pending: PendingRecord): void {
    const outcome = pending.outcome!;
    if (outcome.ok) this.ctx.completed(pending.position, pending.value, () => this.ctx.emit(outcome.result, pending.ts));
    else this.ctx.failed(pending.position, pending.value, outcome.error);
  }

  /** Wakes whoever waits for room or for the queue to empty. */
  private wake(): void {
    if ((!this.full || this.stopped) && this.roomWaiters.length) { const waiters = this.roomWaiters; this.roomWaiters = []; for (const w of waiters) w(); }
    if (this.queue.length === 0 || this.stopped) {
      if (this.queue.length === 0 && this.inputIdle && !this.stopped) this.ctx.watermark.setIdle(true);
      if (this.drainWaiters.length) { const waiters = this.drainWaiters; this.drainWaiters = []; for (const w of waiters) w(); }
    }
  }

  private setKeepAlive(on: boolean): void {
    if (on && !this.keepAlive && !this.stopped) this.keepAlive = setInterval(() => undefined, 1 << 30);
    else if (!on && this.keepAlive) { clearInterval(this.keepAlive); this.keepAlive = null; }
  }
}
