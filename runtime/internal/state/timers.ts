/**
 * InternalTimerService: keyed event-time and processing-time timers, at most
 * one per (key, timestamp) per domain, deletable, fired in timestamp order
 * (ties in registration order), and snapshotted by key group like state.
 */
import { keyText } from '../partitioning.ts';
import { keyGroupOf, MAX_PARALLELISM } from './backend.ts';
import type { ProcessingTimeService } from '../time.ts';

/** A registered timer. */
export interface Timer { key: unknown; timestamp: number; seq: number; deleted: boolean }

/** The two clocks a timer can follow. */
export type TimeDomain = 'event' | 'processing';

/** A min-heap of timers with (key, timestamp) deduplication and lazy deletion. */
class TimerQueue {
  private heap: Timer[] = [];
  private readonly live = new Map<string, Timer>();
  private seq = 0;
  /** Timers added or removed since the last checkpoint, by id (tracked services only). */
  touched: Map<string, { key: unknown; timestamp: number }> | null = null;

  private static id(key: unknown, timestamp: number): string {
    return `${typeof key === 'string' ? 's' : typeof key === 'bigint' ? 'b' : 'n'}${keyText(key)}\u0000${timestamp}`;
  }
  private less(a: Timer, b: Timer): boolean { return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq); }

  add(key: unknown, timestamp: number): void {
    const id = TimerQueue.id(key, timestamp);
    if (this.live.has(id)) return;
    const timer = { key, timestamp, seq: this.seq++, deleted: false };
    this.live.set(id, timer);
    this.touched?.set(id, { key, timestamp });
    const heap = this.heap;
    heap.push(timer);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }
  delete(key: unknown, timestamp: number): void {
    const id = TimerQueue.id(key, timestamp);
    const timer = this.live.get(id);
    if (timer) { timer.deleted = true; this.live.delete(id); this.touched?.set(id, { key, timestamp }); }
  }
  has(key: unknown, timestamp: number): boolean { return this.live.has(TimerQueue.id(key, timestamp)); }

  /** The earliest live timer, dropping deleted ones on the way. */
  peek(): Timer | undefined {
    while (this.heap.length) {
      const top = this.heap[0];
      if (!top.deleted) return top;
      this.pop();
    }
    return undefined;
  }
  pop(): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < heap.length && this.less(heap[l], heap[m])) m = l;
        if (r < heap.length && this.less(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    if (top && !top.deleted) {
      top.deleted = true;
      const id = TimerQueue.id(top.key, top.timestamp);
      this.live.delete(id);
      this.touched?.set(id, { key: top.key, timestamp: top.timestamp });
    }
    return top;
  }
  /** Timers added or removed since the last call: id, key, timestamp and whether it is live now. */
  takeChanges(): Array<{ id: string; key: unknown; timestamp: number; live: boolean }> {
    if (!this.touched) return [];
    const changes = [...this.touched].map(([id, t]) => ({ id, key: t.key, timestamp: t.timestamp, live: this.live.has(id) }));
    this.touched.clear();
    return changes;
  }
  /** Timers added or removed since the last call, in columns (keys, timestamps, live now), forgetting them. */
  takeChangedColumns(): [keys: unknown[], timestamps: number[], live: boolean[]] | null {
    if (!this.touched || this.touched.size === 0) return null;
    const keys: unknown[] = [], timestamps: number[] = [], live: boolean[] = [];
    for (const [id, t] of this.touched) { keys.push(t.key); timestamps.push(t.timestamp); live.push(this.live.has(id)); }
    this.touched.clear();
    return [keys, timestamps, live];
  }
  /** Every live timer in columns (keys, timestamps), forgetting what was touched (a full checkpoint writes all of it). */
  liveColumns(): [keys: unknown[], timestamps: number[]] | null {
    this.touched?.clear();
    if (this.live.size === 0) return null;
    const keys: unknown[] = [], timestamps: number[] = [];
    for (const t of this.live.values()) { keys.push(t.key); timestamps.push(t.timestamp); }
    return [keys, timestamps];
  }
  /** Live timers in firing order. */
  all(): Timer[] { return [...this.live.values()].sort((a, b) => (this.less(a, b) ? -1 : 1)); }
  get size(): number { return this.live.size; }
}

/** A timer in a snapshot. */
export interface TimerEntry { domain: TimeDomain; keyGroup: number; key: unknown; timestamp: number }

/** Timers of one domain in columns: keys, timestamps, and whether each is live (false: removed). */
export type TimerColumns = [domain: TimeDomain, keys: unknown[], timestamps: number[], live: boolean[]];

/** A timer added (live) or removed since the last checkpoint. */
export interface TimerChange { domain: TimeDomain; id: string; key: unknown; timestamp: number; live: boolean }

/** Timers of one keyed operator instance. */
export class InternalTimerService {
  private readonly event = new TimerQueue();
  private readonly processing = new TimerQueue();
  private readonly restoredListeners: Array<() => void> = [];

  /** With `tracked`, the service records added and removed timers for incremental checkpoints. */
  constructor(tracked = false) {
    if (tracked) { this.event.touched = new Map(); this.processing.touched = new Map(); }
  }

  /** Timers added or removed since the last call (tracked services). */
  takeChanges(): TimerChange[] {
    return [
      ...this.event.takeChanges().map((c) => ({ domain: 'event' as const, ...c })),
      ...this.processing.takeChanges().map((c) => ({ domain: 'processing' as const, ...c })),
    ];
  }

  /** Timers added or removed since the last call (tracked services), per domain in columns: keys, timestamps, live now. */
  takeChangedColumns(): TimerColumns[] {
    const changed: TimerColumns[] = [];
    for (const [domain, queue] of [['event', this.event], ['processing', this.processing]] as const) {
      const columns = queue.takeChangedColumns();
      if (columns) changed.push([domain, ...columns]);
    }
    return changed;
  }

  /** Every live timer, per domain in columns (live all true), forgetting what was touched. */
  liveColumns(): TimerColumns[] {
    const all: TimerColumns[] = [];
    for (const [domain, queue] of [['event', this.event], ['processing', this.processing]] as const) {
      const columns = queue.liveColumns();
      if (columns) all.push([domain, columns[0], columns[1], columns[0].map(() => true)]);
    }
    return all;
  }

  /** Puts timers back from a checkpoint (not counted as changes), then lets drivers schedule restored processing-time timers. */
  restoreTimers(timers: Iterable<{ domain: TimeDomain; key: unknown; timestamp: number }>): void {
    for (const t of timers) {
      const queue = t.domain === 'event' ? this.event : this.processing;
      const touched = queue.touched;
      queue.touched = null;
      queue.add(t.key, t.timestamp);
      queue.touched = touched;
    }
    for (const listener of this.restoredListeners) listener();
  }

  /** Called after timers were restored (a ProcessingTimerDriver schedules its first callback). */
  onRestored(listener: () => void): void { this.restoredListeners.push(listener); }

  register(domain: TimeDomain, key: unknown, timestamp: number): void { (domain === 'event' ? this.event : this.processing).add(key, timestamp); }
  delete(domain: TimeDomain, key: unknown, timestamp: number): void { (domain === 'event' ? this.event : this.processing).delete(key, timestamp); }
  has(domain: TimeDomain, key: unknown, timestamp: number): boolean { return (domain === 'event' ? this.event : this.processing).has(key, timestamp); }

  /** Fires, in order, every timer of the domain at or before `time`, including timers registered by the callbacks. */
  advance(domain: TimeDomain, time: number, onTimer: (key: unknown, timestamp: number) => void): void {
    const queue = domain === 'event' ? this.event : this.processing;
    for (let next = queue.peek(); next && next.timestamp <= time; next = queue.peek()) {
      queue.pop();
      onTimer(next.key, next.timestamp);
    }
  }

  /** When the next processing-time timer is due. */
  nextProcessingTime(): number | undefined { return this.processing.peek()?.timestamp; }

  /** Number of live timers (both domains). */
  get size(): number { return this.event.size + this.processing.size; }

  snapshot(keyGroups?: ReadonlySet<number>): { maxParallelism: number; timers: TimerEntry[] } {
    const timers: TimerEntry[] = [];
    for (const [domain, queue] of [['event', this.event], ['processing', this.processing]] as const) {
      for (const t of queue.all()) {
        const keyGroup = keyGroupOf(t.key);
        if (!keyGroups || keyGroups.has(keyGroup)) timers.push({ domain, keyGroup, key: t.key, timestamp: t.timestamp });
      }
    }
    return { maxParallelism: MAX_PARALLELISM, timers };
  }

  restore(snapshot: { timers: TimerEntry[] }, keyGroups?: ReadonlySet<number>): void {
    for (const t of snapshot.timers) if (!keyGroups || keyGroups.has(t.keyGroup)) this.register(t.domain, t.key, t.timestamp);
  }
}

/**
 * Drives an operator's processing-time timers from the processing-time
 * service: one pending callback, at the earliest timer; when it runs, due
 * timers fire and the next callback is set.
 */
export class ProcessingTimerDriver {
  private scheduled: { at: number; cancel: () => void } | null = null;

  constructor(
    private readonly timers: InternalTimerService,
    private readonly time: ProcessingTimeService,
    private readonly onTimer: (key: unknown, timestamp: number) => void,
  ) {
    // Processing-time timers restored from a checkpoint fire on the wall clock (at once when already due).
    timers.onRestored(() => this.schedule());
  }

  /** Call after registering a processing-time timer. */
  schedule(): void {
    const next = this.timers.nextProcessingTime();
    if (next === undefined || (this.scheduled && this.scheduled.at <= next)) return;
    this.scheduled?.cancel();
    this.scheduled = {
      at: next,
      cancel: this.time.schedule(next, () => {
        this.scheduled = null;
        this.timers.advance('processing', this.time.now(), this.onTimer);
        this.schedule();
      }),
    };
  }

  /** Stops the pending callback (end of input, shutdown). */
  stop(): void {
    this.scheduled?.cancel();
    this.scheduled = null;
  }
}
