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
import { build, nodeHost } from '../../compiler/index.ts';

const root = path.resolve(import.meta.dirname, '../..');
const out = path.join(root, 'bench/.out');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export async function fusion(options: { records: number; rounds: number }): Promise<void> {
  fs.rmSync(out, { recursive: true, force: true });
  const built = await build(nodeHost(root), 'bench/fusion/pipeline.ts', path.relative(root, out));
  if (!built.outDir) throw new Error(`pipec build failed: ${JSON.stringify(built.diagnostics)}`);
  await esbuild.build({ entryPoints: [path.join(root, 'bench/fusion/variants.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: path.join(out, 'variants.mjs'), logLevel: 'silent' });

  const runs: Record<string, number[]> = { 'hand loop': [], 'pipec generated': [], 'operator chain': [], 'object streams': [] };
  const keys = new Set<number>();
  for (let round = 0; round < options.rounds; round++) {
    for (const [label, variant] of [['hand loop', 'hand'], ['operator chain', 'operators'], ['object streams', 'streams']] as const) {
      const result = spawnSync(process.execPath, [path.join(out, 'variants.mjs'), variant, String(options.records)], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(result.stderr);
      const parsed = JSON.parse(result.stdout);
      runs[label].push(parsed.ms);
      keys.add(parsed.keys);
    }
    const pipec = spawnSync(process.execPath, [path.join(built.outDir, 'local.mjs')], { encoding: 'utf8', env: { ...process.env, BENCH_RECORDS: String(options.records) } });
    if (pipec.status !== 0) throw new Error(pipec.stderr);
    const finished = pipec.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.msg === 'job finished');
    runs['pipec generated'].push(finished.ms);
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
