/** Helpers shared by the benchmarks: medians, building a pipeline, timing a built job in a fresh process. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { build, nodeHost } from '../compiler/index.ts';

import { root } from './stats.ts';

export { median, root } from './stats.ts';

/** Builds a pipeline file into bench/.out and returns its output folder. */
export async function buildPipeline(file: string): Promise<string> {
  const built = await build(nodeHost(root), file, 'bench/.out');
  if (!built.outDir) throw new Error(`pipec build ${file} failed: ${JSON.stringify(built.diagnostics)}`);
  return built.outDir;
}

/** Runs a built job's local.mjs in a fresh process; returns the processing time its "job finished" log line reports, and its stdout. */
export function timeJob(outDir: string, env: Record<string, string>): { ms: number; stdout: string } {
  // --expose-gc: inputs built in the build function may collect the heap before the job starts (see fusion/records.ts).
  const run = spawnSync(process.execPath, ['--expose-gc', path.join(outDir, 'local.mjs')], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(run.stderr);
  const finished = run.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.msg === 'job finished');
  return { ms: finished.ms, stdout: run.stdout };
}
