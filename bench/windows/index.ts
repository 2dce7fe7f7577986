/**
 * `npm run bench -- windows`: 5,000,000 timestamped records through a keyed
 * tumbling 1 s count, a sliding 60 s / 1 s count and a session window, each in
 * fresh processes with rounds interleaved; prints median records/s and the
 * sliding/tumbling ratio (target ≥ 0.5; putting each record in 60 windows
 * would sit near 1/60).
 */
import { buildPipeline, median, timeJob } from '../lib.ts';

export async function windowsBench(options: { records: number; rounds: number }): Promise<void> {
  const outDir = await buildPipeline('bench/windows/pipeline.ts');
  const kinds = ['tumbling', 'sliding', 'session'] as const;
  const runs: Record<string, number[]> = { tumbling: [], sliding: [], session: [] };
  for (let round = 0; round < options.rounds; round++) {
    for (const kind of kinds) runs[kind].push(timeJob(outDir, { BENCH_RECORDS: String(options.records), BENCH_WINDOW: kind }).ms);
    process.stderr.write(`round ${round + 1}/${options.rounds} done\n`);
  }
  const rate = (kind: string) => (options.records / median(runs[kind])) * 1000;
  console.log(`windows: ${options.records.toLocaleString('en')} timestamped records, 100 keys, ${options.rounds} fresh-process runs per window, medians (node ${process.version})`);
  console.log('window                       records/s      ms');
  for (const kind of kinds) {
    const label = { tumbling: 'tumbling 1 s count', sliding: 'sliding 60 s / 1 s count', session: 'session (gap 1 s) count' }[kind];
    console.log(`${label.padEnd(26)} ${Math.round(rate(kind)).toLocaleString('en').padStart(11)} ${median(runs[kind]).toFixed(0).padStart(7)}`);
  }
  console.log(`sliding / tumbling: ${(rate('sliding') / rate('tumbling')).toFixed(2)}`);
}
