/**
 * A small local HTTP service for the asyncMap tests and benchmark, the "user
 * service" of test/fixtures/async/*.ts: `GET /user?id=u3&order=12` answers
 * `name-u3` after a latency the test chooses per request; it counts the
 * calls in flight (and the most there ever were), the calls per order, the
 * order in which requests came and answers went, and lets a test make some
 * orders fail (500) or never answer. `GET /table` answers a lookup table
 * (JSON) for async open() tests.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** What the service does with one request. */
export interface ServiceBehaviour {
  /** ms before the answer (default 0). */
  latency?: (order: number, user: string) => number;
  /** Answer 500 for these orders. */
  fails?: (order: number) => boolean;
  /** Never answer these orders (the socket stays open until the service closes). */
  hangs?: (order: number) => boolean;
  /** Called on each request with the number it carries in `stamp` (backpressure tests), before answering. */
  onRequest?: (query: URLSearchParams) => void;
}

/** A running service. */
export interface UserService {
  url: string;
  /** What it does now (a test may change it between runs). */
  behaviour: ServiceBehaviour;
  /** Calls being answered now, and the most at once so far. */
  inFlight: number;
  maxInFlight: number;
  /** Orders in the order their requests came, and in the order their answers went. */
  requested: number[];
  answered: number[];
  /** Requests per order. */
  calls: Map<number, number>;
  /** Answers sent so far. */
  readonly answers: number;
  /** Forgets the counts (not the behaviour). */
  reset(): void;
  close(): Promise<void>;
}

/** The name the service gives a user: what a test expects in the output. */
export function nameOf(user: string): string {
  return `name-${user}`;
}

/** Starts the service on a free port of 127.0.0.1. */
export async function startUserService(behaviour: ServiceBehaviour = {}): Promise<UserService> {
  const hanging = new Set<http.ServerResponse>();
  const service: UserService = {
    url: '', behaviour, inFlight: 0, maxInFlight: 0, requested: [], answered: [], calls: new Map(),
    get answers() { return this.answered.length; },
    reset() { this.maxInFlight = this.inFlight; this.requested = []; this.answered = []; this.calls = new Map(); },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const behaviour = service.behaviour;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/table') {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ u0: 'zero', u1: 'one', u2: 'two' })), behaviour.latency?.(-1, '') ?? 0);
      return;
    }
    const order = Number(url.searchParams.get('order'));
    const user = url.searchParams.get('id') ?? '';
    service.requested.push(order);
    service.calls.set(order, (service.calls.get(order) ?? 0) + 1);
    service.inFlight++;
    service.maxInFlight = Math.max(service.maxInFlight, service.inFlight);
    behaviour.onRequest?.(url.searchParams);
    let done = false;
    const finish = () => { if (!done) { done = true; service.inFlight--; } };
    res.on('close', finish);
    if (behaviour.hangs?.(order)) { hanging.add(res); return; }
    setTimeout(() => {
      finish();
      service.answered.push(order);
      if (behaviour.fails?.(order)) res.writeHead(500).end('failed on purpose');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(nameOf(user));
    }, behaviour.latency?.(order, user) ?? 0);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  service.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return service;
}

/** A small seeded generator (mulberry32), for latencies that are random but the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs a bundle with plain node without blocking this process (the service
 * it calls runs here, so spawnSync would stall both); resolves when it exits.
 */
export function runBundle(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: path.dirname(script), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}
