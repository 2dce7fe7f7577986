// The checkpoint benchmark's job (bench/checkpoint/index.ts): clicks from a
// pre-filled topic, keyed by user, a rolling per-user count and total (a
// keyed reduce, whose state is one entry per user) to an output topic. Stage 0
// reads and repartitions; stage 1 keeps the state and checkpoints it. The
// environment names the pipeline and its topics (BENCH_NAME, BENCH_IN,
// BENCH_OUT) and picks the variant: BENCH_CHECKPOINT, the checkpoint interval
// ('1s'; '1h' stands for "off", which has no switch), and BENCH_GUARANTEE.
// Workers must run with the environment they were built with.
import { pipeline, kafka, type Duration } from 'pipec';

interface Click { user: string; n: number }
interface Total { user: string; count: number; total: number }

const name = process.env.BENCH_NAME ?? 'checkpoint-bench';
const interval = process.env.BENCH_CHECKPOINT ?? '1s';
const guarantee = process.env.BENCH_GUARANTEE === 'at-least-once' ? 'at-least-once' : 'exactly-once';

export default pipeline(name, (p) => {
  p.source(kafka.source<Click>({ topic: process.env.BENCH_IN ?? `${name}-in`, format: 'json', startFrom: 'earliest' }))
    .map((c): Total => ({ user: c.user, count: 1, total: c.n }))
    .keyBy((t) => t.user)
    .reduce((a, b) => ({ user: a.user, count: a.count + b.count, total: a.total + b.total }))
    .sink(kafka.sink({ topic: process.env.BENCH_OUT ?? `${name}-out`, format: 'json' }));
}, { mode: 'streaming', checkpoint: { interval: interval as Duration }, guarantee });
