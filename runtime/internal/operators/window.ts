/**
 * WindowOperator: keyed (and, with one constant key, non-keyed) windows with
 * Flink's semantics (DESIGN.md §2).
 *
 * - Tumbling and sliding windows aggregate per pane (a slice of gcd(size, slide))
 *   and combine the panes of a window when it fires, so a 60 s / 1 s window costs
 *   about what a 1 s tumbling window does. One timer per key at the next window
 *   end with data; firing a window schedules the next.
 * - Session windows merge when they touch or overlap; touching counts, as in
 *   Flink's TimeWindow.intersects.
 * - A window fires when the watermark reaches end − 1. An element whose windows
 *   are all past end − 1 + allowedLateness is late: dropped and counted, or sent
 *   to the late-data side output. An element that lands in an already fired
 *   window within the allowed lateness fires it again (Flink's EventTimeTrigger).
 * - Count windows fire every `slide` elements of a key over the last `size`;
 *   a partial count window never fires.
 * - In batch mode nothing is late; every window fires once, at the end.
 *
 * Per-key window contents live in the KeyedStateBackend and timers in the
 * InternalTimerService, so both snapshot and restore by key group.
 */
import type { CountWindowAssigner, TimeWindowAssigner, WindowAssigner } from '../../api/windows.ts';
import type { KeyedStateBackend } from '../state/backend.ts';
import { ProcessingTimerDriver, type InternalTimerService, type TimeDomain } from '../state/timers.ts';
import type { ProcessingTimeService } from '../time.ts';
import type { WindowAccumulator } from './window-functions.ts';

/** Everything a window operator needs from the runtime. */
export interface WindowOperatorContext {
  assigner: WindowAssigner;
  allowedLateness: number;
  accumulator: WindowAccumulator;
  backend: KeyedStateBackend;
  timers: InternalTimerService;
  time: ProcessingTimeService;
  batch: boolean;
  /** windowAll: user functions see `key` as undefined. */
  keyed: boolean;
  emit(value: unknown, ts: number | undefined): void;
  /** Late elements: to the side output when one is set, else counted. */
  late(value: unknown, ts: number | undefined): void;
  /** Whether the job was stopped rather than ending its input: then endOfInput fires nothing (the windows are in the checkpoint). */
  stopped?: () => boolean;
}

/** Panes of one key: accumulators by pane start, and the starts in ascending order (appends in the usual in-order case). */
interface PaneState { panes: Map<number, unknown>; starts: number[]; timer: number | undefined }
interface Session { start: number; end: number; acc: unknown }
interface SessionState { sessions: Session[] }
interface CountState { count: number; acc: unknown; buffer: unknown[] }

const mod = (a: number, b: number) => ((a % b) + b) % b;

/** The index of the first element ≥ value in a sorted array. */
function lowerBound(sorted: number[], value: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] < value) lo = mid + 1; else hi = mid; }
  return lo;
}

/** Inserts into a sorted array; appending (in-order data) is O(1). */
function insertSorted(sorted: number[], value: number): void {
  if (sorted.length === 0 || sorted[sorted.length - 1] < value) sorted.push(value);
  else sorted.splice(lowerBound(sorted, value), 0, value);
}
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The window operator of one keyed stage instance. */
export class WindowOperator {
  private watermark = -Infinity;
  private readonly domain: TimeDomain;
  private readonly pane: number;
  private readonly processingTimers: ProcessingTimerDriver;
  private readonly table: Map<unknown, unknown>;

  constructor(private readonly ctx: WindowOperatorContext) {
    const a = ctx.assigner;
    this.domain = a.type !== 'count' && (a as TimeWindowAssigner).time === 'processing' ? 'processing' : 'event';
    this.pane = a.type === 'tumbling' || a.type === 'sliding' ? gcd(a.size, a.slide) : 0;
    this.table = ctx.backend.table('window');
    this.processingTimers = new ProcessingTimerDriver(ctx.timers, ctx.time, (key, t) => this.onTimer(key, t));
  }

  /** The time the window logic runs on now: the watermark, or the clock for processing time. */
  private now(): number {
    return this.domain === 'event' ? this.watermark : this.ctx.time.now();
  }

  processElement(key: unknown, value: unknown, ts: number | undefined): void {
    const a = this.ctx.assigner;
    if (a.type === 'count') { this.countElement(a, key, value, ts); return; }
    const time = this.domain === 'event' ? ts : this.ctx.time.now();
    if (time === undefined) throw new Error('a record without a timestamp reached an event-time window: call assignTimestamps upstream');
    this.ctx.backend.currentKey = key;
    if (a.type === 'session') this.sessionElement(a, key, value, time, ts);
    else this.paneElement(a, key, value, time, ts);
  }

  /** The watermark rose: fire due windows (event time). */
  onWatermark(watermark: number): void {
    this.watermark = watermark;
    if (this.domain === 'event') this.ctx.timers.advance('event', watermark, (key, t) => this.onTimer(key, t));
  }

  /** End of input: processing-time windows fire too (event-time ones fired at the +∞ watermark); on a stop, nothing fires. */
  endOfInput(): void {
    this.processingTimers.stop();
    if (this.domain === 'processing' && !this.ctx.stopped?.()) this.ctx.timers.advance('processing', Infinity, (key, t) => this.onTimer(key, t));
  }

  private isLate(end: number, now: number): boolean {
    return !this.ctx.batch && this.domain === 'event' && end - 1 + this.ctx.allowedLateness <= now;
  }

  private register(key: unknown, timestamp: number): void {
    this.ctx.timers.register(this.domain, key, timestamp);
    if (this.domain === 'processing') this.processingTimers.schedule();
  }



  private out(key: unknown, window: object, acc: unknown, ts: number | undefined): void {
    this.ctx.accumulator.emit(acc, this.ctx.keyed ? key : undefined, window, ts, this.watermark, this.ctx.emit);
  }

  // ---- tumbling and sliding: panes ----

  private paneElement(a: TimeWindowAssigner, key: unknown, value: unknown, time: number, ts: number | undefined): void {
    const { size, slide, offset } = a;
    const lastStart = time - mod(time - offset, slide);
    const now = this.now();
    if (this.isLate(lastStart + size, now)) { this.ctx.late(value, ts); return; }
    let state = this.table.get(key) as PaneState | undefined;
    if (!state) { state = { panes: new Map(), starts: [], timer: undefined }; this.table.set(key, state); }
    const acc = this.ctx.accumulator;
    const paneStart = time - mod(time - offset, this.pane);
    const paneAcc = state.panes.get(paneStart);
    if (paneAcc === undefined) insertSorted(state.starts, paneStart);
    // Without merge, a pane keeps its elements and windows fold them when they fire.
    state.panes.set(paneStart, acc.merge ? acc.add(value, paneAcc === undefined ? acc.create() : paneAcc) : [...((paneAcc as unknown[]) ?? []), value]);

    const ends = this.windowEnds(time);
    if (ends.first - 1 > now || (this.ctx.batch && this.domain === 'event')) {
      this.ensureTimer(key, state, ends.first - 1);
      return;
    }
    // Some windows of this element already fired: fire those within lateness again, time the rest.
    for (let end = ends.first; end <= ends.last; end += slide) {
      const start = end - size;
      if (this.isLate(end, now)) continue;
      if (end - 1 <= now) this.firePaneWindow(key, state, start, end);
      else { this.ensureTimer(key, state, end - 1); break; }
    }
  }

  /** Keeps one pending timer per key at its earliest window end; firing it schedules the next (onTimer clears `state.timer`). */
  private ensureTimer(key: unknown, state: PaneState, timestamp: number): void {
    if (state.timer !== undefined && state.timer <= timestamp) return;
    state.timer = timestamp;
    this.register(key, timestamp);
  }

  private windowAccumulator(state: PaneState, start: number, end: number): unknown {
    const acc = this.ctx.accumulator;
    if (this.pane === end - start) {
      const only = state.panes.get(start);
      if (only === undefined || acc.merge) return only;
    }
    let result: unknown = undefined;
    const starts = state.starts;
    for (let i = lowerBound(starts, start); i < starts.length && starts[i] < end; i++) {
      const paneAcc = state.panes.get(starts[i]);
      if (acc.merge) result = result === undefined ? acc.merge(acc.create(), paneAcc) : acc.merge(result, paneAcc);
      else { result ??= acc.create(); for (const v of paneAcc as unknown[]) result = acc.add(v, result); }
    }
    return result;
  }

  private firePaneWindow(key: unknown, state: PaneState, start: number, end: number): void {
    const windowAcc = this.windowAccumulator(state, start, end);
    if (windowAcc !== undefined) this.out(key, { start, end }, windowAcc, end - 1);
  }

  // ---- sessions ----

  private sessionElement(a: TimeWindowAssigner, key: unknown, value: unknown, time: number, ts: number | undefined): void {
    const acc = this.ctx.accumulator;
    if (!acc.merge) throw new Error('session windows need an aggregate function with merge(a, b)');
    const state = (this.table.get(key) as SessionState | undefined) ?? { sessions: [] };
    let start = time;
    let end = time + a.gap;
    const touching = state.sessions.filter((s) => s.start <= end && s.end >= start);
    for (const s of touching) { start = Math.min(start, s.start); end = Math.max(end, s.end); }
    const now = this.now();
    if (this.isLate(end, now)) { this.ctx.late(value, ts); return; }
    let session: Session;
    if (touching.length === 1) {
      // The common case: the element extends one session in place. Its timer stays where it is
      // and moves when it fires (onTimer), instead of being re-registered for every element.
      session = touching[0];
      session.start = start;
      session.end = end;
      session.acc = acc.add(value, session.acc);
    } else {
      let merged = acc.create();
      for (const s of touching) merged = acc.merge(merged, s.acc);
      session = { start, end, acc: acc.add(value, merged) };
      state.sessions = state.sessions.filter((s) => !touching.includes(s)).concat(session).sort((x, y) => x.start - y.start);
      this.table.set(key, state);
    }
    if (end - 1 <= now && !(this.ctx.batch && this.domain === 'event')) {
      this.out(key, { start, end }, session.acc, end - 1);
      if (this.ctx.allowedLateness > 0) this.register(key, end - 1 + this.ctx.allowedLateness);
    } else if (touching.length !== 1) {
      this.register(key, end - 1);
    }
  }

  // ---- timers ----

  /** The first and last end of the windows that contain pane (or time) `p`. */
  private windowEnds(p: number): { first: number; last: number } {
    const { size, slide, offset } = this.ctx.assigner as TimeWindowAssigner;
    const lastStart = p - mod(p - offset, slide);
    let firstStart = lastStart - slide * (Math.ceil(size / slide) - 1);
    while (firstStart + size <= p) firstStart += slide;
    return { first: firstStart + size, last: lastStart + size };
  }

  /**
   * Timers fire in timestamp order, so when the timer at `timestamp` runs, every
   * window ending at or before timestamp + 1 has fired. Fire the window ending at
   * timestamp + 1, drop what no window needs any more (past allowed lateness),
   * and set the timer for the next window end that has data.
   */
  private onTimer(key: unknown, timestamp: number): void {
    this.ctx.backend.currentKey = key;
    const a = this.ctx.assigner as TimeWindowAssigner;
    const now = this.domain === 'event' ? this.watermark : Math.max(timestamp, this.ctx.time.now());
    const lateness = this.domain === 'event' && !this.ctx.batch ? this.ctx.allowedLateness : 0;
    const end = timestamp + 1;
    if (a.type === 'session') {
      const state = this.table.get(key) as SessionState | undefined;
      if (!state) return;
      // A session that grew after its timer was set: move the timer to its new end.
      const grown = state.sessions.find((s) => s.start < end && s.end > end);
      if (grown && grown.end - 1 > now) this.register(key, grown.end - 1);
      const due = state.sessions.find((s) => s.end === end) ?? (grown && grown.end - 1 <= now ? grown : undefined);
      if (due) {
        this.out(key, { start: due.start, end: due.end }, due.acc, due.end - 1);
        if (lateness > 0) this.register(key, due.end - 1 + lateness);
      }
      state.sessions = state.sessions.filter((s) => (s === due ? s.end - 1 + lateness > now : s.end > end || s.end - 1 + lateness > now));
      if (state.sessions.length === 0) this.table.delete(key);
      return;
    }
    const state = this.table.get(key) as PaneState | undefined;
    if (!state) return;
    if (state.timer === timestamp) state.timer = undefined;
    if (mod(end - a.offset - a.size, a.slide) === 0) this.firePaneWindow(key, state, end - a.size, end);
    // Panes are sorted, so those every window is done with (and that are past lateness) are at the front.
    const starts = state.starts;
    let drop = 0;
    while (drop < starts.length && this.windowEnds(starts[drop]).last - 1 + lateness <= now && this.windowEnds(starts[drop]).last <= end) state.panes.delete(starts[drop++]);
    if (drop) starts.splice(0, drop);
    if (starts.length === 0) { this.table.delete(key); return; }
    let nextEnd = Infinity;
    let cleanup = Infinity;
    for (const p of starts) {
      const ends = this.windowEnds(p);
      if (ends.last <= end) { cleanup = Math.min(cleanup, ends.last - 1 + lateness); continue; }
      nextEnd = ends.first > end ? ends.first : ends.first + Math.ceil((end + 1 - ends.first) / a.slide) * a.slide;
      break; // later panes have later window ends
    }
    if (nextEnd !== Infinity) this.ensureTimer(key, state, nextEnd - 1);
    if (cleanup !== Infinity && cleanup !== timestamp) this.register(key, cleanup);
  }

  // ---- count windows ----

  private countElement(a: CountWindowAssigner, key: unknown, value: unknown, ts: number | undefined): void {
    this.ctx.backend.currentKey = key;
    const acc = this.ctx.accumulator;
    let state = this.table.get(key) as CountState | undefined;
    if (!state) { state = { count: 0, acc: undefined, buffer: [] }; this.table.set(key, state); }
    state.count++;
    if (a.slide === a.size) {
      state.acc = acc.add(value, state.acc === undefined ? acc.create() : state.acc);
      if (state.count % a.size === 0) {
        this.out(key, { id: state.count - 1 }, state.acc, ts);
        state.acc = undefined;
      }
      return;
    }
    state.buffer.push(value);
    if (state.buffer.length > a.size) state.buffer.shift();
    if (state.count >= a.size && state.count % a.slide === 0) {
      let windowAcc = acc.create();
      for (const v of state.buffer) windowAcc = acc.add(v, windowAcc);
      this.out(key, { id: state.count - 1 }, windowAcc, ts);
    }
  }
}
