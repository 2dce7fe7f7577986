// The peers benchmark's keyed count as a pipec pipeline (bench/peers/index.ts; the
// Kafka Streams peer is PeersApp.count): JSON events → {user, count: 1} → keyBy(user)
// through a repartition topic → a rolling reduce, one output record per input
// record (the user's count so far) → an output topic, keyed by user. Two stages.
// The environment as in stateless.ts.
import { pipeline, kafka } from 'pipec';
import type { Event, UserCount } from './records.ts';

export default pipeline(process.env.BENCH_NAME ?? 'peers-count', (p) => {
  p.source(kafka.source<Event>({ topic: process.env.BENCH_IN ?? 'peers-in', format: 'json', startFrom: 'earliest' }))
    .map((e): UserCount => ({ user: e.user, count: 1 }))
    .keyBy((c) => c.user)
    .reduce((a, b) => ({ user: a.user, count: a.count + b.count }))
    .sink(kafka.sink({ topic: process.env.BENCH_OUT ?? 'peers-out', format: 'json', key: (r) => r.user }));
}, { mode: 'streaming', guarantee: process.env.BENCH_GUARANTEE === 'at-least-once' ? 'at-least-once' : 'exactly-once' });
