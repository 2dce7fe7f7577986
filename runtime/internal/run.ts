/**
 * Entry points of the emitted bundles: `runLocal` (local.mjs: every stage in
 * one process) and `runStageWorker` (stage-N.mjs). Both rebuild the graph from
 * the user's pipeline, check it against the manifest, run, log a summary and
 * set the exit code (0 done, 1 failed or --fail-fast hit, 2 bad usage). With
 * a metrics port (`--metrics-port`, PIPEC_METRICS_PORT) they serve /metrics
 * (the user metrics of every operator, dead letters, the process's own) and
 * /healthz while the job runs, as stage workers do.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import client from 'prom-client';
import { instantiateGraph, type Pipeline } from '../api/pipeline.ts';
import { bakedSettings, type Graph } from '../api/graph.ts';
import { DeadLetterFile, FailFastError } from './dead-letter.ts';
import { createLogger } from './log.ts';
import { LocalCheckpoints } from './local/checkpoints.ts';
import { LocalJob } from './local/job.ts';
import { closeProcessResources } from './connectors/types.ts';
import { metricsPort, serveMetrics } from './metrics-endpoint.ts';
import { UserMetrics } from './user-metrics.ts';
import type { StageDefinition } from './stage.ts';
import type { Manifest } from './manifest.ts';
import { counterFields, labelWithUid } from './operators/names.ts';

const USAGE = `options:
  --fail-fast            stop with exit code 1 at the first record that cannot be decoded, makes a function throw
                         or has an invalid key (output produced before it is kept)
  --dead-letter <file>   where such records go (default: <pipeline>.dead-letter.jsonl next to the first file sink, or here)
  --metrics-port <port>  serve /metrics (Prometheus) and /healthz while the job runs (default: PIPEC_METRICS_PORT, else off)
  --help                 show this help`;

/** Fails fast when the pipeline file no longer matches the build (edited after `pipec build`). */
export function checkGraph(graph: Graph, manifest: Manifest): void {
  const kinds = graph.nodes.map((n) => n.kind);
  if (kinds.length !== manifest.nodes.length || kinds.some((k, i) => k !== manifest.nodes[i].kind)) {
    throw new Error(`the pipeline's graph differs from the one this bundle was built from (${kinds.length} nodes vs ${manifest.nodes.length}); the build function must build the same graph every time — rebuild with pipec build`);
  }
  const changed = graph.nodes.find((node, i) => bakedSettings(node) !== manifest.nodes[i].settings);
  if (changed) {
    throw new Error(`the settings of ${labelWithUid(manifest, graph, changed.id)} (node ${changed.id}) differ from the ones this bundle was built with (${bakedSettings(changed)} vs ${manifest.nodes[changed.id].settings}); the build function must build the same graph every time — rebuild with pipec build`);
  }
}

export function defaultDeadLetterFile(graph: Graph): string {
  const fileSink = graph.nodes.find((n) => n.kind === 'sink' && n.spec.connector.startsWith('file.'));
  const dir = fileSink?.kind === 'sink' ? path.dirname(String(fileSink.spec.options.path)) : '.';
  return path.join(dir, `${graph.name}.dead-letter.jsonl`);
}

async function execute(definition: Pipeline, stages: StageDefinition[], manifest: Manifest, argv: string[], stageLabel: string): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { 'fail-fast': { type: 'boolean' }, 'dead-letter': { type: 'string' }, 'metrics-port': { type: 'string' }, help: { type: 'boolean' } } }).values;
    metricsPort(args['metrics-port']);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) { process.stdout.write(`${manifest.pipeline} (${stageLabel})\n${USAGE}\n`); return 0; }
  const log = createLogger(manifest.pipeline, stageLabel);
  const started = Date.now();
  let job: LocalJob | undefined;
  let checkpoints: LocalCheckpoints | undefined;
  const onSignal = (signal: string) => {
    log.info({ signal }, checkpoints ? 'stopping: closing sources, taking a last checkpoint, closing sinks' : 'stopping: closing sources, flushing sinks');
    // With checkpoints, the job takes its last one once its sources have stopped (beforeSinksClose): a cut after every record.
    checkpoints?.stop();
    job?.stop();
  };
  process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
  let server: { close(): void } | undefined;
  try {
    const graph = instantiateGraph(definition);
    checkGraph(graph, manifest);
    const deadLetters = new DeadLetterFile(args['dead-letter'] ?? defaultDeadLetterFile(graph), manifest.pipeline, args['fail-fast'] === true);
    const registry = new client.Registry();
    registry.setDefaultLabels({ pipeline: manifest.pipeline });
    const metrics = { user: new UserMetrics(registry) };
    // A streaming job with an unbounded source checkpoints to files (state and file sinks exactly-once, other sinks at-least-once).
    const unbounded = graph.nodes.some((n) => n.kind === 'source' && !n.spec.bounded);
    const checkpointing = manifest.mode === 'streaming' && unbounded;
    job = new LocalJob(graph, stages, manifest, log, deadLetters, checkpointing ? { metrics, trackState: true, checkpointing: true, onCreated: () => checkpoints?.restore(), beforeSinksClose: () => checkpoints!.checkpoint() } : { metrics });
    const port = metricsPort(args['metrics-port']);
    if (port !== undefined) {
      const running = job;
      client.collectDefaultMetrics({ register: registry, prefix: 'pipec_' });
      new client.Gauge({ name: 'pipec_dead_letters_total', help: 'Records sent to the dead-letter output (undecodable, a function threw, invalid key or timestamp, a failed asyncMap call)', registers: [registry], collect() { this.set(deadLetters.count); } });
      server = serveMetrics(registry, () => (running.hasFailed ? 'failed' : null), port, log);
    }
    if (checkpointing) {
      checkpoints = new LocalCheckpoints(job, manifest, log);
      await checkpoints.load();
      checkpoints.start(manifest.checkpoint?.interval ?? 200);
    }
    log.info({ mode: manifest.mode, stages: stages.map((s) => s.id), checkpoints: checkpoints?.location }, 'job started');
    const running = Date.now();
    try {
      await job.run();
    } finally {
      await checkpoints?.close();
    }
    for (const [counter, value] of job.counters) log.info({ counter, value, ...counterFields(manifest, counter) }, 'counter');
    if (deadLetters.count > 0) log.warn({ count: deadLetters.count, file: deadLetters.file }, 'records could not be decoded, made a function throw or had an invalid key, and went to the dead-letter file');
    log.info({ ms: Date.now() - running, startupMs: running - started, deadLetters: deadLetters.count }, 'job finished');
    await closeProcessResources();
    return 0;
  } catch (error) {
    if (error instanceof FailFastError) {
      const { origin, position, reason, location } = error.record;
      log.error({ origin, position, reason, location }, 'stopping at a bad record (--fail-fast); output before it was written');
      return 1;
    }
    log.error({ err: error }, 'job failed');
    return 1;
  } finally {
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
    server?.close();
  }
}

/** local.mjs: runs every stage in this process with in-memory channels. */
export async function runLocal(definition: Pipeline, stages: StageDefinition[], manifest: Manifest, argv: string[]): Promise<void> {
  process.exitCode = await execute(definition, stages, manifest, argv, 'local');
  exitSoon();
}

/** stage-N.mjs of a stage with no edges to other stages: runs it in this process. */
export async function runStageWorker(definition: Pipeline, stage: StageDefinition, manifest: Manifest, argv: string[]): Promise<void> {
  process.exitCode = await execute(definition, [stage], manifest, argv, `stage-${stage.id}`);
  exitSoon();
}

/**
 * The job has ended: what user code left running (an asyncMap call that
 * timed out and never settled, a connection it opened) must not keep the
 * process alive. A process with nothing left exits before this fires.
 */
function exitSoon(): void {
  setTimeout(() => process.exit(), 1000).unref();
}
