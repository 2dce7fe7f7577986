// Joins against Flink's documented behaviour (the "Joining" page of the
// DataStream API docs), through pipec/testing: the tumbling, sliding and
// session window join figures, the interval join figure with bounds -2 / +1,
// bound exclusivity, coGroup with keys on one side only, late data, and
// state that is cleaned up as the watermark passes. Streams are called orange
// (the first input) and green (the second), as in the figures; every element
// of a figure has the same key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testPipeline, type PipelineTest } from '../runtime/testing/index.ts';

interface Element { key: string; ts: number; name: string }

const WINDOW_JOIN = 'test/fixtures/joins/window-join.ts';
const INTERVAL_JOIN = 'test/fixtures/joins/interval-join.ts';

/** Starts the window-join fixture with a configuration (see test/fixtures/joins/window-join.ts). */
async function windowJoin(config: object): Promise<PipelineTest> {
  process.env.JOIN_TEST = JSON.stringify(config);
  return testPipeline(WINDOW_JOIN);
}

async function intervalJoin(config: object): Promise<PipelineTest> {
  process.env.INTERVAL_TEST = JSON.stringify(config);
  return testPipeline(INTERVAL_JOIN);
}

/** Pushes elements named by their timestamps (`o3` is orange at 3) with key k. */
function push(job: PipelineTest, side: 'orange' | 'green', timestamps: number[], key = 'k'): void {
  for (const ts of timestamps) job.source<Element>(side).push({ key, ts, name: `${side[0]}${ts}` });
}

/** Every pair `o<ts>,g<ts>` of a join sink, sorted (results within one firing come in no documented order). */
function pairs(job: PipelineTest): string[] {
  return job.sink<string>(0).values().sort();
}

/** All pairs of elements of a window `[start,end)`: the Cartesian product, as lines `k [start,end) o<ts>,g<ts> @<end − 1>`. */
function product(window: string, orange: number[], green: number[], key = 'k'): string[] {
  const end = Number(/,(-?\d+)\)/.exec(window)![1]);
  return orange.flatMap((o) => green.map((g) => `${key} ${window} o${o},g${g} @${end - 1}`));
}

describe('window join (Flink docs: Window Join)', () => {
  test('tumbling: size 2 ms over orange 0..7 and green 0, 1, 3, 4; window [6,7] has no green element, so ⑥ and ⑦ join nothing', async () => {
    const job = await windowJoin({ function: 'join', assigner: { type: 'tumbling', size: 2 } });
    push(job, 'orange', [0, 1, 2, 3, 4, 5, 6, 7]);
    push(job, 'green', [0, 1, 3, 4]);
    await job.finish();
    assert.deepEqual(pairs(job), [
      ...product('[0,2)', [0, 1], [0, 1]),
      ...product('[2,4)', [2, 3], [3]),
      ...product('[4,6)', [4, 5], [4]),
    ].sort());
  });

  test('tumbling: a window fires when both inputs\' watermark reaches its end − 1, each pair once, with timestamp end − 1', async () => {
    const job = await windowJoin({ function: 'join', assigner: { type: 'tumbling', size: 2 } });
    push(job, 'orange', [0, 1, 2]);
    assert.deepEqual(pairs(job), [], 'green has no watermark yet: nothing fires');
    push(job, 'green', [1]);
    assert.deepEqual(pairs(job), [], 'green at 1: watermark 0 < 1');
    push(job, 'green', [2]);
    assert.deepEqual(pairs(job), product('[0,2)', [0, 1], [1]));
    job.sink(0).clear();
    push(job, 'orange', [3]);
    push(job, 'green', [5]);
    assert.deepEqual(pairs(job), [], 'orange at 3: watermark 2 < 3');
    push(job, 'orange', [4]);
    assert.deepEqual(pairs(job), product('[2,4)', [2, 3], [2]));
    await job.finish();
  });

  test('sliding: size 2 ms, slide 1 ms over orange 0..4 and green 0, 3, 4; orange ② joins green ③ in [2,3] and nothing in [1,2]', async () => {
    const job = await windowJoin({ function: 'join', assigner: { type: 'sliding', size: 2, slide: 1 } });
    push(job, 'orange', [0, 1, 2, 3, 4]);
    push(job, 'green', [0, 3, 4]);
    await job.finish();
    assert.deepEqual(pairs(job), [
      ...product('[-1,1)', [0], [0]),
      ...product('[0,2)', [0, 1], [0]),
      ...product('[2,4)', [2, 3], [3]),
      ...product('[3,5)', [3, 4], [3, 4]),
      ...product('[4,6)', [4], [4]),
    ].sort());
  });

  test('session: gap 1 ms; three sessions, of which the third has no green element, so ⑧ and ⑨ are not joined', async () => {
    // Sessions [0,3) (orange 0, 1; green 1, 2), [5,7) (orange 5, 6; green 5) and [8,10) (orange 8, 9): an element
    // at t opens [t, t + 1), and windows that touch merge (Flink's TimeWindow.intersects).
    const job = await windowJoin({ function: 'join', assigner: { type: 'session', gap: 1 } });
    push(job, 'orange', [0, 1, 5, 6, 8, 9]);
    push(job, 'green', [1, 2, 5]);
    await job.finish();
    assert.deepEqual(pairs(job), [...product('[0,3)', [0, 1], [1, 2]), ...product('[5,7)', [5, 6], [5])].sort());
  });

  test('session: an element that bridges two sessions merges them, and the merged session joins both sides of both', async () => {
    const job = await windowJoin({ function: 'join', assigner: { type: 'session', gap: 2 }, ooo: 10 });
    push(job, 'orange', [0, 6]);
    push(job, 'green', [1, 7]);
    push(job, 'green', [3]); // [3,5) touches [0,3): [0,5); [6,9) stays apart
    push(job, 'orange', [5]); // [5,7) touches [0,5) and [6,9): one session [0,9)
    await job.finish();
    assert.deepEqual(pairs(job), product('[0,9)', [0, 5, 6], [1, 3, 7]).sort());
  });

  test('late elements of either side are dropped and counted; within allowedLateness a late element fires its window again', async () => {
    const job = await windowJoin({ function: 'join', assigner: { type: 'tumbling', size: 10 }, lateness: 5 });
    push(job, 'orange', [1, 30]);
    push(job, 'green', [2, 30]);
    assert.deepEqual(pairs(job), product('[0,10)', [1], [2]));
    job.sink(0).clear();
    push(job, 'green', [3]); // 9 + 5 = 14 <= watermark 29: too late
    push(job, 'orange', [4]);
    assert.deepEqual(pairs(job), []);
    assert.equal(job.counter(job.graph.nodes.find((n) => n.kind === 'windowJoin')!.id, 'droppedLateRecords'), 2);
    await job.finish();
    assert.deepEqual(pairs(job), product('[30,40)', [30], [30]));

    const lenient = await windowJoin({ function: 'join', assigner: { type: 'tumbling', size: 10 }, lateness: 15 });
    push(lenient, 'orange', [1, 20]);
    push(lenient, 'green', [2, 20]);
    lenient.sink(0).clear();
    push(lenient, 'green', [3]); // 9 + 15 = 24 > watermark 19: the window fires again with every pair
    assert.deepEqual(pairs(lenient), product('[0,10)', [1], [2, 3]));
    await lenient.finish();
  });

  test('state: a key\'s windows leave the state backend when they fire (and, with lateness, when it has passed)', async () => {
    const job = await windowJoin({ function: 'join', assigner: { type: 'tumbling', size: 10 } });
    push(job, 'orange', [1, 2], 'a');
    push(job, 'green', [3], 'a');
    push(job, 'orange', [4], 'b');
    const join = job.graph.nodes.find((n) => n.kind === 'windowJoin')!.id;
    assert.deepEqual(job.stateSize(join), { entries: 2, timers: 2 });
    job.advanceWatermark(9);
    assert.deepEqual(job.stateSize(join), { entries: 0, timers: 0 });
    assert.deepEqual(pairs(job), product('[0,10)', [1, 2], [3], 'a'));
    await job.finish();
  });
});

describe('coGroup', () => {
  test('apply gets both sides of each key and window, also a key that only one side has (the other side empty)', async () => {
    const job = await windowJoin({ function: 'coGroup', assigner: { type: 'tumbling', size: 10 } });
    push(job, 'orange', [1, 2], 'both');
    push(job, 'green', [3], 'both');
    push(job, 'orange', [4], 'orange-only');
    push(job, 'green', [5, 6], 'green-only');
    push(job, 'orange', [15], 'both');
    await job.finish();
    assert.deepEqual(pairs(job), [
      'both [0,10) o1o2 | g3 @9',
      'both [10,20) o15 | - @19',
      'green-only [0,10) - | g5g6 @9',
      'orange-only [0,10) o4 | - @9',
    ]);
  });

  test('sliding coGroup: every window of an element gets it', async () => {
    const job = await windowJoin({ function: 'coGroup', assigner: { type: 'sliding', size: 4, slide: 2 } });
    push(job, 'orange', [1, 3]);
    push(job, 'green', [2]);
    await job.finish();
    assert.deepEqual(pairs(job), ['k [-2,2) o1 | - @1', 'k [0,4) o1o3 | g2 @3', 'k [2,6) o3 | g2 @5']);
  });
});

describe('count windows', () => {
  test('a count window of a coGroup counts the elements of both sides of a key together, and a partial window never fires', async () => {
    const job = await testPipeline('test/fixtures/joins/count-join.ts');
    const [orange, green] = [job.source<{ key: string; name: string }>('orange'), job.source<{ key: string; name: string }>('green')];
    orange.push({ key: 'a', name: 'o1' }, { key: 'b', name: 'o2' });
    green.push({ key: 'a', name: 'g1' });
    orange.push({ key: 'a', name: 'o3' }, { key: 'a', name: 'o4' });
    green.push({ key: 'a', name: 'g2' }, { key: 'a', name: 'g3' }, { key: 'b', name: 'g4' });
    await job.finish();
    assert.deepEqual(job.sink<string>(0).values(), ['a #2 o1o3 | g1', 'a #5 o4 | g2g3']);
  });
});

describe('interval join (Flink docs: Interval Join)', () => {
  const orange = [0, 2, 3, 4, 5, 7];
  const green = [0, 1, 6, 7];
  /** The pairs with orange.ts + lower <= green.ts <= orange.ts + upper (inclusive bounds), computed here, with their timestamp max(o, g). */
  const expected = (lower: number, upper: number) => orange.flatMap((o) => green.filter((g) => o + lower <= g && g <= o + upper).map((g) => `k o${o},g${g} @${Math.max(o, g)}`)).sort();

  test('bounds -2 / +1 over orange 0, 2, 3, 4, 5, 7 and green 0, 1, 6, 7: (0,0) (0,1) (2,0) (2,1) (3,1) (5,6) (7,6) (7,7); ④ joins nothing', async () => {
    const job = await intervalJoin({ lower: -2, upper: 1 });
    push(job, 'orange', orange);
    push(job, 'green', green);
    await job.finish();
    const documented = ['o0,g0 @0', 'o0,g1 @1', 'o2,g0 @2', 'o2,g1 @2', 'o3,g1 @3', 'o5,g6 @6', 'o7,g6 @7', 'o7,g7 @7'].map((p) => `k ${p}`).sort();
    assert.deepEqual(pairs(job), documented);
    assert.deepEqual(documented, expected(-2, 1));
  });

  test('the same pairs whichever side arrives first, and interleaved by time', async () => {
    const greenFirst = await intervalJoin({ lower: -2, upper: 1 });
    push(greenFirst, 'green', green);
    push(greenFirst, 'orange', orange);
    await greenFirst.finish();
    assert.deepEqual(pairs(greenFirst), expected(-2, 1));
    const interleaved = await intervalJoin({ lower: -2, upper: 1 });
    for (let t = 0; t <= 7; t++) {
      if (orange.includes(t)) push(interleaved, 'orange', [t]);
      if (green.includes(t)) push(interleaved, 'green', [t]);
    }
    await interleaved.finish();
    assert.deepEqual(pairs(interleaved), expected(-2, 1));
  });

  for (const [lowerExclusive, upperExclusive, lower, upper] of [[true, false, -1, 1], [false, true, -2, 0], [true, true, -1, 0]] as const) {
    test(`${lowerExclusive ? 'lowerBoundExclusive()' : ''}${lowerExclusive && upperExclusive ? ' and ' : ''}${upperExclusive ? 'upperBoundExclusive()' : ''}: the pairs of bounds [${lower}, ${upper}]`, async () => {
      const job = await intervalJoin({ lower: -2, upper: 1, lowerExclusive, upperExclusive });
      push(job, 'orange', orange);
      push(job, 'green', green);
      await job.finish();
      assert.deepEqual(pairs(job), expected(lower, upper));
    });
  }

  test('bounds on one side of 0 (green between 1 and 3 after orange), and a single point (0, 0)', async () => {
    const after = await intervalJoin({ lower: 1, upper: 3 });
    push(after, 'orange', orange);
    push(after, 'green', green);
    await after.finish();
    assert.deepEqual(pairs(after), expected(1, 3));
    const same = await intervalJoin({ lower: 0, upper: 0 });
    push(same, 'orange', orange);
    push(same, 'green', green);
    await same.finish();
    assert.deepEqual(pairs(same), ['k o0,g0 @0', 'k o7,g7 @7']);
  });

  test('an element behind the watermark is late: dropped and counted, or sent to the side\'s late-data output; it joins nothing', async () => {
    const job = await intervalJoin({ lower: -2, upper: 1 });
    push(job, 'orange', [10]);
    push(job, 'green', [10]); // both watermarks 9
    push(job, 'green', [8]); // 8 < 9: late, although orange 10 would take it
    push(job, 'orange', [5]);
    const join = job.graph.nodes.find((n) => n.kind === 'intervalJoin')!.id;
    assert.equal(job.counter(join, 'droppedLateRecords'), 2);
    assert.deepEqual(pairs(job), ['k o10,g10 @10']);
    await job.finish();

    const tagged = await intervalJoin({ lower: -2, upper: 1, lateTags: true });
    push(tagged, 'orange', [10]);
    push(tagged, 'green', [10, 8]);
    push(tagged, 'orange', [5]);
    assert.deepEqual(tagged.sideOutput<Element>('late-green').values().map((e) => e.name), ['g8']);
    assert.deepEqual(tagged.sideOutput<Element>('late-orange').values().map((e) => e.name), ['o5']);
    assert.equal(tagged.counter(join, 'droppedLateRecords'), 0);
    await tagged.finish();
  });

  test('state: both buffers and their timers are cleaned up as the watermark passes, back to nothing (by uid)', async () => {
    const job = await intervalJoin({ lower: -2, upper: 1, ooo: 100 });
    push(job, 'orange', [0, 2, 3], 'a');
    push(job, 'orange', [4], 'b');
    push(job, 'green', [1], 'a');
    push(job, 'green', [6], 'b');
    // Left (orange) buckets are needed until the watermark passes ts + 1, right (green) ones until ts + 2: timers at
    // a 1, 3, 4 (orange) and 3 (green 1, the same timer), b 5 and 8; entries: both buffers of both keys.
    assert.deepEqual(job.stateSize('orange-green'), { entries: 4, timers: 5 });
    job.advanceWatermark(3);
    assert.deepEqual(job.stateSize('orange-green'), { entries: 3, timers: 3 }, 'orange 0 and 2 and green 1 are gone: a (orange 3), b (orange 4, green 6)');
    job.advanceWatermark(8);
    assert.deepEqual(job.stateSize('orange-green'), { entries: 0, timers: 0 });
    assert.deepEqual(pairs(job), ['a o0,g1 @1', 'a o2,g1 @2', 'a o3,g1 @3']);
    // A key that comes back after its state was dropped starts from nothing: o10 finds no green.
    push(job, 'orange', [10], 'a');
    push(job, 'green', [12], 'b');
    job.advanceWatermark(20);
    assert.deepEqual(job.stateSize('orange-green'), { entries: 0, timers: 0 });
    await job.finish();
  });
});

describe('connect(...).flatMap(f1, f2) (CoFlatMap)', () => {
  test('each input\'s function returns zero or more outputs, in order, plain and keyed (a generator on one side)', async () => {
    const job = await testPipeline('test/fixtures/joins/co-flat-map.ts');
    job.source('sentences').push({ id: 's', text: 'to be  or' }, { id: 't', text: '' });
    job.source('repeats').push({ id: 's', token: 'x', times: 2 }, { id: 'r', token: 'y', times: 0 });
    await job.finish();
    assert.deepEqual(job.sink(0).values(), ['to', 'be', 'or', 'x', 'x']);
    assert.deepEqual(job.sink(1).values().sort(), ['r:yx0', 's:be', 's:or', 's:to', 's:xx2']);
  });
});
