/**
 * Processing time for a job: the wall clock and real timers in workers, a
 * manual clock in pipec/testing so tests advance time by hand.
 */

/** Processing time and callbacks at a processing time. */
export interface ProcessingTimeService {
  now(): number;
  /** Calls `callback` once processing time reaches `time`; returns a cancel function. */
  schedule(time: number, callback: () => void): () => void;
}

/** Wall-clock time with setTimeout. */
export function systemTime(): ProcessingTimeService {
  return {
    now: () => Date.now(),
    schedule(time, callback) {
      const handle = setTimeout(callback, Math.max(0, time - Date.now()));
      handle.unref?.();
      return () => clearTimeout(handle);
    },
  };
}

/** A clock that moves only when told to (tests). */
export class ManualTime implements ProcessingTimeService {
  private current: number;
  private readonly pending: Array<{ time: number; callback: () => void; seq: number; cancelled: boolean }> = [];
  private seq = 0;
  constructor(start = 0) { this.current = start; }
  now(): number { return this.current; }
  schedule(time: number, callback: () => void): () => void {
    const entry = { time, callback, seq: this.seq++, cancelled: false };
    this.pending.push(entry);
    return () => { entry.cancelled = true; };
  }
  /** Moves the clock to `time`, running due callbacks in time order (including ones they schedule). */
  advanceTo(time: number): void {
    for (;;) {
      const due = this.pending.filter((p) => !p.cancelled && p.time <= time).sort((a, b) => a.time - b.time || a.seq - b.seq)[0];
      if (!due) break;
      this.pending.splice(this.pending.indexOf(due), 1);
      this.current = Math.max(this.current, due.time);
      due.callback();
    }
    this.current = Math.max(this.current, time);
  }
}
