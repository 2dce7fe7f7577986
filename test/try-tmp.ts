import { testPipeline } from '../runtime/testing/index.ts';
process.env.BENCH_JOIN = 'window';
const job = await testPipeline('bench/joins/pipeline.ts');
for (let i = 0; i < 4000; i++) job.source(0).push({ key: `k${(i * 7919) % 100}`, ts: i, side: i % 2 === 0 ? 'A' : 'B' });
await job.finish();
console.log(job.sink(0).values());
