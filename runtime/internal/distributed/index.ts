/**
 * `pipec/internal/distributed`: the entry of stage workers whose stage
 * exchanges records with other stages through Kafka. Kept apart from
 * `pipec/internal` so bundles that never touch Kafka do not link a Kafka client.
 */
import { parseArgs } from 'node:util';
import { instantiateGraph, type Pipeline } from '../../api/pipeline.ts';
import { DeadLetterFile, FailFastError } from '../dead-letter.ts';
import { createLogger } from '../log.ts';
import { checkGraph, defaultDeadLetterFile } from '../run.ts';
import type { StageDefinition } from '../stage.ts';
import type { Manifest } from '../manifest.ts';
import { operatorFields } from '../operators/names.ts';
import { brokersFromEnvironment } from '../kafka/client.ts';
import { StageWorker, StopSignals } from './worker.ts';

/** stage-N.mjs of a stage connected to others: a Kafka worker (see worker.ts). */
export async function runKafkaStageWorker(definition: Pipeline, stage: StageDefinition, manifest: Manifest, argv: string[]): Promise<void> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { brokers: { type: 'string' }, group: { type: 'string' }, 'metrics-port': { type: 'string' }, 'session-timeout': { type: 'string' }, 'dead-letter': { type: 'string' }, 'fail-fast': { type: 'boolean' }, help: { type: 'boolean' } } }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${WORKER_USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.help) { process.stdout.write(`${manifest.pipeline} stage ${stage.id} worker\n${WORKER_USAGE}\n`); return; }
  const signals = new StopSignals();
  const log = createLogger(manifest.pipeline, `stage-${stage.id}`);
  try {
    if (args.brokers) process.env.PIPEC_KAFKA_BROKERS = args.brokers;
    const brokers = brokersFromEnvironment();
    const graph = instantiateGraph(definition);
    checkGraph(graph, manifest);
    const deadLetters = new DeadLetterFile(args['dead-letter'] ?? defaultDeadLetterFile(graph), manifest.pipeline, args['fail-fast'] === true);
    log.info({ brokers, parallelism: stage.parallelism, operators: manifest.stages[stage.id].nodes.map((n) => operatorFields(manifest, n)) }, 'worker started');
    await new StageWorker(graph, stage, manifest, log, deadLetters, { group: args.group, sessionTimeout: args['session-timeout'] ? Number(args['session-timeout']) : undefined, metricsPort: (args['metrics-port'] ?? process.env.PIPEC_METRICS_PORT) ? Number(args['metrics-port'] ?? process.env.PIPEC_METRICS_PORT) : undefined, signals }).run();
    process.exitCode = 0;
  } catch (error) {
    if (error instanceof FailFastError) {
      const { origin, position, reason, location } = error.record;
      log.error({ origin, position, reason, location }, 'stopping at a bad record (--fail-fast); output before it was sent, its offset not committed');
    } else {
      log.error({ err: error }, 'worker failed');
    }
    process.exitCode = 1;
  }
  // The worker has stopped: a client reconnecting in the background must not keep the process alive.
  setTimeout(() => process.exit(), 1000).unref();
}

const WORKER_USAGE = `options:
  --brokers <host:port,...>   Kafka brokers (default: PIPEC_KAFKA_BROKERS)
  --group <id>                consumer group (default: <pipeline>-stage-<n>; every process of a stage shares it)
  --session-timeout <ms>      how soon the group notices a dead worker (default 10000)
  --metrics-port <port>       serve /metrics (Prometheus) and /healthz (default: PIPEC_METRICS_PORT, else off)
  --dead-letter <file>        where bad records (undecodable, a function threw, invalid key) are also logged;
                              they always go to the <pipeline>-dlq topic
  --fail-fast                 stop with exit code 1 at the first bad record`;
