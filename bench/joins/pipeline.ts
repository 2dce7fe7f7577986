// The joins benchmark job: the same timestamped records (1 per ms, 100 keys,
// alternately on side A and side B) through the operator BENCH_JOIN names:
// - aggregate: a keyed tumbling 1 s count of all records (the baseline);
// - window: a tumbling 1 s window join of side A with side B (each key has
//   about 5 elements per side in a window, so about 25 pairs);
// - interval: an interval join of A with the B elements of its key from 50 ms
//   before to 50 ms after it (about 1 per A element).
// Results are counted in one window at the end, not printed one by one. Each
// kind is its own pipeline (joins-bench-<kind>), built separately.
import { pipeline, collection, print, windows, agg, type DataStream } from 'pipec';

interface Event { key: string; ts: number; side: 'A' | 'B' }

function makeEvents(count: number): Event[] {
  const events: Event[] = new Array(count);
  // Both sides of a pair of consecutive records have the same key.
  for (let i = 0; i < count; i++) events[i] = { key: `k${((i >> 1) * 7919) % 100}`, ts: i, side: i % 2 === 0 ? 'A' : 'B' };
  return events;
}

/** One count of everything a stream produced, when the input ends. */
function countAll(results: DataStream<number>): void {
  results
    .windowAll(windows.tumbling({ size: 1e12 }))
    .aggregate(agg.count(), (count) => `${process.env.BENCH_JOIN ?? 'aggregate'} results: ${count}`)
    .sink(print());
}

export default pipeline(`joins-bench-${process.env.BENCH_JOIN ?? 'aggregate'}`, (p) => {
  const events = p.source(collection(makeEvents(Number(process.env.BENCH_RECORDS ?? 1000)))).assignTimestamps((e) => e.ts);
  const a = events.filter((e) => e.side === 'A');
  const b = events.filter((e) => e.side === 'B');
  switch (process.env.BENCH_JOIN) {
    case 'window':
      countAll(a.join(b).where((x) => x.key).equalTo((y) => y.key).window(windows.tumbling({ size: '1s' })).apply((x, y) => y.ts - x.ts));
      break;
    case 'interval':
      countAll(a.keyBy((x) => x.key).intervalJoin(b.keyBy((y) => y.key)).between(-50, 50)
        .process({ processElement(x, y, ctx) { ctx.emit(y.ts - x.ts); } }));
      break;
    default:
      countAll(events.keyBy((e) => e.key).window(windows.tumbling({ size: '1s' })).aggregate(agg.count(), (count) => count));
  }
}, { mode: 'streaming' });
