// Joins and watermark generators as stage workers on the real broker:
// - the figures of Flink's join documentation (tumbling, sliding and session
//   window joins, a coGroup with keys on one side only, the interval join with
//   bounds -2 / +1, inclusive and exclusive), late elements of an interval join
//   (dropped and counted under the operator's uid in /metrics, or sent to its
//   late-data side output), and interval-join state that goes back to nothing
//   once the watermark passes (the worker's per-operator state gauge);
// - a kill -9 of join workers in the middle of a window join and an interval
//   join at parallelism 2: the whole committed output equals the pairs
//   computed here from the input, each exactly once;
// - a user watermark generator's fields restored after its worker is killed.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { buildFile } from './helpers.ts';
import { createTopic, deleteTopics, freshName, kafkaBrokers, readUntil, startWorker, waitForLog } from './kafka-helpers.ts';

const workers: ChildProcess[] = [];
const runs: string[] = [];
before(() => { kafkaBrokers(); });
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  for (const run of runs) await deleteTopics(run);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function build(fixture: string, prefix: string) {
  const run = freshName(prefix);
  runs.push(run);
  process.env.RUN = run;
  const built = await buildFile(fixture);
  assert.deepEqual(built.diagnostics, []);
  const manifest = built.emitted!.manifest;
  return {
    run, manifest,
    stage: (i: number) => path.join(built.outDir!, `stage-${i}.mjs`),
    /** The stage that runs the operator with this uid. */
    stageOf: (uid: string) => manifest.stages.find((s) => s.nodes.some((n) => manifest.nodes[n].uid === uid))!.id,
  };
}

/** Sends JSON values to partitions of a topic, in order. */
async function send(topic: string, messages: Array<{ partition: number; value: object }>): Promise<void> {
  const producer = new Kafka({ brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 2000) {
      await producer.send({ topic, messages: messages.slice(i, i + 2000).map((m) => ({ partition: m.partition, value: JSON.stringify(m.value) })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Counts of each value. */
function multiset(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** What is missing from `actual` and what is extra in it (repeats included), against `expected`. */
function difference(expected: string[], actual: string[]): { missing: string[]; extra: string[] } {
  const want = multiset(expected), got = multiset(actual);
  const missing: string[] = [], extra: string[] = [];
  for (const [v, n] of want) for (let i = got.get(v) ?? 0; i < n; i++) missing.push(v);
  for (const [v, n] of got) for (let i = want.get(v) ?? 0; i < n; i++) extra.push(v);
  return { missing, extra };
}

/** A gauge's value for an operator uid in Prometheus text (null when absent). */
function operatorGauge(metrics: string, name: string, uid: string): number | null {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`uid="${uid}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}

test('stage workers: the join figures of Flink\'s documentation, interval-join late data in its side output and in /metrics by uid, and interval-join state back to nothing after the watermark passes', { timeout: 240_000 }, async () => {
  const { run, stage, stageOf, manifest } = await build('test/fixtures/kafka/joins.ts', 'kjn');
  await createTopic(`${run}-orange`);
  await createTopic(`${run}-green`);
  const port = 19_900 + Math.floor(Math.random() * 80);
  const interval = stageOf('interval');
  const logs: string[][] = manifest.stages.map(() => []);
  for (const s of manifest.stages) workers.push(startWorker(stage(s.id), s.id === interval ? ['--metrics-port', String(port)] : [], { RUN: run }, logs[s.id]));
  for (const s of manifest.stages) await waitForLog(logs[s.id], /task (started|restored)/, 60_000);

  // The figures' elements, by key; each side is sent in timestamp order (monotonous timestamps).
  const figures: Record<string, { orange: number[]; green: number[] }> = {
    tumbling: { orange: [0, 1, 2, 3, 4, 5, 6, 7], green: [0, 1, 3, 4] },
    sliding: { orange: [0, 1, 2, 3, 4], green: [0, 3, 4] },
    session: { orange: [0, 1, 5, 6, 8, 9], green: [1, 2, 5] },
    cogroup: { orange: [1, 2, 3], green: [2, 3, 4] },
    interval: { orange: [0, 2, 3, 4, 5, 7], green: [0, 1, 6, 7] },
  };
  const side = (which: 'orange' | 'green') => Object.entries(figures)
    .flatMap(([key, f]) => f[which].map((ts) => ({ partition: 0, value: { key, ts, name: `${which[0]}${ts}` } })))
    .sort((a, b) => a.value.ts - b.value.ts);
  await send(`${run}-orange`, side('orange'));
  await send(`${run}-green`, side('green'));

  // Interval joins emit pairs as elements arrive; each side's watermark is now 6.
  const expectedInterval = ['o0,g0 @0', 'o0,g1 @1', 'o2,g0 @2', 'o2,g1 @2', 'o3,g1 @3', 'o5,g6 @6', 'o7,g6 @7', 'o7,g7 @7'];
  const expectedExclusive = ['o0,g0 @0', 'o2,g1 @2', 'o7,g6 @7', 'o7,g7 @7'];
  const pairsOf = (values: string[]) => values.map((v) => { const r = JSON.parse(v) as { pair: string; ts: number }; return `${r.pair} @${r.ts}`; }).sort();
  assert.deepEqual(pairsOf(await readUntil(`${run}-interval`, (v) => v.length >= expectedInterval.length, 60_000)), expectedInterval, logs[interval].join('').slice(-2000));
  assert.deepEqual(pairsOf(await readUntil(`${run}-exclusive`, (v) => v.length >= expectedExclusive.length, 60_000)), expectedExclusive);
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  /** Polls /metrics until `done` holds for the interval join's gauges (set at each checkpoint), or 60 s pass; returns the last ones. */
  const gauges = async (done: (g: { entries: number | null; timers: number | null; dropped: number | null }) => boolean) => {
    let g = { entries: null as number | null, timers: null as number | null, dropped: null as number | null };
    for (let i = 0; i < 120; i++) {
      const text = await metrics();
      g = { entries: operatorGauge(text, 'pipec_operator_state_entries', 'interval'), timers: operatorGauge(text, 'pipec_operator_timers', 'interval'), dropped: operatorGauge(text, 'pipec_late_records_dropped_total', 'interval') };
      if (done(g)) break;
      await sleep(500);
    }
    return g;
  };
  // Orange 7 and greens 6 and 7 wait for a watermark past 8.
  assert.equal((await gauges((g) => g.entries === 2)).entries, 2, 'the interval join holds elements of both sides the watermark has not passed');

  // Elements at 0 are behind both watermarks (each side's partition brought its markers before them): late.
  await send(`${run}-orange`, [{ partition: 0, value: { key: 'interval', ts: 0, name: 'late-o0' } }]);
  await send(`${run}-green`, [{ partition: 0, value: { key: 'interval', ts: 0, name: 'late-g0' } }]);
  const late = await readUntil(`${run}-late`, (v) => v.length >= 2, 60_000);
  assert.deepEqual(late.map((v) => (JSON.parse(v) as { name: string }).name).sort(), ['late-g0', 'late-o0']);

  // The end element moves every watermark past the figures: windows fire, interval-join buffers are cleaned up.
  await send(`${run}-orange`, [{ partition: 0, value: { key: 'end', ts: 1000, name: 'end' } }]);
  await send(`${run}-green`, [{ partition: 0, value: { key: 'end', ts: 1000, name: 'end' } }]);
  const product = (window: string, orange: number[], green: number[]) => orange.flatMap((o) => green.map((g) => `${window} o${o},g${g}`));
  const windowPairs = (values: string[]) => values.map((v) => { const r = JSON.parse(v) as { window: string; pair: string }; return `${r.window} ${r.pair}`; }).sort();
  const expectedWindows: Record<string, string[]> = {
    tumbling: [...product('[0,2)', [0, 1], [0, 1]), ...product('[2,4)', [2, 3], [3]), ...product('[4,6)', [4, 5], [4])],
    sliding: [...product('[-1,1)', [0], [0]), ...product('[0,2)', [0, 1], [0]), ...product('[2,4)', [2, 3], [3]), ...product('[3,5)', [3, 4], [3, 4]), ...product('[4,6)', [4], [4])],
    session: [...product('[0,3)', [0, 1], [1, 2]), ...product('[5,7)', [5, 6], [5])],
  };
  for (const [key, expected] of Object.entries(expectedWindows)) {
    await readUntil(`${run}-${key}`, (v) => v.length >= expected.length, 60_000);
  }
  const cogroup = await readUntil(`${run}-cogroup`, (v) => v.length >= 4, 60_000);
  const final = await gauges((g) => g.entries === 0 && g.timers === 0 && g.dropped === 2);
  assert.deepEqual(final, { entries: 0, timers: 0, dropped: 2 }, 'the interval join (uid interval) dropped both late elements and holds nothing once the watermark passed');
  assert.match(await metrics(), /pipec_operator_state_entries\{[^}]*operator="intervalJoin \[-2, 1\] \\"interval join\\""/, 'the gauge names the operator with its .name(...)');

  // A moment more for anything extra, then the whole output of each join.
  await sleep(2000);
  for (const [key, expected] of Object.entries(expectedWindows)) {
    assert.deepEqual(windowPairs(await readUntil(`${run}-${key}`, () => false, 3000)), expected.sort(), `${key} window join`);
  }
  assert.deepEqual(cogroup.map((v) => JSON.parse(v) as object).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
    { key: '1', window: '[0,10)', orange: 1, green: 0 },
    { key: '2', window: '[0,10)', orange: 1, green: 1 },
    { key: '3', window: '[0,10)', orange: 1, green: 1 },
    { key: '4', window: '[0,10)', orange: 0, green: 1 },
  ]);
  assert.deepEqual(pairsOf(await readUntil(`${run}-interval`, () => false, 3000)), expectedInterval, 'nothing more from the interval join');
  assert.match(logs[interval].join(''), /"operators":\[\{"operator":"intervalJoin \[-2, 1\] \\"interval join\\"","uid":"interval"\}[^\n]*"msg":"worker started"/, 'the worker names its operators and their uids when it starts');
});

test('stage workers killed with SIGKILL in the middle of a window join and an interval join (parallelism 2) and restarted: the whole output is every pair exactly once', { timeout: 300_000 }, async () => {
  const { run, stage, stageOf } = await build('test/fixtures/kafka/join-fault.ts', 'kjf');
  await createTopic(`${run}-clicks`, 2);
  await createTopic(`${run}-orders`, 2);
  const USERS = 12;
  let seed = 7;
  const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const base = 1_000_000;
  const clicks = Array.from({ length: 1200 }, (_, i) => { const u = Math.floor(random() * USERS); return { partition: u % 2, value: { user: `u${u}`, ts: base + i * 50, id: i } }; });
  const orders = Array.from({ length: 600 }, (_, j) => { const u = Math.floor(random() * USERS); return { partition: u % 2, value: { user: `u${u}`, ts: base + j * 100 + 25, id: j } }; });
  const end = base + 120_000;
  const sentinels = (prefix: string) => [0, 1].map((p) => ({ partition: p, value: { user: `${prefix}${p}`, ts: end, id: -1 } }));

  // Expected, from the input alone: every (click, order) of a user in one 10 s window, and every order within 2 s of a click.
  const expectedPairs: string[] = [], expectedMatches: string[] = [];
  for (const { value: c } of clicks) {
    for (const { value: o } of orders) {
      if (c.user !== o.user) continue;
      const start = c.ts - (c.ts % 10_000);
      if (o.ts - (o.ts % 10_000) === start) expectedPairs.push(JSON.stringify({ user: c.user, start, click: c.id, order: o.id }));
      if (o.ts >= c.ts - 2000 && o.ts <= c.ts + 2000) expectedMatches.push(JSON.stringify({ user: c.user, click: c.id, order: o.id, ts: Math.max(c.ts, o.ts) }));
    }
  }

  const logs: string[][] = [];
  const start = (s: number) => { const log: string[] = []; logs.push(log); const w = startWorker(stage(s), ['--session-timeout', '6000'], { RUN: run }, log); workers.push(w); return { w, log }; };
  const [pairsStage, matchesStage] = [stageOf('pairs'), stageOf('matches')];
  const started = [0, 1, pairsStage, matchesStage].flatMap((s) => [start(s), start(s)]);
  await Promise.all(started.map(({ log }) => waitForLog(log, /joining the consumer group/, 60_000)));
  const half = (list: typeof clicks, part: 0 | 1) => list.slice(part * list.length / 2, (part + 1) * list.length / 2);
  await send(`${run}-clicks`, half(clicks, 0));
  await send(`${run}-orders`, half(orders, 0));
  // Once some pairs are committed, the joins have state and checkpoints: kill a worker of each join stage.
  await readUntil(`${run}-pairs`, (v) => v.length >= 100, 90_000);
  await sleep(Math.random() * 500);
  const victims = [started[4], started[7]];
  for (const v of victims) v.w.kill('SIGKILL');
  await send(`${run}-clicks`, half(clicks, 1));
  await send(`${run}-orders`, half(orders, 1));
  await sleep(1000);
  start(pairsStage);
  start(matchesStage);
  await send(`${run}-clicks`, sentinels('end-click-'));
  await send(`${run}-orders`, sentinels('end-order-'));

  const complete = (expected: string[]) => (values: string[]) => difference(expected, values).missing.length === 0;
  await readUntil(`${run}-pairs`, complete(expectedPairs), 180_000);
  await readUntil(`${run}-matches`, complete(expectedMatches), 120_000);
  await sleep(3000);
  const pairs = difference(expectedPairs, await readUntil(`${run}-pairs`, () => false, 5000));
  const matches = difference(expectedMatches, await readUntil(`${run}-matches`, () => false, 5000));
  const tail = logs.map((l) => l.join('')).join('\n').slice(-4000);
  process.stderr.write(`  ${expectedPairs.length} window pairs, ${expectedMatches.length} interval matches expected\n`);
  assert.deepEqual({ missing: pairs.missing.slice(0, 5), extra: pairs.extra.slice(0, 5) }, { missing: [], extra: [] }, `window join pairs\n${tail}`);
  assert.deepEqual({ missing: matches.missing.slice(0, 5), extra: matches.extra.slice(0, 5) }, { missing: [], extra: [] }, `interval join matches\n${tail}`);
  assert.ok(logs.some((l) => /task restored from its checkpoint/.test(l.join(''))), 'a killed worker\'s task resumed from its checkpoint');
});

test('a user watermark generator\'s fields survive a kill -9 of its worker: the watermark it computes from them after the restart fires every window', { timeout: 180_000 }, async () => {
  const { run, stage } = await build('test/fixtures/kafka/generator-state.ts', 'kgs');
  await createTopic(`${run}-in`);
  const events = Array.from({ length: 40 }, (_, i) => ({ partition: 0, value: { user: 'u', ts: i * 1000 } }));
  const expected = Array.from({ length: 20 }, (_, k) => JSON.stringify({ user: 'u', start: k * 2000, count: 2 }));
  const logs: string[][] = [[], [], []];
  workers.push(startWorker(stage(1), [], { RUN: run }, logs[1]));
  const first = startWorker(stage(0), [], { RUN: run }, logs[0]);
  workers.push(first);
  await send(`${run}-in`, events.slice(0, 20));
  // Windows up to [18 s, 20 s) fire only once the generator has counted all 20 events: its count is in a checkpoint.
  await readUntil(`${run}-out`, (v) => v.length >= 10, 60_000);
  first.kill('SIGKILL');
  await send(`${run}-in`, events.slice(20));
  workers.push(startWorker(stage(0), [], { RUN: run }, logs[2]));
  await waitForLog(logs[2], /task restored from its checkpoint/, 60_000);
  await readUntil(`${run}-out`, (v) => v.length >= expected.length, 60_000);
  await sleep(2000);
  const output = await readUntil(`${run}-out`, () => false, 3000);
  // Had the count restarted from 0, the watermark would have stayed 20 s behind and the last 10 windows never fired.
  assert.deepEqual(output.sort(), [...expected].sort(), logs[2].join('').slice(-3000));
});
