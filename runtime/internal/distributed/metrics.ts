/**
 * A worker's Prometheus endpoint (prom-client): /metrics with records in and
 * out, dead letters, the watermark and owned partitions per task, commit
 * durations; /healthz answers 200 while the worker is consuming. Port from
 * --metrics-port or PIPEC_METRICS_PORT; off when neither is set.
 */
import http from 'node:http';
import client from 'prom-client';
import type { Logger } from '../log.ts';

/** The worker's metrics. */
export class WorkerMetrics {
  readonly registry = new client.Registry();
  readonly recordsIn = new client.Counter({ name: 'pipec_records_in_total', help: 'Records consumed', labelNames: ['topic'], registers: [this.registry] });
  readonly recordsOut = new client.Counter({ name: 'pipec_records_out_total', help: 'Records produced to repartition topics', labelNames: ['topic'], registers: [this.registry] });
  readonly deadLetters = new client.Counter({ name: 'pipec_dead_letters_total', help: 'Records that could not be decoded', registers: [this.registry] });
  readonly watermark = new client.Gauge({ name: 'pipec_watermark_ms', help: 'Event-time watermark of a task (ms)', labelNames: ['task'], registers: [this.registry] });
  readonly partitions = new client.Gauge({ name: 'pipec_assigned_partitions', help: 'Input partitions this worker owns', registers: [this.registry] });
  readonly commitSeconds = new client.Histogram({ name: 'pipec_commit_duration_seconds', help: 'Flush-and-commit time per batch', registers: [this.registry] });
  healthy = false;
  private server: http.Server | null = null;

  constructor(labels: Record<string, string>) {
    this.registry.setDefaultLabels(labels);
  }

  /** Serves /metrics and /healthz on `port`. */
  listen(port: number, log: Logger): void {
    this.server = http.createServer(async (req, res) => {
      if (req.url === '/healthz') { res.writeHead(this.healthy ? 200 : 503).end(this.healthy ? 'ok\n' : 'starting\n'); return; }
      if (req.url === '/metrics') { res.writeHead(200, { 'content-type': this.registry.contentType }).end(await this.registry.metrics()); return; }
      res.writeHead(404).end();
    });
    this.server.listen(port, () => log.info({ port }, 'metrics on /metrics, health on /healthz'));
    this.server.unref();
  }

  close(): void { this.server?.close(); }
}
