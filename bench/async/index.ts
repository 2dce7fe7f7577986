/**
 * `npm run bench -- async`: records/s through an asyncMap of capacity 100
 * whose calls take 5 ms (target ≥ 15,000 records/s; 100 calls in flight of
 * 5 ms each allow at most 20,000): local.mjs in a fresh process per run,
 * calling a keep-alive HTTP server in this process that answers after 5 ms
 * (`http`); for comparison, the same job with a 5 ms timer in place of
 * the server (`timer`: the operator without a network stack), and a
 * hand-written loop of the same HTTP calls without pipec (`hand.ts`: what the
 * machine's HTTP stack allows). Rounds are interleaved; medians, ranges and
 * the load average are printed. Every job run must deliver every result (its
 * printed count is checked).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildPipeline, median } from '../lib.ts';

/** A server that answers `GET /user?id=...` with `name-<id>` after 5 ms. */
async function startService(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const id = new URL(req.url ?? '/', 'http://localhost').searchParams.get('id') ?? '';
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`name-${id}`), 5);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => { server.closeAllConnections(); return new Promise((resolve) => server.close(() => resolve())); },
  };
}

/** Runs local.mjs without blocking this process (it serves the calls); returns the job's processing time from its log. */
function runJob(outDir: string, env: Record<string, string>, records: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(outDir, 'local.mjs')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    collect(child, reject, (stdout, stderr) => {
      if (stdout.trim() !== `results: ${records}`) throw new Error(`the job delivered ${JSON.stringify(stdout.trim())}, not results: ${records}`);
      const finished = stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; ms: number }).find((l) => l.msg === 'job finished');
      if (!finished) throw new Error(`no 'job finished' line:\n${stderr}`);
      resolve(finished.ms);
    });
  });
}

/** Runs the hand-written loop (hand.ts) in a child process; returns its time. */
function runHand(env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'hand.ts')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    collect(child, reject, (stdout) => resolve((JSON.parse(stdout) as { ms: number }).ms));
  });
}

/** Gathers a child's output and hands it to `done` once it exited with 0. */
function collect(child: ChildProcess, reject: (error: Error) => void, done: (stdout: string, stderr: string) => void): void {
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => { stdout += String(d); });
  child.stderr!.on('data', (d) => { stderr += String(d); });
  child.on('error', reject);
  child.on('close', (code) => {
    if (code !== 0) { reject(new Error(`the run failed (${code}):\n${stderr}`)); return; }
    try { done(stdout, stderr); } catch (error) { reject(error as Error); }
  });
}

export async function asyncBench(options: { records: number; rounds: number }): Promise<void> {
  const outDir = await buildPipeline('bench/async/pipeline.ts');
  const service = await startService();
  const kinds = ['http', 'timer', 'hand'] as const;
  const runs: Record<string, number[]> = { http: [], timer: [], hand: [] };
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const kind of kinds) {
        const env = { BENCH_RECORDS: String(options.records), BENCH_SERVICE: kind, ASYNC_SERVICE: service.url };
        runs[kind].push(kind === 'hand' ? await runHand(env) : await runJob(outDir, env, options.records));
      }
      process.stderr.write(`round ${round + 1}/${options.rounds} done\n`);
    }
  } finally {
    await service.close();
  }
  const rate = (ms: number) => (options.records / ms) * 1000;
  console.log(`async: ${options.records.toLocaleString('en')} records through asyncMap (capacity 100, ordered), calls of 5 ms, ${options.rounds} fresh-process runs each, medians (node ${process.version}, ${os.cpus().length} cores)`);
  console.log(`load average: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('service                          records/s   range (records/s)');
  for (const kind of kinds) {
    const label = { http: 'asyncMap, HTTP server of 5 ms', timer: 'asyncMap, 5 ms timer', hand: 'hand loop, HTTP (no pipec)' }[kind];
    const rates = runs[kind].map(rate).sort((a, b) => a - b);
    console.log(`${label.padEnd(32)} ${Math.round(median(rates)).toLocaleString('en').padStart(9)}   ${Math.round(rates[0]).toLocaleString('en')}–${Math.round(rates[rates.length - 1]).toLocaleString('en')}`);
  }
  const target = 15_000;
  const achieved = rate(median(runs.http));
  console.log(`asyncMap over HTTP / the hand loop: ${(achieved / rate(median(runs.hand))).toFixed(2)}`);
  console.log(`target ≥ ${target.toLocaleString('en')} records/s (at most 20,000: 100 calls of 5 ms): over HTTP ${achieved >= target ? 'met' : 'NOT met'}, with the timer ${rate(median(runs.timer)) >= target ? 'met' : 'NOT met'}`);
}
