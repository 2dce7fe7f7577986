/**
 * The fault scenario of test/faults.test.ts (sized for CI) and `npm run chaos`
 * (larger): the three-stage job of test/fixtures/kafka/fault-job.ts on the real
 * broker, parallelism 2 per stage, fed a seeded input in chunks while workers
 * are killed with SIGKILL at random moments (and restarted a second later),
 * restarted one by one with SIGTERM, scaled out and in, and paused past their
 * session timeout (a zombie) and resumed. The output topics, read committed,
 * must equal the result computed here from the input: every window count and
 * every rolling total exactly once, nothing missing, nothing extra.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { buildFile } from './helpers.ts';
import { createTopic, freshName, kafkaBrokers, readUntil, startWorker, waitForLog } from './kafka-helpers.ts';

export type FaultAction = 'kill' | 'sigterm-rolling' | 'scale-out' | 'scale-in' | 'zombie';

export interface FaultOptions {
  records: number;
  chunks: number;
  /** Faults, one after each of the first chunks (in this order). */
  actions: FaultAction[];
  seed: number;
  log?: (line: string) => void;
}

export interface FaultReport {
  seed: number;
  records: number;
  kills: number;
  windows: { expected: number; missing: string[]; extra: string[]; wrong: string[] };
  totals: { expected: number; missing: string[]; extra: string[] };
  sigtermExits: Array<{ stage: number; code: number | null; ms: number }>;
  /** Checkpoints that wrote a full state (materialized) instead of a delta, over all workers. */
  materializations: number;
  seconds: number;
  logs: string;
}

const USERS = 24;
const SESSION_TIMEOUT = 6000;

/** A small seeded generator (mulberry32): the same seed gives the same input and the same faults. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Worker { stage: number; id: number; proc: ChildProcess; log: string[]; exited: Promise<{ code: number | null; at: number }> }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts of each value as text. */
function multiset(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** What is missing from and what is extra in `actual` against `expected`. */
function compare(expected: string[], actual: string[]): { missing: string[]; extra: string[] } {
  const want = multiset(expected);
  const got = multiset(actual);
  const missing: string[] = [], extra: string[] = [];
  for (const [v, n] of want) for (let i = got.get(v) ?? 0; i < n; i++) missing.push(v);
  for (const [v, n] of got) for (let i = want.get(v) ?? 0; i < n; i++) extra.push(v);
  return { missing, extra };
}

/** Runs the scenario and reports what came out against what should have. */
export async function runFaultScenario(options: FaultOptions): Promise<FaultReport> {
  const started = Date.now();
  const say = options.log ?? (() => undefined);
  const rand = random(options.seed);
  const run = freshName('ft');
  const kafka = new Kafka({ brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING, clientId: 'pipec-fault-test' });
  process.env.RUN = run;
  const built = await buildFile('test/fixtures/kafka/fault-job.ts');
  if (built.diagnostics.length) throw new Error(`build failed: ${JSON.stringify(built.diagnostics)}`);
  const bundles = [0, 1, 2].map((s) => path.join(built.outDir!, `stage-${s}.mjs`));
  await createTopic(`${run}-in`, 2);

  // The input: users on two partitions, event time rising 50 ms per click, then an end marker per partition.
  const input: Array<{ partition: number; user: string; ts: number; n: number }> = [];
  for (let i = 0; i < options.records; i++) {
    const u = Math.floor(rand() * USERS);
    input.push({ partition: u % 2, user: `u${u}`, ts: 1_000_000 + i * 50, n: 1 + Math.floor(rand() * 9) });
  }
  const lastTs = 1_000_000 + options.records * 50;
  const sentinels = [0, 1].map((p) => ({ partition: p, user: `end${p}`, ts: lastTs + 60_000, n: 0 }));

  // Expected, computed from the input alone.
  const windowCounts = new Map<string, number>();
  for (const c of input) {
    const id = `${c.user}@${c.ts - (c.ts % 10_000)}`;
    windowCounts.set(id, (windowCounts.get(id) ?? 0) + 1);
  }
  const expectedWindows = [...windowCounts].map(([id, count]) => { const [user, start] = id.split('@'); return JSON.stringify({ user, start: Number(start), count }); });
  const running = new Map<string, { seq: number; total: number }>();
  const expectedTotals: string[] = [];
  for (const c of [...input, ...sentinels]) {
    const r = running.get(c.user) ?? { seq: 0, total: 0 };
    r.seq++; r.total += c.n;
    running.set(c.user, r);
    expectedTotals.push(JSON.stringify({ user: c.user, seq: r.seq, total: r.total }));
  }

  const workers: Worker[] = [];
  let nextId = 0;
  // Full states every few checkpoints (the default waits for 10,000 changed entries), so kills also land around materializations.
  const env = { RUN: run, PIPEC_LOG_LEVEL: 'info', PIPEC_MATERIALIZE_MIN_ENTRIES: '500' };
  const start = (stage: number): Worker => {
    const log: string[] = [];
    const proc = startWorker(bundles[stage], ['--session-timeout', String(SESSION_TIMEOUT)], env, log);
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => proc.once('exit', (code) => resolve({ code, at: Date.now() })));
    const w = { stage, id: nextId++, proc, log, exited };
    workers.push(w);
    say(`start stage-${stage} #${w.id} (pid ${proc.pid})`);
    return w;
  };
  const alive = () => workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null);
  const sigtermExits: FaultReport['sigtermExits'] = [];
  const terminate = async (w: Worker) => {
    // Before its code has loaded, a process ends by the default action of SIGTERM (nothing to checkpoint yet): wait until it runs.
    await waitForLog(w.log, /"worker started"/, 30_000);
    const at = Date.now();
    w.proc.kill('SIGTERM');
    const { code } = await Promise.race([w.exited, sleep(15_000).then(() => ({ code: null, at: -1 }))]);
    sigtermExits.push({ stage: w.stage, code, ms: Date.now() - at });
    say(`SIGTERM stage-${w.stage} #${w.id}: exit ${code} after ${Date.now() - at} ms`);
    if (code === null) w.proc.kill('SIGKILL');
  };

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const send = async (records: typeof input) => {
    for (let i = 0; i < records.length; i += 2000) {
      await producer.send({ topic: `${run}-in`, messages: records.slice(i, i + 2000).map((c) => ({ partition: c.partition, key: c.user, value: JSON.stringify({ user: c.user, ts: c.ts, n: c.n }) })) });
    }
  };

  let kills = 0;
  try {
    for (const stage of [0, 1, 2]) for (let i = 0; i < 2; i++) start(stage);
    await Promise.all(workers.map((w) => waitForLog(w.log, /joining the consumer group/, 60_000)));
    const chunk = Math.ceil(options.records / options.chunks);
    for (let c = 0; c < options.chunks; c++) {
      await send(input.slice(c * chunk, (c + 1) * chunk));
      await sleep(200 + rand() * 1200);
      const action = options.actions[c];
      if (!action) continue;
      say(`fault after chunk ${c + 1}/${options.chunks}: ${action}`);
      if (action === 'kill') {
        const candidates = alive();
        const victim = candidates[Math.floor(rand() * candidates.length)];
        victim.proc.kill('SIGKILL');
        kills++;
        say(`SIGKILL stage-${victim.stage} #${victim.id}`);
        await sleep(1000);
        start(victim.stage);
      } else if (action === 'sigterm-rolling') {
        const stage = 1 + Math.floor(rand() * 2);
        for (const w of alive().filter((x) => x.stage === stage)) {
          await terminate(w);
          start(stage);
          await sleep(1500);
        }
      } else if (action === 'scale-out') {
        start(1); start(2);
      } else if (action === 'scale-in') {
        for (const stage of [1, 2]) {
          const ws = alive().filter((x) => x.stage === stage);
          if (ws.length > 2) await terminate(ws[ws.length - 1]);
        }
      } else if (action === 'zombie') {
        const ws = alive().filter((x) => x.stage === 1 || x.stage === 2);
        const z = ws[Math.floor(rand() * ws.length)];
        say(`SIGSTOP stage-${z.stage} #${z.id} for ${SESSION_TIMEOUT + 3000} ms`);
        z.proc.kill('SIGSTOP');
        await sleep(SESSION_TIMEOUT + 3000);
        z.proc.kill('SIGCONT');
        say(`SIGCONT stage-${z.stage} #${z.id}`);
      }
    }
    await send(sentinels);

    // Read both outputs (committed records only) until every expected result is there, then a little longer for extras.
    const windowsOut = await readUntil(`${run}-windows`, (values) => compare(expectedWindows, values).missing.length === 0, 240_000);
    const totalsOut = await readUntil(`${run}-totals`, (values) => compare(expectedTotals, values).missing.length === 0, 240_000);
    await sleep(3000);
    const finalWindows = await readUntil(`${run}-windows`, (values) => values.length >= windowsOut.length, 60_000);
    const finalTotals = await readUntil(`${run}-totals`, (values) => values.length >= totalsOut.length, 60_000);

    for (const w of alive()) await terminate(w);
    const windows = compare(expectedWindows, finalWindows);
    const wrong = windows.extra.filter((v) => { const r = JSON.parse(v); return !windowCounts.has(`${r.user}@${r.start}`) || windowCounts.get(`${r.user}@${r.start}`) !== r.count; });
    const totals = compare(expectedTotals, finalTotals);
    return {
      seed: options.seed, records: options.records, kills,
      windows: { expected: expectedWindows.length, missing: windows.missing, extra: windows.extra, wrong },
      totals: { expected: expectedTotals.length, missing: totals.missing, extra: totals.extra },
      sigtermExits,
      materializations: workers.reduce((n, w) => n + w.log.join('').split('state materialized').length - 1, 0),
      seconds: (Date.now() - started) / 1000,
      logs: workers.map((w) => `==== stage-${w.stage} #${w.id}\n${w.log.join('')}`).join('\n'),
    };
  } finally {
    await producer.disconnect();
    for (const w of workers) { w.proc.kill('SIGCONT'); w.proc.kill('SIGKILL'); }
    const admin = kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(run));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
}
