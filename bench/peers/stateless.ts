// The peers benchmark's stateless workload as a pipec pipeline (bench/peers/index.ts;
// the Kafka Streams peer is PeersApp.stateless): JSON events → drop 'noise' → a
// projection → an output topic, keyed by user. One stage. The environment names
// the pipeline, its topics and its guarantee (BENCH_NAME, BENCH_IN, BENCH_OUT,
// BENCH_GUARANTEE); the checkpoint interval is pipec's default.
import { pipeline, kafka } from 'pipec';
import type { Event, Projected } from './records.ts';

export default pipeline(process.env.BENCH_NAME ?? 'peers-stateless', (p) => {
  p.source(kafka.source<Event>({ topic: process.env.BENCH_IN ?? 'peers-in', format: 'json', startFrom: 'earliest' }))
    .filter((e) => e.action !== 'noise')
    .map((e): Projected => ({ id: e.id, user: e.user, action: e.action, url: e.url, kb: Math.floor(e.bytes / 1024) }))
    .sink(kafka.sink({ topic: process.env.BENCH_OUT ?? 'peers-out', format: 'json', key: (r) => r.user }));
}, { mode: 'streaming', guarantee: process.env.BENCH_GUARANTEE === 'at-least-once' ? 'at-least-once' : 'exactly-once' });
