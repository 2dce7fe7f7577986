/**
 * A worker's Prometheus endpoint (prom-client) and health check. /metrics:
 * records in per input topic and out per output topic (repartition topics,
 * Kafka sinks, the DLQ), dead letters, consumer lag and watermark per task,
 * late records dropped, state entries and timers per task and operator
 * (labelled with its name and uid), rebalances, owned partitions, checkpoint
 * duration, size and age, and the process's own metrics (RSS, heap,
 * event-loop lag), and the user metrics of the tasks' operators (ctx.metrics,
 * user-metrics.ts). Gauges and user series of a task that moved to another
 * worker are removed. /healthz answers 200
 * while the worker can make progress and 503 (with the reason) when it
 * cannot: its consumer stopped, it has not been in its consumer group (no
 * successful heartbeat) for longer than the grace period, its checkpoints
 * keep failing, or a database its connectors use has been unreachable for
 * longer than the grace period (connectors' unreachableServers). Port from --metrics-port or PIPEC_METRICS_PORT; off when
 * neither is set.
 */
import type http from 'node:http';
import client from 'prom-client';
import type { Logger } from '../log.ts';
import { serveMetrics } from '../metrics-endpoint.ts';
import { UserMetrics } from '../user-metrics.ts';
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
  readonly lateDropped = new client.Gauge({ name: 'pipec_late_records_dropped_total', help: 'Late records dropped by windows and joins, per task (since it started here) and operator', labelNames: ['task', 'operator', 'uid'], registers: [this.registry] });
  readonly stateEntries = new client.Gauge({ name: 'pipec_operator_state_entries', help: 'Keyed state entries of a stateful operator in a task (per key and state: a window\'s panes, an interval join buffer), at its last checkpoint', labelNames: ['task', 'operator', 'uid'], registers: [this.registry] });
  readonly timers = new client.Gauge({ name: 'pipec_operator_timers', help: 'Live timers of a stateful operator in a task, at its last checkpoint', labelNames: ['task', 'operator', 'uid'], registers: [this.registry] });
  /** The operator label sets each task has set, so they can be removed with the task. */
  private readonly operatorLabels = new Map<number, Array<{ task: string; operator: string; uid: string }>>();
  readonly watermark = new client.Gauge({ name: 'pipec_watermark_ms', help: 'Event-time watermark of a task (ms): of its event-time operators, or of what it sends downstream', labelNames: ['task'], registers: [this.registry] });
  readonly lag = new client.Gauge({ name: 'pipec_consumer_lag_records', help: 'Records of an input partition not consumed yet', labelNames: ['topic', 'partition'], registers: [this.registry] });
  readonly partitions = new client.Gauge({ name: 'pipec_assigned_partitions', help: 'Input partitions (tasks) this worker owns', registers: [this.registry] });
  readonly rebalances = new client.Counter({ name: 'pipec_rebalances_total', help: 'Consumer group rebalances that changed what this worker owns', registers: [this.registry] });
  readonly checkpointSeconds = new client.Histogram({ name: 'pipec_checkpoint_duration_seconds', help: 'Time to take and commit one task checkpoint', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  readonly checkpointBytes = new client.Histogram({ name: 'pipec_checkpoint_size_bytes', help: 'State bytes written by one task checkpoint (changed entries and the meta record)', buckets: [256, 1024, 16_384, 262_144, 1_048_576, 16_777_216], registers: [this.registry] });
  readonly checkpointAge = new client.Gauge({ name: 'pipec_checkpoint_age_seconds', help: 'Time since the last committed checkpoint of a task', labelNames: ['task'], registers: [this.registry] });
  /** ctx.metrics of every task's operators, in the same registry. */
  readonly user = new UserMetrics(this.registry);
  private server: http.Server | null = null;
  private readonly startedAt = Date.now();
  /** Why the worker cannot make progress (null: it can); a worker still starting is given the grace period. */
  health: () => string | null = () => (Date.now() - this.startedAt > HEALTH_GRACE_MS ? `still starting after ${Math.round((Date.now() - this.startedAt) / 1000)} s` : null);

  constructor(labels: Record<string, string>) {
    this.registry.setDefaultLabels(labels);
    client.collectDefaultMetrics({ register: this.registry, prefix: 'pipec_' });
  }

  /** Sets a task's per-operator gauges (at a checkpoint): late records dropped, state entries and timers, labelled with the operator's name and uid. */
  setOperators(task: number, operators: ReadonlyArray<{ operator: string; uid: string; lateDropped: number; stateEntries: number; timers: number }>): void {
    const labels = operators.map(({ operator, uid }) => ({ task: String(task), operator, uid }));
    operators.forEach((o, i) => {
      this.lateDropped.set(labels[i], o.lateDropped);
      this.stateEntries.set(labels[i], o.stateEntries);
      this.timers.set(labels[i], o.timers);
    });
    this.operatorLabels.set(task, labels);
  }

  /** Forgets the gauges and user series of a task that moved away. */
  removeTask(task: number, inputs: Array<{ topic: string; partition: number }>): void {
    for (const g of [this.watermark, this.checkpointAge]) g.remove({ task: String(task) });
    for (const labels of this.operatorLabels.get(task) ?? []) for (const g of [this.lateDropped, this.stateEntries, this.timers]) g.remove(labels);
    this.operatorLabels.delete(task);
    this.user.removeTask(String(task));
    for (const i of inputs) this.lag.remove({ topic: i.topic, partition: String(i.partition) });
  }

  /** Serves /metrics and /healthz on `port`. */
  listen(port: number, log: Logger): void {
    this.server = serveMetrics(this.registry, () => unreachableServerProblem() ?? this.health(), port, log);
  }

  close(): void { this.server?.close(); }
}
