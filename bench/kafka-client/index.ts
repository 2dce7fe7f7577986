/**
 * `npm run bench -- kafka-client` (see measure.ts for what it measures): the
 * benchmark runs as a bundle built the way stage workers are, so kafkajs is
 * measured with the patches bundles carry (compiler/esbuild/kafkajs-patches.ts),
 * not as tsx loads it from node_modules.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { kafkajsPatches } from '../../compiler/esbuild/kafkajs-patches.ts';
import { REQUIRE_BANNER } from '../../compiler/esbuild/plugins.ts';
import { root } from '../lib.ts';

/** Bundles measure.ts (through bundled.ts) with the workers' kafkajs patches and runs it. */
export async function kafkaClientBench(o: { records: number; rounds: number }): Promise<void> {
  const outfile = path.join(root, 'bench/.out/kafka-client.mjs');
  // Outside the bundle (loaded from node_modules): TypeScript and esbuild, which the test helpers reach through the compiler, and @platformatic/kafka, which loads files next to itself.
  await esbuild.build({
    entryPoints: [path.join(root, 'bench/kafka-client/bundled.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'silent',
    plugins: [kafkajsPatches()], external: ['typescript', 'esbuild', '@platformatic/kafka'], banner: { js: REQUIRE_BANNER }, define: { 'import.meta.dirname': JSON.stringify(path.join(root, 'bench')) },
  });
  const child = spawn(process.execPath, [outfile, String(o.records), String(o.rounds)], { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the bundled kafka-client benchmark exited with ${code}`);
}
