/**
 * `npm run bench -- startup`: how soon a worker is ready, and how big its
 * bundle is. For a Kafka stage worker (click-rank's stage 1) and a
 * one-process job (wordcount's local.mjs), in fresh processes, `rounds`
 * times each, medians:
 *
 * - stage worker: from spawn to its `worker started` log line (module load,
 *   source maps on, the graph rebuilt and checked against the manifest) and
 *   to `joining the consumer group` (ready to consume: the stage's topics
 *   created or found, its partitions read; everything but the group join,
 *   which is the broker's). Target: ready ≤ 150 ms.
 * - local.mjs: from spawn to its `job started` line, and the whole run.
 * - the bundle sizes of every entry, and `node -e 0` for the floor.
 *
 * The load average is printed with the figures.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshName, kafkaBrokers } from '../../test/kafka-helpers.ts';
import { buildPipeline, median } from '../lib.ts';

/** Spawns a worker and resolves with the ms from spawn to each log line wanted (then stops it with SIGTERM). */
function timeLines(script: string, env: Record<string, string>, wanted: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    const seen: Record<string, number> = {};
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk;
      for (const line of String(chunk).split('\n')) {
        for (const msg of wanted) if (seen[msg] === undefined && line.includes(`"msg":"${msg}"`)) seen[msg] = performance.now() - start;
      }
      if (wanted.every((m) => seen[m] !== undefined)) child.kill('SIGTERM');
    });
    child.once('exit', () => (wanted.every((m) => seen[m] !== undefined) ? resolve(seen) : reject(new Error(`${script} exited before ${wanted.join(', ')}:\n${stderr.slice(-2000)}`))));
    setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
  });
}

export async function startupBench(options: { rounds: number }): Promise<void> {
  const loadBefore = os.loadavg();
  const brokers = kafkaBrokers();
  const clickRank = await buildPipeline('dsl-examples/click-rank.ts');
  const wordcount = await buildPipeline('dsl-examples/wordcount.ts');
  const prefix = `${freshName('startup')}-`;
  const env = { PIPEC_KAFKA_BROKERS: brokers, PIPEC_TOPIC_PREFIX: prefix, PIPEC_LOG_LEVEL: 'info', PIPEC_CHECKPOINT_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-startup-')) };
  const floor: number[] = [];
  const started: number[] = [];
  const ready: number[] = [];
  const localStarted: number[] = [];
  const localRun: number[] = [];
  // A first worker creates the stage's topics, so every timed one finds them (as a restarted or scaled-out worker does).
  await timeLines(path.join(clickRank, 'stage-1.mjs'), env, ['joining the consumer group']);
  for (let round = 0; round < options.rounds; round++) {
    const t = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    floor.push(performance.now() - t);
    const worker = await timeLines(path.join(clickRank, 'stage-1.mjs'), env, ['worker started', 'joining the consumer group']);
    started.push(worker['worker started']);
    ready.push(worker['joining the consumer group']);
    const local = performance.now();
    const run = spawnSync(process.execPath, [path.join(wordcount, 'local.mjs')], { encoding: 'utf8', cwd: process.cwd(), env: { ...process.env, PIPEC_LOG_LEVEL: 'info' } });
    localRun.push(performance.now() - local);
    const line = run.stderr.split('\n').find((l) => l.includes('"msg":"job started"'));
    if (!line) throw new Error(`wordcount's local.mjs did not start:\n${run.stderr}`);
    localStarted.push(JSON.parse(line).time - Math.round(performance.timeOrigin + local));
    process.stderr.write(`round ${round + 1}/${options.rounds}: stage worker started ${started.at(-1)!.toFixed(0)} ms, ready ${ready.at(-1)!.toFixed(0)} ms; local.mjs ${localRun.at(-1)!.toFixed(0)} ms, load ${os.loadavg()[0].toFixed(2)}\n`);
  }
  const size = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.mjs')).map((f) => `${f} ${(fs.statSync(path.join(dir, f)).size / 1024).toFixed(0)} KB`).join(', ');
  const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms`;
  console.log(`startup: ${options.rounds} fresh processes each, medians (node ${process.version}, ${os.cpus().length} cores); load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} at start, ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at end`);
  console.log(`node -e 0                                              ${ms(floor).padStart(8)}`);
  console.log(`click-rank stage 1 (Kafka stage worker): worker started ${ms(started).padStart(8)}`);
  console.log(`click-rank stage 1: ready to consume (group join next)   ${ms(ready).padStart(8)}   target ≤ 150 ms   ${median(ready) <= 150 ? 'met' : 'MISSED'}`);
  console.log(`wordcount local.mjs: job started                         ${ms(localStarted).padStart(8)}`);
  console.log(`wordcount local.mjs: whole run (flink,3 / pyflink,2)     ${ms(localRun).padStart(8)}`);
  console.log(`bundles: click-rank ${size(clickRank)}; wordcount ${size(wordcount)}`);
}
