/**
 * The HTTP endpoint of a process's metrics: `/metrics` (a prom-client
 * registry, Prometheus text format) and `/healthz` (200 `ok`, or 503 with why
 * the process cannot make progress). Stage workers, single-process workers
 * and local.mjs serve it on `--metrics-port` or PIPEC_METRICS_PORT.
 *
 * In: a registry and a health check. Out: an HTTP server (unref'd: it never keeps a finished job alive).
 */
import http from 'node:http';
import type client from 'prom-client';
import type { Logger } from './log.ts';

/** Serves /metrics and /healthz on `port`. */
export function serveMetrics(registry: client.Registry, health: () => string | null, port: number, log: Logger): http.Server {
  const server = http.createServer(async (req, res) => {
    if (req.url === '/healthz') {
      const problem = health();
      res.writeHead(problem === null ? 200 : 503, { 'content-type': 'text/plain' }).end(problem === null ? 'ok\n' : `${problem}\n`);
      return;
    }
    if (req.url === '/metrics') { res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics()); return; }
    res.writeHead(404).end();
  });
  server.on('error', (error) => log.error({ err: error, port }, 'cannot serve /metrics and /healthz'));
  server.listen(port, () => log.info({ port }, 'metrics on /metrics, health on /healthz'));
  server.unref();
  return server;
}

/** The port from `--metrics-port` or PIPEC_METRICS_PORT; undefined when neither is set. A value that is not a port is an error. */
export function metricsPort(flag: string | undefined): number | undefined {
  const text = flag ?? process.env.PIPEC_METRICS_PORT;
  if (text === undefined || text === '') return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`the metrics port ${JSON.stringify(text)} (--metrics-port or PIPEC_METRICS_PORT) is not a port number`);
  return port;
}
