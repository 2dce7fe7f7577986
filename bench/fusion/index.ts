/**
 * `npm run bench -- fusion`: the same 5,000,000-record job four ways, each run
 * in a fresh process, rounds interleaved so machine noise hits every variant
 * alike; prints the median records/s and its ratio to the hand-written loop.
 * The pipec variant is the real build output (local.mjs), timed by the job's own
 * "job finished" log line, which covers processing only, as the others do.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { buildPipeline, median, root, timeJob } from '../lib.ts';

const out = path.join(root, 'bench/.out');

export async function fusion(options: { records: number; rounds: number }): Promise<void> {
  fs.rmSync(out, { recursive: true, force: true });
  const outDir = await buildPipeline('bench/fusion/pipeline.ts');
  await esbuild.build({ entryPoints: [path.join(root, 'bench/fusion/variants.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: path.join(out, 'variants.mjs'), logLevel: 'silent' });

  const runs: Record<string, number[]> = { 'hand loop': [], 'pipec generated': [], 'operator chain': [], 'object streams': [] };
  const keys = new Set<number>();
  for (let round = 0; round < options.rounds; round++) {
    for (const [label, variant] of [['hand loop', 'hand'], ['operator chain', 'operators'], ['object streams', 'streams']] as const) {
      const result = spawnSync(process.execPath, ['--expose-gc', path.join(out, 'variants.mjs'), variant, String(options.records)], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(result.stderr);
      const parsed = JSON.parse(result.stdout);
      runs[label].push(parsed.ms);
      keys.add(parsed.keys);
    }
    const pipec = timeJob(outDir, { BENCH_RECORDS: String(options.records) });
    runs['pipec generated'].push(pipec.ms);
    keys.add(pipec.stdout.split('\n').filter(Boolean).length);
    process.stderr.write(`round ${round + 1}/${options.rounds} done\n`);
  }
  if (keys.size !== 1) throw new Error(`variants disagree on the number of keys: ${[...keys]}`);
  const hand = median(runs['hand loop']);
  console.log(`fusion: ${options.records.toLocaleString('en')} records, ${options.rounds} fresh-process runs per variant, medians (node ${process.version})`);
  console.log('variant            records/s      ms   ratio to hand loop');
  for (const [label, values] of Object.entries(runs)) {
    const ms = median(values);
    console.log(`${label.padEnd(17)} ${Math.round((options.records / ms) * 1000).toLocaleString('en').padStart(11)} ${ms.toFixed(0).padStart(6)}   ${(hand / ms).toFixed(2)}`);
  }
}
