/**
 * A worker's Prometheus endpoint (prom-client) and health check. /metrics:
 * records in per input topic and out per output topic (repartition topics,
 * Kafka sinks, the DLQ), dead letters, late records dropped, consumer lag and
 * watermark per task, rebalances, owned partitions, checkpoint duration, size
 * and age, and the process's own metrics (RSS, heap, event-loop lag). Gauges
 * of a task that moved to another worker are removed. /healthz answers 200
 * while the worker can make progress and 503 (with the reason) when it
 * cannot: its consumer stopped, it has not been in its consumer group (no
 * successful heartbeat) for longer than the grace period, its checkpoints
 * keep failing, or a database its connectors use has been unreachable for
 * longer than the grace period (connectors' unreachableServers). Port from --metrics-port or PIPEC_METRICS_PORT; off when
 * neither is set.
 */
import http from 'node:http';
import client from 'prom-client';
import type { Logger } from '../log.ts';
import { unreachableServers } from '../connectors/types.ts';

/** How long a worker may be out of its group (starting, rebalancing, broker unreachable) before /healthz says 503. */
export const HEALTH_GRACE_MS = Number(process.env.PIPEC_HEALTH_GRACE_MS ?? 30_000);

/** A database (or other server a connector uses) that has been unreachable for longer than the grace period, as a /healthz reason. */
function unreachableServerProblem(): string | null {
  for (const [server, { since, reason }] of unreachableServers) {
    const down = Date.now() - since;
    if (down > HEALTH_GRACE_MS) return `${server} unreachable for ${Math.round(down / 1000)} s: ${reason}`;
  }
  return null;
}

/** The worker's metrics. */
export class WorkerMetrics {
  readonly registry = new client.Registry();
  readonly recordsIn = new client.Counter({ name: 'pipec_records_in_total', help: 'Records consumed, per input topic', labelNames: ['topic'], registers: [this.registry] });
  readonly recordsOut = new client.Counter({ name: 'pipec_records_out_total', help: 'Records produced and committed, per output topic (repartition topics, Kafka sinks, the DLQ)', labelNames: ['topic'], registers: [this.registry] });
  readonly deadLetters = new client.Counter({ name: 'pipec_dead_letters_total', help: 'Records sent to the dead-letter output (undecodable, a function threw, invalid key or timestamp, too large)', registers: [this.registry] });
  readonly lateDropped = new client.Gauge({ name: 'pipec_late_records_dropped_total', help: 'Late records dropped by windows, per task since it started here', labelNames: ['task'], registers: [this.registry] });
  readonly watermark = new client.Gauge({ name: 'pipec_watermark_ms', help: 'Event-time watermark of a task (ms): of its event-time operators, or of what it sends downstream', labelNames: ['task'], registers: [this.registry] });
  readonly lag = new client.Gauge({ name: 'pipec_consumer_lag_records', help: 'Records of an input partition not consumed yet', labelNames: ['topic', 'partition'], registers: [this.registry] });
  readonly partitions = new client.Gauge({ name: 'pipec_assigned_partitions', help: 'Input partitions (tasks) this worker owns', registers: [this.registry] });
  readonly rebalances = new client.Counter({ name: 'pipec_rebalances_total', help: 'Consumer group rebalances that changed what this worker owns', registers: [this.registry] });
  readonly checkpointSeconds = new client.Histogram({ name: 'pipec_checkpoint_duration_seconds', help: 'Time to take and commit one task checkpoint', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  readonly checkpointBytes = new client.Histogram({ name: 'pipec_checkpoint_size_bytes', help: 'State bytes written by one task checkpoint (changed entries and the meta record)', buckets: [256, 1024, 16_384, 262_144, 1_048_576, 16_777_216], registers: [this.registry] });
  readonly checkpointAge = new client.Gauge({ name: 'pipec_checkpoint_age_seconds', help: 'Time since the last committed checkpoint of a task', labelNames: ['task'], registers: [this.registry] });
  private server: http.Server | null = null;
  private readonly startedAt = Date.now();
  /** Why the worker cannot make progress (null: it can); a worker still starting is given the grace period. */
  health: () => string | null = () => (Date.now() - this.startedAt > HEALTH_GRACE_MS ? `still starting after ${Math.round((Date.now() - this.startedAt) / 1000)} s` : null);

  constructor(labels: Record<string, string>) {
    this.registry.setDefaultLabels(labels);
    client.collectDefaultMetrics({ register: this.registry, prefix: 'pipec_' });
  }

  /** Forgets the gauges of a task that moved away. */
  removeTask(task: number, inputs: Array<{ topic: string; partition: number }>): void {
    for (const g of [this.watermark, this.checkpointAge, this.lateDropped]) g.remove({ task: String(task) });
    for (const i of inputs) this.lag.remove({ topic: i.topic, partition: String(i.partition) });
  }

  /** Serves /metrics and /healthz on `port`. */
  listen(port: number, log: Logger): void {
    this.server = http.createServer(async (req, res) => {
      if (req.url === '/healthz') {
        // A database that is down is named first: it is usually why the worker is stuck (its checkpoints wait for it).
        const problem = unreachableServerProblem() ?? this.health();
        res.writeHead(problem === null ? 200 : 503, { 'content-type': 'text/plain' }).end(problem === null ? 'ok\n' : `${problem}\n`);
        return;
      }
      if (req.url === '/metrics') { res.writeHead(200, { 'content-type': this.registry.contentType }).end(await this.registry.metrics()); return; }
      res.writeHead(404).end();
    });
    this.server.listen(port, () => log.info({ port }, 'metrics on /metrics, health on /healthz'));
    this.server.unref();
  }

  close(): void { this.server?.close(); }
}
