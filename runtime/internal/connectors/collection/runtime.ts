/** `collection(items)`: a bounded source over an in-memory array. */
import { yieldToEventLoop, type SourceConnector, type SourceContext, type SourceEmit } from '../types.ts';

/** Emits every item in order, yielding to the event loop every 8192 items. */
export class CollectionSource implements SourceConnector {
  constructor(private readonly ctx: SourceContext) {}
  async run(emit: SourceEmit): Promise<void> {
    const items = this.ctx.options.items as readonly unknown[];
    const { signal } = this.ctx;
    for (let start = 0; start < items.length && !signal.aborted; start += 8192) {
      const end = Math.min(items.length, start + 8192);
      for (let i = start; i < end; i++) {
        const backpressure = emit(items[i], undefined);
        if (backpressure) await backpressure;
      }
      if (end < items.length) await yieldToEventLoop();
    }
  }
}
