// The peers benchmark's keyed tumbling-window count as a pipec pipeline
// (bench/peers/index.ts; the Kafka Streams peer is PeersApp.window): JSON events,
// event time from their `ts` field (no out-of-orderness: each input partition is
// in time order) → {user, count: 1} → keyBy(user) through a repartition topic →
// 1 s tumbling windows, counted; one final result per user and window when the
// watermark passes its end → an output topic, keyed by user. Two stages. The
// environment as in stateless.ts.
import { pipeline, kafka, windows, agg } from 'pipec';
import type { Event, UserCount, WindowCount } from './records.ts';

export default pipeline(process.env.BENCH_NAME ?? 'peers-window', (p) => {
  p.source(kafka.source<Event>({ topic: process.env.BENCH_IN ?? 'peers-in', format: 'json', startFrom: 'earliest' }))
    .assignTimestamps((e) => e.ts)
    .map((e): UserCount => ({ user: e.user, count: 1 }))
    .keyBy((c) => c.user)
    .window(windows.tumbling({ size: '1s' }))
    .aggregate(agg.count(), (count, { key, window }): WindowCount => ({ user: key, start: window.start, end: window.end, count }))
    .sink(kafka.sink({ topic: process.env.BENCH_OUT ?? 'peers-out', format: 'json', key: (r) => r.user }));
}, { mode: 'streaming', guarantee: process.env.BENCH_GUARANTEE === 'at-least-once' ? 'at-least-once' : 'exactly-once' });
