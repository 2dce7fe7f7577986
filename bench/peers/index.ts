/**
 * `npm run bench -- peers`: pipec stage workers against Kafka Streams 4.1 (the
 * system a user would pick instead) on the same broker, the same input and in
 * the same run, and the stateless workload against hand-written loops over the
 * two Node Kafka clients (issue 12's Kafka-path targets: pipec ≥ 1.0× Kafka
 * Streams on each workload under both guarantees; a pipec stage ≥ 0.85 of the
 * fastest hand-written loop).
 *
 * Input (records.ts): one pre-filled topic, 4 partitions, `records` ~150-byte
 * JSON events over 1,000 users, keyed by user. Workloads, each a pipec pipeline
 * (bench/peers/<workload>.ts) and a Kafka Streams topology (PeersApp.java):
 * - stateless: filter + projection, topic → topic;
 * - count: keyed count through a repartition topic, one output record per
 *   input record (the user's count so far);
 * - window: keyed 1 s tumbling-window count on event time, final results only.
 * Each under at-least-once and exactly-once. Per run a system gets fresh
 * output, repartition and changelog topics and groups; pipec runs one worker
 * process per stage (parallelism 1), Kafka Streams one JVM with one stream
 * thread, a hand loop one process. Rounds × workloads × guarantees, the
 * systems' order rotating each round.
 *
 * Kafka Streams settings, and why they are comparable:
 * - commit.interval.ms = pipec's checkpoint interval (its default, 200 ms, read
 *   from the manifest), under both guarantees: the interval at which each
 *   commits output, state and offsets (Kafka Streams' own defaults are 30 s
 *   at-least-once, 100 ms exactly-once);
 * - statestore.cache.max.bytes = 0 for count: every update goes downstream, as
 *   pipec's rolling reduce emits one record per input record; 10 MB (the
 *   default) for window, where the cache only thins out the window store's
 *   changelog writes per commit, as pipec writes a changed window once per
 *   checkpoint — the output is the same either way (suppress);
 * - window: TimeWindows without grace and suppress(untilWindowCloses): one
 *   final count per user and window, Flink's (and pipec's) event-time window
 *   semantics; the input is in time order per partition, so neither drops a
 *   record as late, and the sentinels (records.ts) close every real window;
 * - in-memory stores (changelogged), the counterpart of pipec's heap state
 *   (RocksDB, Kafka Streams' default, would be slower);
 * - 1 stream thread; everything else the defaults.
 *
 * Timing, the same for every system (watch.ts): from the first offset commit
 * of the system's input group to the moment the last expected output record
 * is read from the output topic, read committed; rate = input records after
 * that first commit / time. CPU per record: user + system time of the
 * system's processes over the same span (/proc; all threads of the JVM), and
 * beside it the broker's and this process's (the output watcher's), which
 * share the machine's 2 cores with the system under test. Load average per
 * run and for the whole run.
 *
 * Check: every run's output must be the workload's expected output
 * (records.ts, computed here): the same multiset of records (digest of key and
 * value bytes, duplicates included); so pipec's, Kafka Streams' and the hand
 * loops' outputs are equal. A mismatch fails the benchmark, naming records.
 *
 * Environment: PEERS_WORKLOADS, PEERS_GUARANTEES, PEERS_SYSTEMS (comma lists)
 * restrict the run; PEERS_KS_THREADS gives Kafka Streams more stream threads
 * (2 matches pipec's two processes on count and window); BENCH_PROFILE=<dir>
 * writes a V8 CPU profile of every pipec worker there and prints where their
 * time went within the timed spans (profile.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { deleteTopics, freshName, kafkaBrokers } from '../../test/kafka-helpers.ts';
import { median } from '../lib.ts';
import { expectedDigest, inputRecords, KEYS, PARTITIONS, WORKLOADS, type Workload } from './records.ts';
import { brokerPid, buildHand, buildKafkaStreams, buildPipec, GUARANTEES, kafkaStreamsSettings, kafkaStreamsVersion, launchHand, launchKafkaStreams, launchPipec, processCpuMs, SYSTEMS, type Guarantee, type Launch, type PipecBuild, type SystemName } from './systems.ts';
import { differences, firstCommit, OutputWatcher } from './watch.ts';
import { summarizeProfiles } from './profile.ts';

const START_TIMEOUT_MS = 120_000;
const RUN_TIMEOUT_MS = 600_000;

/** What to run. */
export interface PeersOptions {
  records: number;
  rounds: number;
  workloads?: Workload[];
  guarantees?: Guarantee[];
  systems?: SystemName[];
  /** Progress lines (stderr by default). */
  say?: (line: string) => void;
  /** A folder for V8 CPU profiles of the pipec workers. */
  profileDir?: string;
}

/** One timed run of one system. */
export interface RunResult {
  workload: Workload;
  guarantee: Guarantee;
  system: SystemName;
  round: number;
  /** Input records per second, wall clock. */
  rate: number;
  /** The input records the span covers (those after the first commit). */
  records: number;
  ms: number;
  /** CPU time per input record (µs): the system's processes, the broker's, this process's (the watcher). */
  cpu: number;
  brokerCpu: number;
  watcherCpu: number;
  /** 1-minute load average at the end of the run. */
  load: number;
  /** The output's digest (records.ts: OutputDigest), equal to the expected one (or the run failed). */
  digest: string;
  /** Set when the output's bytes differ from the expected ones but its JSON values are the same. */
  note?: string;
}

/** What a run of the benchmark measured. */
export interface PeersResult {
  results: RunResult[];
  /** The expected outputs' digests and sizes, per workload. */
  expected: Partial<Record<Workload, { digest: string; count: number }>>;
  /** pipec's checkpoint interval, which Kafka Streams commits at too (ms). */
  commitIntervalMs: number;
  loadBefore: number[];
  loadAfter: number[];
  seconds: number;
}

const list = <T extends string>(value: string | undefined, all: readonly T[]): T[] => {
  if (!value) return [...all];
  const picked = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = picked.filter((p) => !all.includes(p as T));
  if (unknown.length) throw new Error(`unknown ${unknown.join(', ')}: expected some of ${all.join(', ')}`);
  return picked as T[];
};

/** Fills the input topic: every partition's records in order, the partitions in parallel. */
async function fillInput(kafka: Kafka, admin: Admin, topic: string, records: number): Promise<number> {
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  const byPartition: Array<Array<{ key: string; value: string }>> = Array.from({ length: PARTITIONS }, () => []);
  let total = 0;
  for (const r of inputRecords(records)) { byPartition[r.partition].push({ key: r.key, value: r.value }); total++; }
  const producer = kafka.producer();
  await producer.connect();
  try {
    await Promise.all(byPartition.map(async (messages, partition) => {
      for (let i = 0; i < messages.length; i += 2000) {
        await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2000).map((m) => ({ ...m, partition })) });
      }
    }));
  } finally {
    await producer.disconnect();
  }
  return total;
}

/** Removes a run's topics and consumer groups (all named with `prefix`). */
async function cleanUp(admin: Admin, prefix: string): Promise<void> {
  await deleteTopics(prefix).catch(() => undefined);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
  if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
}

/** Runs the benchmark and returns every run's figures; throws when a system's output is not the expected one. */
export async function runPeers(options: PeersOptions): Promise<PeersResult> {
  const say = options.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const workloads = options.workloads ?? WORKLOADS;
  const guarantees = options.guarantees ?? GUARANTEES;
  const systems = options.systems ?? SYSTEMS;
  const brokers = kafkaBrokers();
  const kafka = new Kafka({ clientId: 'bench-peers', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer: Producer = kafka.producer();
  const run = freshName('peers-');
  const input = `${run}-in`;
  const started = Date.now();
  const loadBefore = os.loadavg();
  const broker = brokerPid();
  const stamp = (text: string) => say(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
  await admin.connect();
  await producer.connect();
  const results: RunResult[] = [];
  const expected: PeersResult['expected'] = {};
  let commitIntervalMs = NaN;
  try {
    if (systems.includes('kafka-streams')) buildKafkaStreams();
    if (systems.some((s) => s.endsWith('-loop'))) await buildHand();
    const builds = new Map<string, PipecBuild>();
    for (const workload of workloads) {
      for (const guarantee of guarantees) {
        const build = await buildPipec(workload, guarantee, input);
        builds.set(`${workload}/${guarantee}`, build);
        commitIntervalMs = build.checkpointMs;
      }
    }
    const inputTotal = await fillInput(kafka, admin, input, options.records);
    for (const workload of workloads) {
      const digest = expectedDigest(workload, options.records);
      expected[workload] = { digest: digest.value, count: digest.count };
    }
    stamp(`built ${builds.size} pipec variants; ${inputTotal.toLocaleString('en')} records in ${input} (${PARTITIONS} partitions); expected outputs ${workloads.map((w) => `${w} ${expected[w]!.count.toLocaleString('en')}`).join(', ')}`);

    for (let round = 0; round < options.rounds; round++) {
      for (const workload of workloads) {
        const runners = systems.filter((s) => workload === 'stateless' || !s.endsWith('-loop'));
        const order = runners.map((_, i) => runners[(i + round) % runners.length]);
        for (const guarantee of guarantees) {
          for (const system of order) {
            const build = builds.get(`${workload}/${guarantee}`)!;
            const result = await timeRun(kafka, admin, producer, { workload, guarantee, system, round, build, run, input, inputTotal, brokers, broker, expected: expected[workload]!, records: options.records, profileDir: options.profileDir });
            results.push(result);
            stamp(`round ${round + 1}/${options.rounds} ${workload} ${guarantee} ${system}: ${Math.round(result.rate).toLocaleString('en')} records/s, ${result.cpu.toFixed(1)} µs CPU/record (broker ${result.brokerCpu.toFixed(1)}, watcher ${result.watcherCpu.toFixed(1)}), ${(result.ms / 1000).toFixed(1)} s, output = expected${result.note ? ` (${result.note})` : ''}, load ${result.load.toFixed(2)}`);
          }
        }
      }
    }
  } finally {
    await cleanUp(admin, run).catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
  }
  return { results, expected, commitIntervalMs, loadBefore, loadAfter: os.loadavg(), seconds: (Date.now() - started) / 1000 };
}

interface RunSpec {
  workload: Workload; guarantee: Guarantee; system: SystemName; round: number; build: PipecBuild;
  run: string; input: string; inputTotal: number; brokers: string; broker: number | null;
  expected: { digest: string; count: number }; records: number; profileDir?: string;
}

/** One system on one workload: launch, time, stop, check its output. */
async function timeRun(kafka: Kafka, admin: Admin, producer: Producer, spec: RunSpec): Promise<RunResult> {
  const { workload, guarantee, system, round } = spec;
  const base = `${spec.run}-${workload}-${guarantee === 'exactly-once' ? 'eos' : 'alo'}-${system}-r${round}-`;
  const output = `${base}out`;
  await admin.createTopics({ topics: [{ topic: output, numPartitions: 1 }], waitForLeaders: true });
  const ctx = { brokers: spec.brokers, input: spec.input, output, scratch: fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-peers-')), profileDir: spec.profileDir };
  const watcher = await OutputWatcher.start(admin, output, spec.expected.count);
  let launch: Launch | null = null;
  try {
    const interval = spec.build.checkpointMs;
    launch = system === 'pipec' ? launchPipec(spec.build, base, ctx)
      : system === 'kafka-streams' ? launchKafkaStreams(workload, guarantee, `${base}app`, interval, ctx)
      : launchHand(system === 'kafkajs-loop' ? 'kafkajs' : 'platformatic', guarantee, `${base}group`, interval, ctx);
    const running = launch;
    const alive = () => running.check();
    const first = await firstCommit(admin, running.group, spec.input, alive, START_TIMEOUT_MS);
    const cpu0 = running.cpuMs();
    const broker0 = spec.broker ? processCpuMs(spec.broker) : NaN;
    const self0 = process.cpuUsage();
    await watcher.waitForExpected(alive, RUN_TIMEOUT_MS);
    const cpu1 = running.cpuMs();
    const broker1 = spec.broker ? processCpuMs(spec.broker) : NaN;
    const self = process.cpuUsage(self0);
    const load = os.loadavg()[0];
    launch = null;
    await running.stop();
    await watcher.drain(producer);
    // A profiled run notes each worker's timed span (monotonic µs, the profiles' clock) for profile.ts.
    if (spec.profileDir && system === 'pipec') recordSpans(spec.profileDir, running.pids, first.hr, watcher.reachedHr);
    const records = spec.inputTotal - first.offset;
    const ms = watcher.reachedAt - first.at;
    let note: string | undefined;
    if (watcher.digest.value !== spec.expected.digest) {
      const diff = await differences(kafka, output, workload, spec.records);
      if (diff) throw new Error(`${system}'s output of ${workload} (${guarantee}, round ${round + 1}) is not the expected one: ${diff}`);
      note = 'bytes differ from the expected JSON, values are the same';
    }
    const perRecord = (ms: number) => (ms * 1000) / records;
    // A small input may be all through before the first commit shows (exactly-once: offsets and output commit together): no rate then.
    return { workload, guarantee, system, round, rate: ms > 0 && records > 0 ? (records / ms) * 1000 : NaN, records, ms, cpu: perRecord(cpu1 - cpu0), brokerCpu: perRecord(broker1 - broker0), watcherCpu: (self.user + self.system) / records, load, digest: watcher.digest.value, note };
  } finally {
    await launch?.stop().catch(() => undefined);
    await watcher.stop().catch(() => undefined);
    await cleanUp(admin, base).catch(() => undefined);
  }
}

/** Adds the timed span of some processes to <profile dir>/spans.json ({ pid: { from, to } }, µs on the monotonic clock). */
function recordSpans(dir: string, pids: number[], from: bigint, to: bigint): void {
  const file = path.join(dir, 'spans.json');
  const spans = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, { from: number; to: number }> : {};
  for (const pid of pids) spans[pid] = { from: Number(from / 1000n), to: Number(to / 1000n) };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(spans, null, 1));
}

const thousands = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '-');
const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** The JVM's version (`java -version` prints it to stderr). */
function javaVersion(): string {
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return (`${out.stderr}`.match(/version "([^"]+)"/) ?? [])[1] ?? '?';
}

/** Prints the report of a run: the table of medians, the ratios against their targets, the settings. */
export function report(result: PeersResult, options: { records: number; rounds: number }): void {
  const { results } = result;
  const java = javaVersion();
  const ks = kafkaStreamsVersion();
  const runsOf = (w: Workload, g: Guarantee, s: SystemName) => results.filter((r) => r.workload === w && r.guarantee === g && r.system === s);
  const stat = (w: Workload, g: Guarantee, s: SystemName) => {
    const runs = runsOf(w, g, s);
    if (!runs.length) return null;
    const rates = runs.map((r) => r.rate);
    return { rate: median(rates), min: Math.min(...rates), max: Math.max(...rates), cpu: median(runs.map((r) => r.cpu)), broker: median(runs.map((r) => r.brokerCpu)), watcher: median(runs.map((r) => r.watcherCpu)), load: median(runs.map((r) => r.load)), n: runs.length };
  };
  const workloads = WORKLOADS.filter((w) => results.some((r) => r.workload === w));
  const guarantees = GUARANTEES.filter((g) => results.some((r) => r.guarantee === g));
  console.log(`peers: ${options.records.toLocaleString('en')} JSON records (~150 bytes) over ${KEYS.toLocaleString('en')} users in ${PARTITIONS} partitions, the same broker and input for every system;`);
  const threads = kafkaStreamsSettings('stateless', result.commitIntervalMs).threads;
  console.log(`pipec stage workers (1 process per stage) against Kafka Streams ${ks} (${threads} stream thread${threads === 1 ? '' : 's'}; Java ${java}) and hand-written loops; ${options.rounds} rounds, systems alternating, medians`);
  console.log(`node ${process.version}, ${os.cpus().length} cpus; load average (1, 5, 15 min) ${result.loadBefore.map((l) => l.toFixed(2)).join(' ')} at start, ${result.loadAfter.map((l) => l.toFixed(2)).join(' ')} at end; the run took ${result.seconds.toFixed(0)} s`);
  console.log(`Kafka Streams: commit.interval.ms ${result.commitIntervalMs} (pipec's checkpoint interval); statestore.cache.max.bytes ${workloads.map((w) => `${w} ${kafkaStreamsSettings(w, result.commitIntervalMs).cacheBytes}`).join(', ')}; in-memory stores; window: no grace, suppress(untilWindowCloses)`);
  console.log('');
  const row = (cells: string[], widths: number[]) => console.log(cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' '));
  const widths = [10, 14, 18, 10, 19, 12, 13, 12, 6];
  row(['workload', 'guarantee', 'system', 'records/s', 'rounds (min–max)', 'µs CPU/rec', 'broker µs/rec', 'watcher µs', 'load'], widths);
  for (const w of workloads) {
    for (const g of guarantees) {
      for (const s of SYSTEMS) {
        const st = stat(w, g, s);
        if (!st) continue;
        row([w, g, s, thousands(st.rate), `${thousands(st.min)}–${thousands(st.max)}`, fixed(st.cpu), fixed(st.broker), fixed(st.watcher), fixed(st.load, 2)], widths);
      }
    }
  }
  console.log('');
  console.log(`${'ratio'.padEnd(56)}${'rate'.padStart(7)}${'CPU/rec'.padStart(9)}   target   verdict`);
  const ratio = (label: string, mine: ReturnType<typeof stat>, theirs: ReturnType<typeof stat>, target: number) => {
    if (!mine || !theirs) return;
    const r = mine.rate / theirs.rate;
    const verdict = !Number.isFinite(r) ? 'n/a (no rate: the input is too small to time)' : r >= target ? 'met' : 'MISSED';
    // CPU: the peer's CPU per record over pipec's (above 1: pipec needs less CPU per record).
    console.log(`${label.padEnd(56)}${fixed(r, 2).padStart(7)}${fixed(theirs.cpu / mine.cpu, 2).padStart(9)}   ≥ ${target.toFixed(2)}   ${verdict}`);
  };
  for (const w of workloads) for (const g of guarantees) ratio(`pipec / Kafka Streams, ${w}, ${g}`, stat(w, g, 'pipec'), stat(w, g, 'kafka-streams'), 1.0);
  for (const g of guarantees) {
    const loops = (['kafkajs-loop', 'platformatic-loop'] as const).map((s) => ({ s, st: stat('stateless', g, s) })).filter((l) => l.st);
    if (!loops.length) continue;
    const fastest = loops.reduce((a, b) => (b.st!.rate > a.st!.rate ? b : a));
    ratio(`pipec / fastest hand loop (${fastest.s}), stateless, ${g}`, stat('stateless', g, 'pipec'), fastest.st, 0.85);
  }
  console.log('');
  console.log(`outputs: all ${results.length} runs equal to the expected output (the same multiset of key and value bytes): ${workloads.map((w) => `${w} ${result.expected[w]!.count.toLocaleString('en')} records`).join(', ')}${results.some((r) => r.note) ? '; some differ in JSON formatting only' : ''}`);
  console.log('rate: input records after the first offset commit / (last expected output record read committed − that commit); CPU ratio: the');
  console.log("peer's CPU per record / pipec's. CPU per record: the system's processes (all JVM threads); the broker and the output watcher");
  console.log('share the 2 cores with it.');
}

/** `npm run bench -- peers [--records N] [--rounds N]`. */
export async function peersBench(options: { records: number; rounds: number }): Promise<void> {
  const profileDir = process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : undefined;
  const result = await runPeers({
    ...options,
    workloads: list(process.env.PEERS_WORKLOADS, WORKLOADS),
    guarantees: list(process.env.PEERS_GUARANTEES, GUARANTEES),
    systems: list(process.env.PEERS_SYSTEMS, SYSTEMS),
    profileDir,
  });
  report(result, options);
  if (profileDir) {
    console.log('');
    summarizeProfiles(profileDir);
  }
}
