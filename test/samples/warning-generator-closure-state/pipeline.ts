// A user watermark generator that keeps its largest timestamp in a variable of
// its factory (PC2140: not checkpointed), beside one that keeps it in a field.
import { pipeline, collection, print, windows, agg, watermarks } from 'pipec';

interface Event { key: string; ts: number }

export default pipeline('warning-generator-closure-state', (p) => {
  const closure = watermarks.forGenerator<Event>(() => {
    let largest = -Infinity;
    return {
      onEvent(_e, ts) { largest = Math.max(largest, ts); },
      onPeriodicEmit(output) { output.emitWatermark(largest - 1); },
    };
  });
  p.source(collection<Event>([{ key: 'a', ts: 1 }, { key: 'a', ts: 12 }]))
    .assignTimestamps((e) => e.ts, closure.withIdleness('1m'))
    .union(p.source(collection<Event>([{ key: 'a', ts: 5 }])).assignTimestamps((e) => e.ts, watermarks.forGenerator<Event>(() => ({
      largest: -Infinity,
      onEvent(_e, ts) { this.largest = Math.max(this.largest, ts); },
      onPeriodicEmit(output) { output.emitWatermark(this.largest - 1); },
    }))))
    .keyBy((e) => e.key)
    .window(windows.tumbling({ size: 10 }))
    .aggregate(agg.count(), (n, { window }) => `[${window.start},${window.end}) ${n}`)
    .sink(print());
}, { mode: 'streaming' });
