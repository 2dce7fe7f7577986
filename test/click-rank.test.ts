// The click-rank example end to end on the real broker: the simulator writes
// user actions, click-rank's two stages rank them (sliding 60 s / 1 s, top 10
// per sex) and every leaderboard on `click_rank` is checked against a reference
// computed from the same simulated actions.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { simulatedAction } from '../dsl-examples/click-simulation.ts';
import { buildFile, runNode } from './helpers.ts';
import { deleteTopics, freshName, kafkaBrokers, produce, readUntil, startWorker, waitForLog } from './kafka-helpers.ts';

const workers: ChildProcess[] = [];
let prefix: string;

before(() => { kafkaBrokers(); prefix = freshName('cr'); });
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await deleteTopics(prefix);
});

test('simulator → click-rank → click_rank matches the reference leaderboards', { timeout: 240_000 }, async () => {
  const count = 1500;
  const start = Date.UTC(2026, 10, 22, 10, 0, 0);
  const env = { PIPEC_TOPIC_PREFIX: `${prefix}-`, USER_ACTION_TOPIC: `${prefix}-user_action`, CLICK_RANK_TOPIC: `${prefix}-click_rank`, SIM_COUNT: String(count), SIM_RATE: '100000', SIM_START: String(start) };
  Object.assign(process.env, env);
  const simulator = await buildFile('dsl-examples/click-simulator.ts');
  const clickRank = await buildFile('dsl-examples/click-rank.ts');
  assert.deepEqual([...simulator.diagnostics, ...clickRank.diagnostics], []);

  await produce(env.USER_ACTION_TOPIC, []);
  await produce(env.CLICK_RANK_TOPIC, []);
  // click-rank reads user_action from 'latest' (its default): start it first, then the simulator.
  const logs: string[][] = [[], []];
  workers.push(startWorker(path.join(clickRank.outDir!, 'stage-0.mjs'), [], env, logs[0]));
  workers.push(startWorker(path.join(clickRank.outDir!, 'stage-1.mjs'), [], env, logs[1]));
  await Promise.all([0, 1].map((i) => waitForLog(logs[i], /task (started|restored)/)));
  await new Promise((r) => setTimeout(r, 1000));
  const sim = runNode(path.join(simulator.outDir!, 'stage-0.mjs'), [], { env });
  assert.equal(sim.status, 0, sim.stderr);
  // A late click far ahead pushes the watermark past every simulated window.
  const sentinel = start + count * 50 + 600_000;
  await produce(env.USER_ACTION_TOPIC, [{ ts: new Date(sentinel).toISOString(), name: 'sentinel', sex: 'M', action: 'click', is_delete: 0 }]);

  // The reference: every sliding window of every sex that fires before the sentinel's watermark.
  const actions = Array.from({ length: count }, (_, i) => simulatedAction(i, start)).filter((a) => a.action === 'click' && a.is_delete === 0);
  const windows = new Map<string, Map<string, number>>();
  for (const a of actions) {
    const ts = Date.parse(a.ts);
    for (let s = ts - (ts % 1000); s > ts - 60_000; s -= 1000) {
      const id = `${a.sex}@${s}`;
      const counts = windows.get(id) ?? new Map<string, number>();
      counts.set(a.name, (counts.get(a.name) ?? 0) + 1);
      windows.set(id, counts);
    }
  }
  const expected = new Map([...windows].map(([id, counts]) => [id, JSON.stringify([...counts].map(([key, c]) => ({ key, count: c }))
    .sort((x, y) => y.count - x.count || (x.key < y.key ? -1 : 1)).slice(0, 10))]));
  const received = new Map<string, string>();
  const collect = (values: string[]) => {
    for (const v of values) { const r = JSON.parse(v); received.set(`${r.sex}@${r.start}`, JSON.stringify(r.top)); }
    return [...expected.keys()].every((id) => received.has(id));
  };
  await readUntil(env.CLICK_RANK_TOPIC, collect, 180_000);
  const wrong = [...expected].filter(([id, top]) => received.get(id) !== top).slice(0, 3);
  assert.equal(expected.size > 200, true, `${expected.size} windows`);
  assert.deepEqual(wrong.map(([id, top]) => ({ id, expected: top, got: received.get(id) ?? 'missing' })), []);
});
