/**
 * `npm run bench -- checkpoint`: what checkpoints cost a stateful stage worker
 * on the real broker, and how fast a killed one comes back.
 *
 * The job (pipeline.ts): a pre-filled input topic of clicks over 100,000
 * users (1,000,000 records by default: every user ten times, about once per
 * second at the rates measured here, so every 1 s checkpoint writes most of
 * the keys again) → keyBy(user) → a
 * rolling reduce (count and total per user) → an output topic. Stage 0
 * repartitions, stage 1 keeps the state: one entry per user, and one output
 * record per input record. Three builds of it, one per variant:
 *
 * - `eos-1s`:  exactly-once, checkpoint every 1 s;
 * - `eos-off`: exactly-once, checkpoint every 1 h — there is no switch that
 *   turns checkpoints off, so this is "off" as far as the interval goes;
 * - `alo-1s`:  at-least-once, checkpoint every 1 s.
 *
 * Stage 0 of one build runs once per run and its repartition topic is read
 * into memory; each round then copies those records (the same bytes, keys and
 * partition) into a fresh repartition topic per variant (PIPEC_TOPIC_PREFIX per
 * round) and times stage 1 alone on it: from its log line "task started with
 * empty state" to "final checkpoints taken", the worker being sent SIGTERM as
 * soon as its /metrics count every record consumed (so a variant whose
 * interval has not come round commits its rest at once, as the others do).
 * That span holds the processing and every checkpoint, including the last.
 * Besides records/s it reports the worker's CPU time per record over the same
 * span (/proc), which other work on the machine disturbs less. Variants are
 * interleaved round by round, their order rotated each round; figures are
 * medians, with each variant's range of rates. Workers run with PIPEC_LOG_LEVEL=debug, whose
 * "checkpoint committed" lines give each checkpoint's records, changelog
 * records and duration, summed into the time the task's commit chain was
 * busy (checkpoints and sends ahead, which overlap the processing of later
 * records).
 *
 * Restart, each round on the state `eos-1s` just built (100,000 keys): worker
 * A restores it and idles; A is killed with SIGKILL, one more input record for
 * a known user goes to the repartition topic (stage 1's input; bypassing
 * stage 0 keeps stage 0's own checkpoint interval out of the figure), and
 * worker B is started at once. Restart time = B's spawn to the first output
 * record for that user, read committed, whose count and total continue from
 * the state before the kill. B's log lines split it into process start, group
 * join (B removes A's member, which A's pid file says died here, so the group
 * need not wait out A's session), restore (its own `ms`, the records read
 * from the local copy of the state and from the changelog's tail) and the
 * first checkpoint.
 *
 * BENCH_PROFILE=<dir> makes every worker write a V8 CPU profile into <dir>
 * (and keeps the bundles in bench/.out, whose lines the profiles name).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { deleteTopics, freshName, kafkaBrokers } from '../../test/kafka-helpers.ts';
import { buildPipeline, median } from '../lib.ts';

const KEYS = 100_000;
/** Distinct users in input order: i ↦ i·7919 mod KEYS is a bijection on 0..KEYS-1 (7919 is prime to KEYS). */
const userOf = (i: number) => `u${(i * 7919) % KEYS}`;
const amountOf = (i: number) => (i % 7) + 1;
const PHASE_TIMEOUT_MS = 300_000;

interface Variant { id: string; label: string; interval: string; guarantee: 'exactly-once' | 'at-least-once' }

const VARIANTS: Variant[] = [
  { id: 'eos-1s', label: "exactly-once, checkpoint 1 s", interval: '1s', guarantee: 'exactly-once' },
  { id: 'eos-off', label: "exactly-once, checkpoint '1h' (\"off\")", interval: '1h', guarantee: 'exactly-once' },
  { id: 'alo-1s', label: "at-least-once, checkpoint 1 s", interval: '1s', guarantee: 'at-least-once' },
];

/** A built variant: its output folder, the environment its workers must run with, its repartition topic (without prefix). */
interface Built { variant: Variant; outDir: string; env: Record<string, string>; repartition: string }

/** One log line of a worker (pino JSON). */
interface LogLine { time: number; msg: string; [field: string]: unknown }

/** A stage worker started by the benchmark, with its log. */
class Worker {
  readonly proc: ChildProcess;
  readonly spawnedAt = Date.now();
  private stderr = '';
  private signalled = false;
  readonly exited: Promise<number | null>;

  constructor(script: string, args: string[], env: Record<string, string>) {
    // BENCH_PROFILE=<dir>: every worker writes a V8 CPU profile there when it exits (open it in Chrome's DevTools).
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    this.proc = spawn(process.execPath, [...profile, script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  get lines(): LogLine[] {
    return this.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  }

  line(msg: string): LogLine | undefined { return this.lines.find((l) => l.msg === msg); }

  get running(): boolean { return this.proc.exitCode === null && this.proc.signalCode === null; }

  /** CPU time the process has used so far (user + system, ms; Linux /proc, NaN elsewhere or once it has exited). */
  cpuMs(): number {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks (USER_HZ = 100).
      const fields = fs.readFileSync(`/proc/${this.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return NaN;
    }
  }

  /** Waits for a log line; fails if the worker exits first. */
  async waitFor(msg: string, timeoutMs = PHASE_TIMEOUT_MS, pollMs = 20): Promise<LogLine> {
    for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(pollMs)) {
      const found = this.line(msg);
      if (found) return found;
      if (!this.running) throw new Error(`worker exited before "${msg}":\n${this.tail()}`);
    }
    throw new Error(`timed out waiting for "${msg}":\n${this.tail()}`);
  }

  /** Asks the worker to stop (SIGTERM, once: a second one would end it at once, with the default action). */
  stop(): void {
    if (this.signalled || !this.running) return;
    this.signalled = true;
    this.proc.kill('SIGTERM');
  }

  /** Stops the worker and waits for its exit (SIGKILL after 30 s). */
  async terminate(): Promise<void> {
    if (!this.running) return;
    this.stop();
    const code = await Promise.race([this.exited, deadline(30_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') { this.proc.kill('SIGKILL'); throw new Error(`worker did not stop within 30 s of SIGTERM:\n${this.tail()}`); }
    if (code !== 0) throw new Error(`worker exited with ${code}:\n${this.tail()}`);
  }

  tail(): string { return this.stderr.slice(-3000); }
}

const sleep = (ms: number) => new Promise<void>((resolve) => { setTimeout(resolve, ms); });

/** Resolves after `ms` for a Promise.race; its timer does not keep the process alive once the race is decided. */
const deadline = (ms: number) => new Promise<void>((resolve) => { setTimeout(resolve, ms).unref(); });

/** A TCP port nothing listens on now (for a worker's /metrics). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Records a worker has consumed, from its /metrics (0 before it serves them). */
async function recordsIn(port: number): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let total = 0;
    for (const m of text.matchAll(/^pipec_records_in_total\{[^}]*\} (\d+)/gm)) total += Number(m[1]);
    return total;
  } catch {
    return 0;
  }
}

/** Waits until a worker has consumed `records` records. */
async function waitConsumed(worker: Worker, port: number, records: number): Promise<void> {
  for (const until = Date.now() + PHASE_TIMEOUT_MS; Date.now() < until; await sleep(25)) {
    if (await recordsIn(port) >= records) return;
    if (!worker.running) throw new Error(`worker exited before consuming its input:\n${worker.tail()}`);
  }
  throw new Error(`worker did not consume ${records} records in ${PHASE_TIMEOUT_MS / 1000} s:\n${worker.tail()}`);
}

async function createTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try { await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }); } finally { await admin.disconnect(); }
}

/** Sends records to partition 0 in sends of at most ~500 KB (under the broker's 1 MB limit), three in flight. */
async function sendAll(kafka: Kafka, topic: string, records: Array<{ key: Buffer | string | null; value: Buffer | string }>): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const inflight: Array<Promise<unknown>> = [];
  try {
    for (let i = 0; i < records.length;) {
      const messages = [];
      for (let bytes = 0; i < records.length && bytes < 500_000; i++) { messages.push({ ...records[i], partition: 0 }); bytes += records[i].value.length + 40; }
      inflight.push(producer.send({ topic, acks: -1, messages }));
      if (inflight.length >= 3) await inflight.shift();
    }
    await Promise.all(inflight);
  } finally {
    await Promise.allSettled(inflight);
    await producer.disconnect();
  }
}

/** Reads a topic from its start (committed records) until `count` records came. */
async function readAll(kafka: Kafka, topic: string, count: number): Promise<Array<{ key: Buffer | null; value: Buffer }>> {
  const consumer = kafka.consumer({ groupId: freshName(`${topic}-copy-`), maxBytesPerPartition: 8 << 20 });
  const records: Array<{ key: Buffer | null; value: Buffer }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachBatch: async ({ batch }) => { for (const m of batch.messages) records.push({ key: m.key, value: m.value! }); } });
    for (const until = Date.now() + PHASE_TIMEOUT_MS; records.length < count && Date.now() < until;) await sleep(50);
    if (records.length !== count) throw new Error(`${topic} holds ${records.length} records, expected ${count}`);
    return records;
  } finally {
    await consumer.disconnect();
  }
}

/** Builds one variant into bench/.out/<name> (the build function reads the environment). */
async function buildVariant(run: string, variant: Variant): Promise<Built> {
  const env = { BENCH_NAME: `${run}-${variant.id}`, BENCH_IN: `${run}-in`, BENCH_OUT: `${run}-${variant.id}-out`, BENCH_CHECKPOINT: variant.interval, BENCH_GUARANTEE: variant.guarantee };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const outDir = await buildPipeline('bench/checkpoint/pipeline.ts');
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8')) as { edges: Array<{ topic: string }>; checkpoint: { interval: number }; guarantee: string };
    if (manifest.checkpoint.interval !== (variant.interval === '1h' ? 3_600_000 : 1000) || manifest.guarantee !== variant.guarantee) throw new Error(`${variant.id}: the build has ${JSON.stringify(manifest.checkpoint)} ${manifest.guarantee}`);
    return { variant, outDir, env, repartition: manifest.edges[0].topic };
  } finally {
    for (const key of Object.keys(env)) { if (saved[key] === undefined) delete process.env[key]; else process.env[key] = saved[key]; }
  }
}

/** What one timed run of stage 1 reports. */
interface StageRun {
  rate: number;
  /** CPU time of the worker per record over the same span (µs): less disturbed by other work on the machine than `rate`. */
  cpuPerRecord: number;
  ms: number;
  checkpoints: number;
  reasons: Record<string, number>;
  checkpointMs: number;
  outputRecords: number;
  changelogRecords: number;
}

/** Times stage 1 of a variant over a repartition topic filled with `input`. */
async function timeStage(kafka: Kafka, built: Built, prefix: string, input: Array<{ key: Buffer | null; value: Buffer }>): Promise<StageRun> {
  const topic = `${prefix}${built.repartition}`;
  await createTopic(kafka, topic);
  await sendAll(kafka, topic, input);
  const port = await freePort();
  const worker = new Worker(path.join(built.outDir, 'stage-1.mjs'), ['--metrics-port', String(port)], { ...built.env, PIPEC_TOPIC_PREFIX: prefix, PIPEC_LOG_LEVEL: 'debug' });
  let cpu = NaN;
  try {
    await worker.waitFor('task started with empty state');
    const cpuAtStart = worker.cpuMs();
    await waitConsumed(worker, port, input.length);
    worker.stop();
    // The CPU the worker used up to its last checkpoint (read within a few ms of that log line, before it leaves the group).
    await worker.waitFor('final checkpoints taken', 60_000, 5);
    cpu = worker.cpuMs() - cpuAtStart;
    await worker.terminate();
  } finally {
    if (worker.running) worker.proc.kill('SIGKILL');
  }
  const start = worker.line('task started with empty state');
  const end = worker.line('final checkpoints taken');
  if (!start || !end) throw new Error(`stage 1 of ${built.variant.id} logged no start or end:\n${worker.tail()}`);
  const checkpoints = worker.lines.filter((l) => l.msg === 'checkpoint committed');
  const reasons: Record<string, number> = {};
  for (const c of checkpoints) reasons[String(c.reason)] = (reasons[String(c.reason)] ?? 0) + 1;
  const sum = (field: string) => checkpoints.reduce((s, c) => s + Number(c[field]), 0);
  // Output that outgrew the buffer between checkpoints went ahead into the open transaction, committed by the next checkpoint.
  const ahead = worker.lines.filter((l) => l.msg === 'output sent ahead of the checkpoint');
  const outputRecords = sum('records') + ahead.reduce((s, l) => s + Number(l.records), 0);
  // Every input record updates its user's total: one output record each, all committed by the end.
  if (outputRecords !== input.length) throw new Error(`stage 1 of ${built.variant.id} committed ${outputRecords} output records for ${input.length} inputs`);
  const ms = end.time - start.time;
  return { rate: (input.length / ms) * 1000, cpuPerRecord: (cpu * 1000) / input.length, ms, checkpoints: checkpoints.length, reasons, checkpointMs: sum('ms') + ahead.reduce((s, l) => s + Number(l.ms), 0), outputRecords, changelogRecords: sum('changelog') };
}

/** What one restart reports (ms from the new worker's spawn). */
interface RestartRun { firstOutput: number; joined: number; assigned: number; restored: number; restoreMs: number; fenceMs: number; readMs: number; applyMs: number; changelogRecords: number; localRecords: number; entries: number; killToSpawn: number }

/** Reads an output topic from `from` on, read committed, until a record for `user` arrives; resolves with it and its arrival time. */
async function watchFor(kafka: Kafka, topic: string, from: string, user: string): Promise<{ consumer: Consumer; record: Promise<{ value: { user: string; count: number; total: number }; at: number }> }> {
  const consumer = kafka.consumer({ groupId: freshName(`${topic}-watch-`), maxWaitTimeInMs: 50 });
  let found!: (r: { value: { user: string; count: number; total: number }; at: number }) => void;
  const record = new Promise<{ value: { user: string; count: number; total: number }; at: number }>((resolve) => { found = resolve; });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = JSON.parse(message.value!.toString()) as { user: string; count: number; total: number };
      if (value.user === user) found({ value, at: Date.now() });
    },
  });
  consumer.seek({ topic, partition: 0, offset: from });
  return { consumer, record };
}

/**
 * Kills a stage-1 worker holding the state of `prefix`'s run with SIGKILL,
 * sends one more record for `probe.user`, starts a new worker at once and
 * times its first correct output.
 */
async function timeRestart(kafka: Kafka, built: Built, prefix: string, probe: { key: Buffer | null; value: Buffer; user: string; count: number; total: number }): Promise<RestartRun> {
  const env = { ...built.env, PIPEC_TOPIC_PREFIX: prefix, PIPEC_LOG_LEVEL: 'debug' };
  const script = path.join(built.outDir, 'stage-1.mjs');
  const admin = kafka.admin();
  await admin.connect();
  const [end] = await admin.fetchTopicOffsets(built.env.BENCH_OUT);
  await admin.disconnect();
  const watch = await watchFor(kafka, built.env.BENCH_OUT, end.high, probe.user);
  const holder = new Worker(script, [], env);
  let successor: Worker | null = null;
  try {
    await holder.waitFor('task restored from its checkpoint');
    // Steady state: the holder has heartbeated for a while, as a worker that dies in service has.
    await sleep(1500);
    holder.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await sendAll(kafka, `${prefix}${built.repartition}`, [probe]);
    successor = new Worker(script, [], env);
    const spawned = successor.spawnedAt;
    const out = await Promise.race([watch.record, deadline(120_000).then(() => null)]);
    if (!out) throw new Error(`no output for ${probe.user} within 120 s of the restart:\n${successor.tail()}`);
    if (out.value.count !== probe.count || out.value.total !== probe.total) {
      throw new Error(`restart lost state: ${probe.user} came out as ${JSON.stringify(out.value)}, expected count ${probe.count} and total ${probe.total}`);
    }
    const restored = await successor.waitFor('task restored from its checkpoint', 10_000);
    const at = (msg: string) => (successor!.line(msg)?.time ?? NaN) - spawned;
    return {
      firstOutput: out.at - spawned,
      joined: at('joining the consumer group'),
      assigned: at('partitions assigned'),
      restored: restored.time - spawned,
      restoreMs: Number(restored.ms),
      fenceMs: Number(restored.fenceMs),
      readMs: Number(restored.readMs),
      applyMs: Number(restored.applyMs),
      changelogRecords: Number(restored.changelogRecords),
      localRecords: Number(restored.localRecords ?? 0),
      entries: Number(restored.entries),
      killToSpawn: spawned - killedAt,
    };
  } finally {
    if (holder.running) holder.proc.kill('SIGKILL');
    if (successor?.running) await successor.terminate().catch(() => successor!.proc.kill('SIGKILL'));
    await watch.consumer.disconnect();
  }
}

/** Runs stage 0 of a build once over the input and returns its repartition topic's records. */
async function repartitionOnce(kafka: Kafka, built: Built, run: string, records: number): Promise<Array<{ key: Buffer | null; value: Buffer }>> {
  const prefix = `${run}-fill-`;
  const port = await freePort();
  const worker = new Worker(path.join(built.outDir, 'stage-0.mjs'), ['--metrics-port', String(port)], { ...built.env, PIPEC_TOPIC_PREFIX: prefix });
  try {
    await waitConsumed(worker, port, records);
    await worker.terminate();
  } finally {
    if (worker.running) worker.proc.kill('SIGKILL');
  }
  return readAll(kafka, `${prefix}${built.repartition}`, records);
}

const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const thousands = (n: number) => Math.round(n).toLocaleString('en');
const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Runs the benchmark: `records` input records, `rounds` rounds of every variant and one restart per round; prints the table. */
export async function checkpointBench(options: { records: number; rounds: number }): Promise<void> {
  const { records, rounds } = options;
  const brokers = kafkaBrokers();
  const kafka = new Kafka({ clientId: 'bench-checkpoint', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  process.env.PIPEC_KAFKA_BROKERS = brokers;
  const run = freshName('ckb');
  // The workers' local state copies and member files (the restart reads them), removed at the end.
  const localDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-bench-checkpoint-'));
  process.env.PIPEC_CHECKPOINT_DIR = localDir;
  const loadBefore = loadAverage();
  const started = Date.now();
  const say = (text: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}\n`);
  const builds: Built[] = [];
  const runs = new Map<string, StageRun[]>(VARIANTS.map((v) => [v.id, []]));
  const restarts: RestartRun[] = [];
  try {
    for (const variant of VARIANTS) builds.push(await buildVariant(run, variant));
    say(`built ${builds.length} variants; writing ${thousands(records)} records over ${thousands(Math.min(KEYS, records))} users to ${run}-in`);
    await createTopic(kafka, `${run}-in`);
    await sendAll(kafka, `${run}-in`, Array.from({ length: records }, (_, i) => ({ key: null, value: JSON.stringify({ user: userOf(i), n: amountOf(i) }) })));
    const repartitioned = await repartitionOnce(kafka, builds[0], run, records);
    say(`stage 0 repartitioned the input once (${thousands(repartitioned.length)} records)`);
    // What every user's total is after the whole input.
    const totals = new Map<string, { count: number; total: number }>();
    for (let i = 0; i < records; i++) { const t = totals.get(userOf(i)) ?? { count: 0, total: 0 }; t.count++; t.total += amountOf(i); totals.set(userOf(i), t); }

    for (let round = 0; round < rounds; round++) {
      const prefix = `${run}-r${round}-`;
      const order = VARIANTS.map((_, i) => builds[(i + round) % builds.length]);
      for (const built of order) {
        const result = await timeStage(kafka, built, prefix, repartitioned);
        runs.get(built.variant.id)!.push(result);
        say(`round ${round + 1}/${rounds} ${built.variant.id}: ${thousands(result.rate)} records/s, ${result.cpuPerRecord.toFixed(1)} µs CPU/record, ${result.checkpoints} checkpoints (${Object.entries(result.reasons).map(([r, n]) => `${n} ${r}`).join(', ')}), commit chain busy ${percent(result.checkpointMs / result.ms)} of ${(result.ms / 1000).toFixed(1)} s, load ${loadAverage()}`);
        if (built.variant.id !== 'eos-1s') continue;
        // The restart, on the state this run left: a user of the input gets one more record.
        const index = round * 3 + 1;
        const user = userOf(index);
        const copy = repartitioned[index];
        if (copy.key?.toString() !== user) throw new Error(`repartition record ${index} is for ${copy.key?.toString()}, expected ${user}`);
        const before = totals.get(user)!;
        const restart = await timeRestart(kafka, built, prefix, { key: copy.key, value: copy.value, user, count: before.count + 1, total: before.total + amountOf(index) });
        restarts.push(restart);
        say(`round ${round + 1}/${rounds} restart: first correct output ${restart.firstOutput} ms after spawn (joined ${restart.joined}, assigned ${restart.assigned}, restored ${restart.restored}: restore ${restart.restoreMs} ms = fence ${restart.fenceMs} + read ${restart.readMs} + apply ${restart.applyMs}, over ${thousands(restart.localRecords)} local and ${thousands(restart.changelogRecords)} changelog records), load ${loadAverage()}`);
      }
    }
  } finally {
    await deleteTopics(run);
    const admin = kafka.admin();
    await admin.connect();
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(run));
    if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
    await admin.disconnect();
    // A profiled run keeps its bundles: the profiles' line numbers are theirs.
    if (!process.env.BENCH_PROFILE) for (const built of builds) fs.rmSync(built.outDir, { recursive: true, force: true });
    fs.rmSync(localDir, { recursive: true, force: true });
  }

  const stat = (id: string) => {
    const list = runs.get(id)!;
    const reasons = new Map<string, number[]>();
    for (const r of list) for (const [reason, n] of Object.entries(r.reasons)) reasons.set(reason, [...(reasons.get(reason) ?? []), n]);
    return {
      rate: median(list.map((r) => r.rate)),
      range: `${thousands(Math.min(...list.map((r) => r.rate)))}–${thousands(Math.max(...list.map((r) => r.rate)))}`,
      cpu: median(list.map((r) => r.cpuPerRecord)),
      share: median(list.map((r) => r.checkpointMs / r.ms)),
      checkpoints: median(list.map((r) => r.checkpoints)),
      reasons: [...reasons].map(([reason, n]) => `${median(n)} ${reason}`).join(', '),
      msEach: median(list.map((r) => r.checkpointMs / r.checkpoints)),
      changelog: median(list.map((r) => r.changelogRecords)),
    };
  };
  const on = stat('eos-1s'), off = stat('eos-off'), alo = stat('alo-1s');
  const cost = (variant: { rate: number; cpu: number }, baseline: { rate: number; cpu: number }) => ({ rate: 1 - variant.rate / baseline.rate, cpu: variant.cpu / baseline.cpu - 1 });
  const checkpointCost = cost(on, off);
  const exactlyOnceCost = cost(on, alo);
  const restart = median(restarts.map((r) => r.firstOutput));
  const ms = (pick: (r: RestartRun) => number) => `${thousands(median(restarts.map(pick)))} ms`;
  const row = (figure: string, value: string, target = '', verdict = '') => console.log(`${figure.padEnd(60)}${value.padStart(30)}   ${target.padEnd(10)}${verdict}`);
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
  console.log(`checkpoint: ${thousands(records)} records over ${thousands(Math.min(KEYS, records))} users, kafka.source → keyBy(user) → reduce → kafka.sink;`);
  console.log(`stage 1 (the reduce) timed alone on a pre-filled repartition topic; ${rounds} rounds, variants interleaved, medians (node ${process.version}, ${os.cpus().length} cpus)`);
  console.log(`load average (1, 5, 15 min): ${loadBefore} at start, ${loadAverage()} at end; the run took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log('');
  row('', 'records/s   µs CPU/record');
  for (const [id, s] of [['eos-1s', on], ['eos-off', off], ['alo-1s', alo]] as const) {
    row(`stage 1, ${VARIANTS.find((v) => v.id === id)!.label}`, `${thousands(s.rate).padStart(9)}   ${s.cpu.toFixed(1).padStart(13)}`);
    console.log(`    rounds ${s.range} records/s; ${s.checkpoints} checkpoints (${s.reasons}), ${thousands(s.msEach)} ms each; commit chain (checkpoints and sends ahead, overlapping processing) busy ${percent(s.share)} of the stage's time; ${thousands(s.changelog)} changelog records`);
  }
  console.log('');
  row('figure', 'throughput   (CPU)', 'target');
  row("1. checkpoint cost: every 1 s against '1h' (\"off\")", `${percent(checkpointCost.rate).padStart(9)}   ${`(${percent(checkpointCost.cpu)})`.padStart(13)}`, '≤ 5%', verdict(checkpointCost.rate <= 0.05));
  row('2. exactly-once cost against at-least-once (both 1 s)', `${percent(exactlyOnceCost.rate).padStart(9)}   ${`(${percent(exactlyOnceCost.cpu)})`.padStart(13)}`, '≤ 10%', verdict(exactlyOnceCost.rate <= 0.10));
  row('3. restart: spawn after SIGKILL → first correct output', `${thousands(restart)} ms`, '≤ 2000 ms', verdict(restart <= 2000));
  row('   (the new worker was spawned this long after the kill)', ms((r) => r.killToSpawn));
  row('   spawn → joining the group', ms((r) => r.joined));
  row('   joining → partitions assigned (the killed member\'s session)', ms((r) => r.assigned - r.joined));
  row('   assigned → task restored', ms((r) => r.restored - r.assigned));
  row('   restored → first output committed and read', ms((r) => r.firstOutput - r.restored));
  row('   the restore itself (its log line\'s "ms")', ms((r) => r.restoreMs));
  row('     fencing the previous owner (transactional producer)', ms((r) => r.fenceMs));
  row('     reading the local copy and the changelog', ms((r) => r.readMs));
  row('     loading the state into the operators', ms((r) => r.applyMs));
  row('   records from the local copy / from the changelog / entries', `${thousands(median(restarts.map((r) => r.localRecords)))} / ${thousands(median(restarts.map((r) => r.changelogRecords)))} / ${thousands(median(restarts.map((r) => r.entries)))}`);
  console.log('');
  console.log("Costs are 1 - rate / baseline rate (CPU: CPU per record / baseline's - 1). '1h' stands for checkpoints off: there is no switch;");
  console.log('a task whose output outgrows 20,000 records between checkpoints sends it ahead into its open transaction, so only the');
  console.log('interval (and the end) commits.');
}
