/** `generator(fn, { ratePerSecond, count })`: a data simulator, bounded when `count` is set, paced when `ratePerSecond` is. */
import { setTimeout as sleep } from 'node:timers/promises';
import { yieldToEventLoop, type SourceConnector, type SourceContext } from '../types.ts';

/** Calls fn(0), fn(1), ... and emits the results. */
export class GeneratorSource implements SourceConnector {
  constructor(private readonly ctx: SourceContext) {}
  async run(emit: (value: unknown, timestamp: number | undefined) => void): Promise<void> {
    const { fn, count = Infinity, ratePerSecond } = this.ctx.options as { fn: (i: number) => unknown; count?: number; ratePerSecond?: number };
    const { signal } = this.ctx;
    const started = Date.now();
    for (let i = 0; i < count && !signal.aborted; i++) {
      emit(fn(i), undefined);
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
