/**
 * `npm run bench -- joins`: the same timestamped records (1 per ms, 100 keys,
 * half on each side) through a keyed tumbling 1 s count (the baseline), a
 * tumbling 1 s window join and an interval join (±50 ms), in memory
 * (local.mjs), each in fresh processes with rounds interleaved; prints the
 * median input records/s of each, its ratio to the aggregate, and the load
 * average. A join does more per record than a count (it buffers every
 * element and makes pairs), so the figures say what that costs.
 */
import os from 'node:os';
import { buildPipeline, median, timeJob } from '../lib.ts';

export async function joinsBench(options: { records: number; rounds: number }): Promise<void> {
  const kinds = ['aggregate', 'window', 'interval'] as const;
  const outDirs: Record<string, string> = {};
  for (const kind of kinds) {
    process.env.BENCH_JOIN = kind;
    outDirs[kind] = await buildPipeline('bench/joins/pipeline.ts');
  }
  const runs: Record<string, number[]> = { aggregate: [], window: [], interval: [] };
  const results: Record<string, string> = {};
  const load = [os.loadavg()];
  for (let round = 0; round < options.rounds; round++) {
    for (const kind of kinds) {
      const run = timeJob(outDirs[kind], { BENCH_RECORDS: String(options.records), BENCH_JOIN: kind });
      runs[kind].push(run.ms);
      results[kind] = run.stdout.trim();
    }
    load.push(os.loadavg());
    process.stderr.write(`round ${round + 1}/${options.rounds} done\n`);
  }
  const rate = (kind: string) => (options.records / median(runs[kind])) * 1000;
  console.log(`joins: ${options.records.toLocaleString('en')} timestamped records (100 keys, half per side), ${options.rounds} fresh-process runs each, medians (node ${process.version})`);
  console.log('operator                            records/s      ms   vs aggregate   output');
  const labels = { aggregate: 'keyed tumbling 1 s count', window: 'window join, tumbling 1 s', interval: 'interval join, -50..+50 ms' };
  for (const kind of kinds) {
    console.log(`${labels[kind].padEnd(32)} ${Math.round(rate(kind)).toLocaleString('en').padStart(12)} ${median(runs[kind]).toFixed(0).padStart(7)} ${(rate(kind) / rate('aggregate')).toFixed(2).padStart(14)}   ${results[kind].replace(/^.*results: /, '')} results`);
  }
  console.log(`ranges (ms): ${kinds.map((k) => `${k} ${Math.min(...runs[k]).toFixed(0)}–${Math.max(...runs[k]).toFixed(0)}`).join(', ')}`);
  console.log(`load average (1/5/15 min) before: ${load[0].map((l) => l.toFixed(2)).join(' ')}, after: ${load.at(-1)!.map((l) => l.toFixed(2)).join(' ')}, ${os.cpus().length} cores`);
}
