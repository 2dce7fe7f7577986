// The event-time examples (dsl-examples/*): each runs through pipec/testing
// (records pushed from the data file) and through its built local.mjs (reading
// the file), and the two must print the same thing. Where an independent
// computation is simple, the result is checked against it too.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { testPipeline } from '../runtime/testing/index.ts';
import { recordText } from '../runtime/internal/connectors/print/runtime.ts';
import { buildFile, isolate, lines, repoRoot, runNode, tempDir } from './helpers.ts';

const readJsonl = <T>(file: string): T[] => lines(fs.readFileSync(path.join(repoRoot, file), 'utf8')).map((l) => JSON.parse(l));
interface Reading { id: string; ts: number; temperature: number }
interface Click { user: string; ts: number; url: string }
const sensors = readJsonl<Reading>('dsl-examples/data/sensors.jsonl');
const clicks = readJsonl<Click>('dsl-examples/data/clicks.jsonl');

/** What the example prints, run both ways; asserts they agree and returns the lines. */
async function printedBothWays(example: string, input: unknown[], printSinks: number[], env: Record<string, string> = {}): Promise<string[]> {
  const job = await testPipeline(`dsl-examples/${example}.ts`);
  job.source(0).push(...input);
  await job.finish();
  const viaHarness = printSinks.flatMap((sink) => job.sink(sink).values().map(recordText));

  const built = await buildFile(`dsl-examples/${example}.ts`);
  assert.deepEqual(built.diagnostics, []);
  const dir = isolate(built.outDir!);
  const run = runNode(path.join(dir, 'local.mjs'), [], { cwd: repoRoot, env });
  assert.equal(run.status, 0, run.stderr);
  // One print sink: same lines in the same order. Several: stdout interleaves them, so compare as sets.
  if (printSinks.length === 1) assert.deepEqual(lines(run.stdout), viaHarness, 'pipec/testing and local.mjs print the same');
  else assert.deepEqual(lines(run.stdout).sort(), [...viaHarness].sort(), 'pipec/testing and local.mjs print the same');
  return viaHarness;
}

test('min-temperature: 15 s windows sliding by 5 s hold the minimum of their readings', async () => {
  const out = (await printedBothWays('min-temperature', sensors, [0])).map((l) => JSON.parse(l));
  const expected = new Map<string, number>();
  for (const r of sensors) {
    for (let start = r.ts - (r.ts % 5000); start > r.ts - 15000; start -= 5000) {
      const id = `${r.id} ${start}`;
      expected.set(id, Math.min(expected.get(id) ?? Infinity, r.temperature));
    }
  }
  assert.equal(out.length, expected.size);
  for (const w of out) assert.equal(w.min, expected.get(`${w.id} ${w.start}`), `${w.id} [${w.start},${w.end})`);
});

test('rising-temperature: keyed state and event-time timers raise alerts', async () => {
  const out = await printedBothWays('rising-temperature', sensors, [0]);
  assert.ok(out.length > 3, 'the warming sensor raises alerts');
  assert.ok(out.every((l) => /^sensor_\d: temperature rose for 1 s \(alert at \d+\)$/.test(l)));
  assert.ok(out.some((l) => l.startsWith('sensor_1')));
});

test('freezing-monitor: readings below 32 °F go to the side output', async () => {
  const out = await printedBothWays('freezing-monitor', sensors, [1], { MONITOR_OUTPUT: path.join(tempDir(), 'readings.jsonl') });
  const freezing = sensors.filter((r) => r.temperature < 32);
  assert.equal(out.length, freezing.length);
  assert.deepEqual(out, freezing.map((r) => `Freezing alarm for ${r.id} at ${r.ts}: ${r.temperature} °F`));
});

test('user-sessions: clicks closer than 30 s form one session', async () => {
  const out = (await printedBothWays('user-sessions', clicks, [0])).map((l) => JSON.parse(l));
  const expected: string[] = [];
  for (const user of new Set(clicks.map((c) => c.user))) {
    const times = clicks.filter((c) => c.user === user).map((c) => c.ts).sort((a, b) => a - b);
    let start = times[0], last = times[0], count = 1;
    for (const t of times.slice(1)) {
      if (t > last + 30000) { expected.push(`${user} ${start} ${last + 30000} ${count}`); start = t; count = 0; }
      last = t; count++;
    }
    expected.push(`${user} ${start} ${last + 30000} ${count}`);
  }
  assert.deepEqual(out.map((s) => `${s.user} ${s.start} ${s.end} ${s.clicks}`).sort(), expected.sort());
});

test('count-windows: every 5 readings of a sensor, and the last 10 every 5', async () => {
  const out = await printedBothWays('count-windows', sensors, [0, 1]);
  const avg5 = out.filter((l) => l.startsWith('avg5'));
  const expected: string[] = [];
  for (const id of ['sensor_1', 'sensor_2', 'sensor_3']) {
    const temps = sensors.filter((r) => r.id === id).map((r) => r.temperature);
    for (let i = 5; i <= temps.length; i += 5) expected.push(`avg5 ${id} #${i - 1} ${(temps.slice(i - 5, i).reduce((a, b) => a + b, 0) / 5).toFixed(2)}`);
  }
  assert.deepEqual(avg5.sort(), expected.sort());
  assert.equal(out.filter((l) => l.startsWith('max10')).length, 3 * (Math.floor(50 / 5) - 1), 'sliding count windows fire from the 10th reading on, every 5');
});

test('user-features: impressions, clicks and orders of a user per minute (two coGroups) and orders within 30 s after a click (an interval join)', async () => {
  interface Impression { user: string; ts: number; slot: string }
  interface Order { user: string; ts: number; item: string; amount: number }
  const impressions = readJsonl<Impression>('dsl-examples/data/impressions.jsonl');
  const orders = readJsonl<Order>('dsl-examples/data/orders.jsonl');
  const job = await testPipeline('dsl-examples/user-features.ts');
  job.source('clicks').push(...clicks);
  job.source('impressions').push(...impressions);
  job.source('orders').push(...orders);
  await job.finish();
  const features = job.sink(0).values().map(recordText);
  const attributed = job.sink(1).values().map(recordText);

  const built = await buildFile('dsl-examples/user-features.ts');
  assert.deepEqual(built.diagnostics, []);
  const run = runNode(path.join(isolate(built.outDir!), 'local.mjs'), [], { cwd: repoRoot });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(lines(run.stdout).sort(), [...features.map((l) => `features> ${l}`), ...attributed.map((l) => `attributed> ${l}`)].sort(), 'pipec/testing and local.mjs print the same');

  // Independently: per user and minute, the counts of each input; every order 0..30 s after a click of its user.
  const minute = (ts: number) => ts - (ts % 60_000);
  const cells = new Map<string, { user: string; start: number; impressions: number; clicks: number; orders: number; revenue: number }>();
  const cell = (user: string, ts: number) => {
    const id = `${user} ${minute(ts)}`;
    if (!cells.has(id)) cells.set(id, { user, start: minute(ts), impressions: 0, clicks: 0, orders: 0, revenue: 0 });
    return cells.get(id)!;
  };
  for (const i of impressions) cell(i.user, i.ts).impressions++;
  for (const c of clicks) cell(c.user, c.ts).clicks++;
  for (const o of orders) { const f = cell(o.user, o.ts); f.orders++; f.revenue += o.amount; }
  const expectedFeatures = [...cells.values()].map((f) => JSON.stringify({
    user: f.user, minute: new Date(f.start).toISOString().slice(11, 16), impressions: f.impressions, clicks: f.clicks,
    ctr: f.impressions ? Math.round((f.clicks / f.impressions) * 100) / 100 : null, orders: f.orders, revenue: f.revenue,
  }));
  assert.deepEqual([...features].sort(), expectedFeatures.sort());
  const expectedAttributed = clicks.flatMap((c) => orders.filter((o) => o.user === c.user && o.ts >= c.ts && o.ts <= c.ts + 30_000)
    .map((o) => JSON.stringify({ user: c.user, clicked: c.url, bought: o.item, secondsAfter: (o.ts - c.ts) / 1000 })));
  assert.ok(expectedAttributed.length > 10);
  assert.deepEqual([...attributed].sort(), expectedAttributed.sort());
});
