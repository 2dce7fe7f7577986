// The Kafka benchmark job: one stage, topic → filter → map → topic. Topics come
// from the environment so each benchmark run uses fresh ones.
import { pipeline, kafka } from 'pipec';

interface Event { id: number; ts: number; user: string; action: string; url: string; agent: string; bytes: number }

export default pipeline('kafka-bench', (p) => {
  p.source(kafka.source<Event>({ topic: process.env.BENCH_IN ?? 'bench-in', format: 'json', startFrom: 'earliest', group: process.env.BENCH_GROUP }))
    .filter((e) => e.action !== 'noise')
    .map((e) => ({ id: e.id, user: e.user, url: e.url, kb: e.bytes / 1024 }))
    .sink(kafka.sink({ topic: process.env.BENCH_OUT ?? 'bench-out', format: 'json' }));
}, { mode: 'streaming' });
