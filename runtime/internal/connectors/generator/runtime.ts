/** `generator(fn, { ratePerSecond, count })`: a data simulator, bounded when `count` is set, paced when `ratePerSecond` is. */
import { setTimeout as sleep } from 'node:timers/promises';
import { yieldToEventLoop, type SourceConnector, type SourceContext, type SourceEmit } from '../types.ts';

/** Calls fn(0), fn(1), ... and emits the results. */
export class GeneratorSource implements SourceConnector {
  /** The next index: its position in a checkpoint. */
  private next = 0;
  constructor(private readonly ctx: SourceContext) {}
  snapshotPosition(): number { return this.next; }
  restorePosition(position: unknown): void { if (typeof position === 'number') this.next = position; }
  async run(emit: SourceEmit): Promise<void> {
    const { fn, count = Infinity, ratePerSecond } = this.ctx.options as { fn: (i: number) => unknown; count?: number; ratePerSecond?: number };
    const { signal } = this.ctx;
    // Restored from a checkpoint: resume at the next index, paced as if it had never stopped.
    const started = Date.now() - (ratePerSecond ? (this.next * 1000) / ratePerSecond : 0);
    for (let i = this.next; i < count && !signal.aborted; i++) {
      this.next = i + 1;
      const backpressure = emit(fn(i), undefined);
      if (backpressure) await backpressure;
      if (ratePerSecond) {
        const due = started + ((i + 1) * 1000) / ratePerSecond;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
      } else if ((i & 8191) === 8191) {
        await yieldToEventLoop();
      }
    }
  }
}
