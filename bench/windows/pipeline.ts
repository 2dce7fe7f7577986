// The windows benchmark job: timestamped records over 100 keys, counted per key
// in the window BENCH_WINDOW names (tumbling 1 s, sliding 60 s / 1 s, or
// sessions with a 1 s gap). Results are counted, not printed.
import { pipeline, collection, print, windows, agg, type TimeWindowAssigner } from 'pipec';

interface Event { key: string; ts: number }

/** 1 record per ms, with a 2 s pause every 10 s so sessions close. */
function makeEvents(count: number): Event[] {
  const events: Event[] = new Array(count);
  for (let i = 0; i < count; i++) events[i] = { key: `k${(i * 7919) % 100}`, ts: i + Math.floor(i / 10_000) * 2_000 };
  return events;
}

function assigner(): TimeWindowAssigner {
  switch (process.env.BENCH_WINDOW) {
    case 'sliding': return windows.sliding({ size: '60s', slide: '1s' });
    case 'session': return windows.session({ gap: '1s' });
    default: return windows.tumbling({ size: '1s' });
  }
}

export default pipeline('windows-bench', (p) => {
  p.source(collection(makeEvents(Number(process.env.BENCH_RECORDS ?? 1000))))
    .assignTimestamps((e) => e.ts)
    .keyBy((e) => e.key)
    .window(assigner())
    .aggregate(agg.count(), (count, { key, window }) => ({ key, end: window.end, count }))
    .map((r) => r.count)
    .windowAll(windows.count({ size: 1_000_000_000 }))
    .aggregate(agg.count())
    .sink(print('results'));
}, { mode: 'streaming' });
