/**
 * The systems the peers benchmark runs, as child processes: pipec stage
 * workers (one process per stage), the Kafka Streams app (one JVM) and the
 * hand-written loops (one Node process). In: what a run needs (the built
 * pipeline or jar, topics, group, guarantee); out: a `Launch`, the running
 * processes with the consumer group that reads the input (whose first commit
 * starts the clock), their CPU time (/proc) and a graceful stop (SIGTERM).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { buildPipeline, root } from '../lib.ts';
import type { Workload } from './records.ts';

export type Guarantee = 'at-least-once' | 'exactly-once';
export const GUARANTEES: Guarantee[] = ['at-least-once', 'exactly-once'];
/** The systems of a run: pipec's stage workers, the Kafka Streams app, and the stateless workload's hand-written loops. */
export type SystemName = 'pipec' | 'kafka-streams' | 'kafkajs-loop' | 'platformatic-loop';
export const SYSTEMS: SystemName[] = ['pipec', 'kafka-streams', 'kafkajs-loop', 'platformatic-loop'];

const STOP_TIMEOUT_MS = 40_000;

/** One process of a system, with its stderr (the last 200 KB). */
class Proc {
  readonly child: ChildProcess;
  private stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly name: string, command: string, args: string[], env: Record<string, string>, cwd: string) {
    this.child = spawn(command, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d) => { this.stderr = (this.stderr + d).slice(-200_000); });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  }

  get running(): boolean { return this.child.exitCode === null && this.child.signalCode === null; }

  /** CPU time used so far, user + system, all threads (ms; /proc, clock ticks of 10 ms). */
  cpuMs(): number { return processCpuMs(this.child.pid!); }

  tail(chars = 4000): string { return `${this.name}:\n${this.stderr.slice(-chars)}`; }
}

/** CPU time (user + system, ms) of a process, from /proc/<pid>/stat; NaN once it has gone. */
export function processCpuMs(pid: number): number {
  try {
    // The fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in USER_HZ (100) ticks.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The broker's process on this machine (the JVM running kafka.Kafka), or null when it is elsewhere. */
export function brokerPid(): number | null {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('\u0000kafka.Kafka\u0000')) return Number(entry);
    } catch { /* gone, or not ours to read */ }
  }
  return null;
}

/** A system's processes in one run. */
export class Launch {
  constructor(readonly system: SystemName, readonly procs: Proc[], readonly group: string, private readonly cleanup: () => void) {}

  /** The processes' ids. */
  get pids(): number[] { return this.procs.map((p) => p.child.pid!); }

  /** CPU time of all the system's processes (ms). */
  cpuMs(): number { return this.procs.reduce((sum, p) => sum + p.cpuMs(), 0); }

  /** Throws when a process has exited (a system must run until it is stopped). */
  check(): void {
    const dead = this.procs.find((p) => !p.running);
    if (dead) throw new Error(`${this.system}: ${dead.name} exited with ${dead.child.exitCode ?? dead.child.signalCode}\n${dead.tail()}`);
  }

  /** SIGTERM to every process, then waits for them (SIGKILL after 40 s, which fails the run). */
  async stop(): Promise<void> {
    try {
      for (const p of this.procs) if (p.running) p.child.kill('SIGTERM');
      const results = await Promise.all(this.procs.map(async (p) => {
        const code = await Promise.race([p.exited, new Promise<'timeout'>((resolve) => { setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref(); })]);
        if (code === 'timeout') { p.child.kill('SIGKILL'); return `${p.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM\n${p.tail()}`; }
        // The JVM exits with 143 (128 + SIGTERM) after its shutdown hooks have run.
        if (code !== 0 && code !== 143) return `${p.name} exited with ${code}\n${p.tail()}`;
        return null;
      }));
      const failed = results.filter(Boolean);
      if (failed.length) throw new Error(`${this.system} did not stop cleanly:\n${failed.join('\n')}`);
    } finally {
      for (const p of this.procs) if (p.running) p.child.kill('SIGKILL');
      this.cleanup();
    }
  }

  tail(): string { return this.procs.map((p) => p.tail()).join('\n'); }
}

/** A pipec build of a workload under one guarantee: its output folder and manifest facts. */
export interface PipecBuild { workload: Workload; guarantee: Guarantee; outDir: string; pipeline: string; stages: number; checkpointMs: number }

/** Builds a workload's pipeline (bench/peers/<workload>.ts) under a guarantee into bench/.out/peers-<workload>-<guarantee>. */
export async function buildPipec(workload: Workload, guarantee: Guarantee, input: string): Promise<PipecBuild> {
  const env = { BENCH_NAME: `peers-${workload}-${guarantee}`, BENCH_IN: input, BENCH_GUARANTEE: guarantee };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const outDir = await buildPipeline(`bench/peers/${workload}.ts`);
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8')) as { pipeline: string; guarantee: string; stages: unknown[]; checkpoint: { interval: number } };
    if (manifest.guarantee !== guarantee) throw new Error(`${outDir}: built ${manifest.guarantee}, expected ${guarantee}`);
    return { workload, guarantee, outDir, pipeline: manifest.pipeline, stages: manifest.stages.length, checkpointMs: manifest.checkpoint.interval };
  } finally {
    for (const key of Object.keys(env)) { if (saved[key] === undefined) delete process.env[key]; else process.env[key] = saved[key]; }
  }
}

/** What every launch gets: brokers, the input topic, a scratch folder (removed after the run). */
export interface RunContext { brokers: string; input: string; output: string; scratch: string; profileDir?: string }

/**
 * pipec: one process per stage, all started at once, each with a fresh topic
 * prefix (repartition, changelog and dead-letter topics, consumer groups).
 */
export function launchPipec(build: PipecBuild, prefix: string, ctx: RunContext): Launch {
  const env = { PIPEC_KAFKA_BROKERS: ctx.brokers, PIPEC_TOPIC_PREFIX: prefix, BENCH_NAME: build.pipeline, BENCH_IN: ctx.input, BENCH_OUT: ctx.output, BENCH_GUARANTEE: build.guarantee, PIPEC_CHECKPOINT_DIR: path.join(ctx.scratch, 'checkpoints') };
  const procs = Array.from({ length: build.stages }, (_, i) => {
    // BENCH_PROFILE: a V8 CPU profile per worker, in a folder named after the run and the stage.
    const profile = ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.profileDir, `${path.basename(build.outDir)}-stage-${i}`)}`] : [];
    return new Proc(`pipec stage ${i}`, process.execPath, [...profile, path.join(build.outDir, `stage-${i}.mjs`)], env, ctx.scratch);
  });
  return new Launch('pipec', procs, `${prefix}${build.pipeline}-stage-0`, () => fs.rmSync(ctx.scratch, { recursive: true, force: true }));
}

/** The Kafka Streams app's build: bench/.out/peers-kafka-streams (see its pom.xml). */
const ksDir = path.join(root, 'bench/.out/peers-kafka-streams');
const ksSources = path.join(root, 'bench/peers/kafka-streams');

/** Builds the Kafka Streams app with Maven when its jar is missing or older than its sources. */
export function buildKafkaStreams(): void {
  const jar = path.join(ksDir, 'peers-kafka-streams.jar');
  const newest = (dir: string): number => Math.max(...fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => fs.statSync(path.join(e.parentPath, e.name)).mtimeMs));
  if (fs.existsSync(jar) && fs.existsSync(path.join(ksDir, 'lib')) && fs.statSync(jar).mtimeMs >= newest(ksSources)) return;
  process.stderr.write('building the Kafka Streams app (mvn -q -B package)...\n');
  execFileSync('mvn', ['-q', '-B', '-f', path.join(ksSources, 'pom.xml'), 'package'], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** The Kafka Streams version the app runs (from its lib folder). */
export function kafkaStreamsVersion(): string {
  return fs.readdirSync(path.join(ksDir, 'lib')).find((f) => f.startsWith('kafka-streams-'))?.replace(/^kafka-streams-|\.jar$/g, '') ?? '?';
}

/** Kafka Streams settings of a workload (besides the guarantee): see index.ts for why. PEERS_KS_THREADS: stream threads (1). */
export function kafkaStreamsSettings(workload: Workload, commitIntervalMs: number): { commitIntervalMs: number; cacheBytes: number; threads: number } {
  return { commitIntervalMs, cacheBytes: workload === 'window' ? 10 * 1024 * 1024 : 0, threads: Number(process.env.PEERS_KS_THREADS ?? 1) };
}

/** Kafka Streams: one JVM, application id = consumer group = prefix of its internal topics. */
export function launchKafkaStreams(workload: Workload, guarantee: Guarantee, applicationId: string, commitIntervalMs: number, ctx: RunContext): Launch {
  const s = kafkaStreamsSettings(workload, commitIntervalMs);
  const stateDir = path.join(ctx.scratch, 'state');
  fs.mkdirSync(stateDir, { recursive: true });
  const args = [
    '-cp', `${path.join(ksDir, 'peers-kafka-streams.jar')}:${path.join(ksDir, 'lib', '*')}`,
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    'dev.pipec.bench.peers.PeersApp',
    `--workload=${workload}`, `--guarantee=${guarantee}`, `--brokers=${ctx.brokers}`, `--application-id=${applicationId}`,
    `--input=${ctx.input}`, `--output=${ctx.output}`, `--commit-interval-ms=${s.commitIntervalMs}`, `--cache-bytes=${s.cacheBytes}`,
    `--threads=${s.threads}`, `--state-dir=${stateDir}`,
  ];
  return new Launch('kafka-streams', [new Proc('kafka streams', 'java', args, {}, ctx.scratch)], applicationId, () => fs.rmSync(ctx.scratch, { recursive: true, force: true }));
}

const handBundle = path.join(root, 'bench/.out/peers-hand.mjs');

/** Bundles the hand-written loops (hand.ts) and the benchmark code they use into one file (the clients stay in node_modules). */
export async function buildHand(): Promise<void> {
  await esbuild.build({
    entryPoints: [path.join(root, 'bench/peers/hand.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: handBundle, logLevel: 'silent',
    // The clients load from node_modules (@platformatic/kafka reads a .wasm file next to its own code).
    packages: 'external',
  });
}

/** A hand-written loop (hand.ts) over kafkajs or @platformatic/kafka. */
export function launchHand(client: 'kafkajs' | 'platformatic', guarantee: Guarantee, group: string, intervalMs: number, ctx: RunContext): Launch {
  const env = { HAND_CLIENT: client, HAND_GUARANTEE: guarantee, HAND_INTERVAL_MS: String(intervalMs), BENCH_IN: ctx.input, BENCH_OUT: ctx.output, BENCH_GROUP: group, PIPEC_KAFKA_BROKERS: ctx.brokers, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
  return new Launch(client === 'kafkajs' ? 'kafkajs-loop' : 'platformatic-loop', [new Proc(`${client} loop`, process.execPath, [handBundle], env, ctx.scratch)], group, () => fs.rmSync(ctx.scratch, { recursive: true, force: true }));
}
