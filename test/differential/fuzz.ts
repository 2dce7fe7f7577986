/**
 * `npm run fuzz -- --seed N --runs M [--local K] [--workers K] [--shrink-ms T]`:
 * the differential test for longer than CI runs it. Runs programs for seeds
 * N .. N+M-1 in process (pipec/testing), every K-th also as local.mjs and,
 * with --workers and a broker (PIPEC_KAFKA_BROKERS, or the project's own),
 * as stage workers over Kafka; shrinks each failure and prints the minimal
 * program, one per distinct failure class, with the seeds that hit it.
 * Exits 1 when anything failed.
 */
import os from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { generateProgram, renderProgram, type Program } from './program.ts';
import { DifferentialRunner, describeFailure, type Failure, type Target } from './runner.ts';

const argv = yargs(hideBin(process.argv))
  .option('seed', { type: 'number', default: 1, describe: 'first seed' })
  .option('runs', { type: 'number', default: 200, describe: 'how many seeds' })
  .option('local', { type: 'number', default: 10, describe: 'also run every K-th program as local.mjs (0: never)' })
  .option('workers', { type: 'number', default: 0, describe: 'also run every K-th program as stage workers on Kafka (0: never)' })
  .option('shrink-ms', { type: 'number', default: 60_000, describe: 'time to shrink one failure' })
  .option('print', { type: 'boolean', default: false, describe: 'print the program of --seed and exit' })
  .strict()
  .parseSync();

if (argv.print) {
  process.stdout.write(renderProgram(generateProgram(argv.seed)));
  process.exit(0);
}

let brokers: string | undefined;
if (argv.workers > 0) {
  const { kafkaBrokers } = await import('../kafka-helpers.ts');
  brokers = kafkaBrokers();
}
const runner = new DifferentialRunner({ workDir: path.join(os.tmpdir(), `pipec-fuzz-${process.pid}`), brokers });
const classes = new Map<string, { seeds: number[]; report: string }>();
let failures = 0;
const started = Date.now();
try {
  for (let seed = argv.seed; seed < argv.seed + argv.runs; seed++) {
    const index = seed - argv.seed;
    const targets: Array<{ target: Target; program: Program }> = [{ target: 'harness', program: generateProgram(seed) }];
    if (argv.local > 0 && index % argv.local === 0) targets.push({ target: 'local', program: generateProgram(seed) });
    if (argv.workers > 0 && index % argv.workers === 0) targets.push({ target: 'workers', program: generateProgram(seed, { streamingOnly: true }) });
    for (const { target, program } of targets) {
      const failure = await runner.check(program, target);
      if (!failure) continue;
      failures++;
      const shrunk = await runner.shrink(program, failure, { attempts: 400, ms: argv['shrink-ms'] });
      const key = failureClass(shrunk.program, shrunk.failure);
      const known = classes.get(key);
      if (known) { known.seeds.push(seed); continue; }
      const report = describeFailure(shrunk.program, shrunk.failure, `shrunk from seed ${seed} in ${shrunk.attempts} attempts`);
      classes.set(key, { seeds: [seed], report });
      console.log(`\n=== new failure class: ${key}\n${report}\n`);
    }
    if (index % 25 === 24) console.error(`… ${index + 1}/${argv.runs} seeds, ${failures} failure(s), ${classes.size} class(es), ${Math.round((Date.now() - started) / 1000)} s`);
  }
} finally {
  await runner.close();
}
console.log(`\n${argv.runs} seeds from ${argv.seed}: ${failures} failure(s) in ${classes.size} class(es), ${Math.round((Date.now() - started) / 1000)} s`);
for (const [key, { seeds }] of classes) console.log(`  ${key}: seeds ${seeds.join(', ')}`);
process.exit(failures ? 1 : 0);

/** A failure class: how it failed (the error's first line), or for wrong output the shapes left in the minimal program. */
function failureClass(program: Program, failure: Failure): string {
  if (failure.kind !== 'mismatch') return `${failure.kind}: ${failure.message.split('\n')[0].replace(/\d+/g, 'N').replace(/\/\S+/g, '…').slice(0, 100)}`;
  const shapes = [...new Set(program.nodes.flatMap((n) => ('fn' in n ? [n.fn.shape] : n.op === 'rolling' ? [`${n.agg}(${n.field ?? ''})`, ...(n.reduce ? [n.reduce.shape] : [])] : n.op === 'union' ? ['union'] : [])))].sort();
  return `mismatch [${shapes.join(' ')}]${program.mode === 'streaming' ? ' streaming' : ''}`;
}
