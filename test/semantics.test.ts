// Table-driven tests of event time, windows, lateness, timers and state,
// against the rules of DESIGN.md §2 (Flink's semantics). Each case pushes
// records in an explicit order, moves watermarks and processing time by hand
// through pipec/testing, and checks what came out after each step.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testPipeline, type PipelineTest } from '../runtime/testing/index.ts';

interface Event { k: string; ts: number; v: string }
type Step =
  | ['push', string, number, string?]      // value, timestamp, key (default 'a')
  | ['watermark', number]
  | ['finish']
  | ['expect', string[]];                   // everything emitted since the last expect

const WINDOW = 'test/fixtures/semantics/window.ts';

function describeWindowOutput(job: PipelineTest): string[] {
  const results = job.sink<{ key: string; window: string; values: string }>(0).values().map((r) => `${r.key} ${r.window} ${r.values}`);
  const late = job.sideOutput<Event>('late').values().map((e) => `late ${e.v}@${e.ts}`);
  job.sink(0).clear();
  job.sideOutput('late').clear();
  return [...results, ...late];
}

async function runWindowCase(config: object, steps: Step[], file = WINDOW): Promise<PipelineTest> {
  process.env.WINDOW_TEST = JSON.stringify(config);
  const job = await testPipeline(file);
  for (const step of steps) {
    if (step[0] === 'push') job.source<Event>(0).pushAt({ k: step[3] ?? 'a', ts: step[2], v: step[1] }, undefined);
    else if (step[0] === 'watermark') job.advanceWatermark(step[1]);
    else if (step[0] === 'finish') await job.finish();
    else assert.deepEqual(describeWindowOutput(job), step[1], `after the steps before ${JSON.stringify(step)}`);
  }
  return job;
}

const tumbling10 = { assigner: { type: 'tumbling', size: 10 } };

const cases: Array<{ rule: string; config: object; steps: Step[]; file?: string }> = [
  {
    rule: 'window start = ts − (ts − offset) mod slide; a window covers [start, end)',
    config: { assigner: { type: 'tumbling', size: 10, offset: 3 } },
    steps: [['push', 'x', 2], ['push', 'y', 3], ['push', 'z', 12], ['push', 'w', 13], ['finish'], ['expect', ['a [-7,3) x', 'a [3,13) yz', 'a [13,23) w']]],
  },
  {
    rule: 'a window fires when the watermark reaches end − 1, not before',
    config: tumbling10,
    steps: [['push', 'x', 5], ['watermark', 8], ['expect', []], ['watermark', 9], ['expect', ['a [0,10) x']]],
  },
  {
    rule: 'watermark = max timestamp − maxOutOfOrderness − 1; the record is processed before the watermark it causes',
    config: { ...tumbling10, ooo: 0 },
    steps: [['push', 'x', 9], ['expect', []], ['push', 'y', 10], ['expect', ['a [0,10) x']], ['push', 'z', 19], ['expect', []], ['push', 'q', 20], ['expect', ['a [10,20) yz']]],
  },
  {
    rule: 'maxOutOfOrderness holds the watermark back',
    config: { ...tumbling10, ooo: 5 },
    steps: [['push', 'x', 5], ['push', 'y', 14], ['expect', []], ['push', 'z', 8], ['push', 'w', 15], ['expect', ['a [0,10) xz']]],
  },
  {
    rule: 'an element all of whose windows are late is dropped and counted',
    config: tumbling10,
    steps: [['push', 'x', 5], ['push', 'y', 25], ['expect', ['a [0,10) x']], ['push', 'late', 7], ['finish'], ['expect', ['a [20,30) y']]],
  },
  {
    rule: 'late elements go to sideOutputLateData when set',
    config: { ...tumbling10, lateTag: true },
    steps: [['push', 'x', 5], ['push', 'y', 25], ['expect', ['a [0,10) x']], ['push', 'old', 7], ['expect', ['late old@7']]],
  },
  {
    rule: 'within allowedLateness a late element fires its window again with the updated result',
    config: { ...tumbling10, lateness: 15, lateTag: true },
    steps: [
      ['push', 'x', 5], ['push', 'y', 20], ['expect', ['a [0,10) x']],
      ['push', 'z', 7], ['expect', ['a [0,10) xz']],          // 9 + 15 = 24 > watermark 19: accepted, fires again
      ['push', 'w', 40], ['expect', ['a [20,30) y']],          // [10,20) has no elements, so it never fires
      ['push', 'v', 8], ['expect', ['late v@8']],              // 9 + 15 = 24 <= 39: too late
    ],
  },
  {
    rule: 'sliding windows: an element is in size/slide windows; each fires at its own end − 1',
    config: { assigner: { type: 'sliding', size: 10, slide: 5 } },
    steps: [['push', 'x', 7], ['push', 'y', 12], ['watermark', 9], ['expect', ['a [0,10) x']], ['watermark', 14], ['expect', ['a [5,15) xy']], ['finish'], ['expect', ['a [10,20) y']]],
  },
  {
    rule: 'sliding windows whose size is not a multiple of the slide',
    config: { assigner: { type: 'sliding', size: 10, slide: 4 } },
    steps: [['push', 'x', 7], ['finish'], ['expect', ['a [0,10) x', 'a [4,14) x']]],   // starts are multiples of the slide: -4, 0, 4
  },
  {
    rule: 'session windows that touch merge (an element at t opens [t, t + gap))',
    config: { assigner: { type: 'session', gap: 10 } },
    steps: [['push', 'x', 0], ['push', 'y', 10], ['finish'], ['expect', ['a [0,20) xy']]],
  },
  {
    rule: 'a gap larger than the session gap starts a new session',
    config: { assigner: { type: 'session', gap: 10 } },
    steps: [['push', 'x', 0], ['push', 'y', 11], ['watermark', 10], ['expect', ['a [0,10) x']], ['finish'], ['expect', ['a [11,21) y']]],
  },
  {
    rule: 'an element that bridges two sessions merges them into one',
    config: { assigner: { type: 'session', gap: 10 }, ooo: 100 },
    steps: [['push', 'x', 0], ['push', 'y', 25], ['push', 'z', 12], ['push', 'w', 20], ['finish'], ['expect', ['a [0,10) x', 'a [12,35) zyw']]],   // merged contents in session order
  },
  {
    rule: 'sessions are per key',
    config: { assigner: { type: 'session', gap: 10 } },
    steps: [['push', 'x', 0, 'a'], ['push', 'y', 5, 'b'], ['finish'], ['expect', ['a [0,10) x', 'b [5,15) y']]],
  },
  {
    rule: 'a count window fires every size elements of its key and never partially',
    config: { assigner: { type: 'count', size: 3 } },
    steps: [['push', '1', 1], ['push', '2', 2], ['push', 'o', 2, 'b'], ['push', '3', 3], ['expect', ['a #2 123']], ['push', '4', 4], ['push', '5', 5], ['finish'], ['expect', []]],
  },
  {
    rule: 'a sliding count window fires every slide elements over the last size',
    config: { assigner: { type: 'count', size: 3, slide: 2 } },
    steps: [['push', '1', 1], ['push', '2', 2], ['expect', []], ['push', '3', 3], ['push', '4', 4], ['expect', ['a #3 234']], ['push', '5', 5], ['push', '6', 6], ['expect', ['a #5 456']]],
  },
  {
    rule: 'batch mode: no late data, every window fires once at the end',
    config: { ...tumbling10, lateTag: true },
    file: 'test/fixtures/semantics/window-batch.ts',
    steps: [['push', 'x', 5], ['push', 'y', 25], ['push', 'z', 7], ['expect', []], ['finish'], ['expect', ['a [0,10) xz', 'a [20,30) y']]],
  },
  {
    rule: 'streaming mode on the same input: the out-of-order element is late',
    config: { ...tumbling10, lateTag: true },
    steps: [['push', 'x', 5], ['push', 'y', 25], ['push', 'z', 7], ['finish'], ['expect', ['a [0,10) x', 'a [20,30) y', 'late z@7']]],
  },
];

describe('windows and watermarks', () => {
  for (const c of cases) test(c.rule, async () => { await runWindowCase(c.config, c.steps, c.file); });

  test('dropped late elements are counted', async () => {
    const job = await runWindowCase(tumbling10, [['push', 'x', 5], ['push', 'y', 25], ['push', 'late', 7], ['push', 'late2', 1]]);
    assert.equal(job.counter(3, 'droppedLateRecords'), 2);
  });

  test('processing-time windows follow the clock, not timestamps', async () => {
    process.env.WINDOW_TEST = JSON.stringify({ assigner: { type: 'tumbling', size: 1000, time: 'processing' } });
    const job = await testPipeline(WINDOW, { startTime: 500 });
    job.source<Event>(0).pushAt({ k: 'a', ts: 999_999, v: 'x' }, undefined);
    job.advanceProcessingTime(998);
    assert.deepEqual(describeWindowOutput(job), []);
    job.advanceProcessingTime(999);
    assert.deepEqual(describeWindowOutput(job), ['a [0,1000) x']);
    job.source<Event>(0).pushAt({ k: 'a', ts: 0, v: 'y' }, undefined);
    assert.deepEqual(describeWindowOutput(job), ['a [0,1000) y'], 'at 999 the window [0,1000) is due: it fires at once');
    await job.finish();
    assert.deepEqual(describeWindowOutput(job), []);
  });
});

describe('timers and keyed state', () => {
  const TIMERS = 'test/fixtures/semantics/timers.ts';
  const lines = (job: PipelineTest) => { const v = job.sink<string>(0).values(); job.sink(0).clear(); return v; };

  test('event-time timers fire when the watermark passes them, once per key and timestamp', async () => {
    const job = await testPipeline(TIMERS);
    const src = job.source(0);
    src.push({ k: 'a', ts: 1, op: 'event', at: 100 }, { k: 'a', ts: 2, op: 'event', at: 100 }, { k: 'b', ts: 3, op: 'event', at: 100 }, { k: 'a', ts: 4, op: 'event', at: 50 });
    job.advanceWatermark(99);
    assert.deepEqual(lines(job), ['a event timer 50 (wm 99)']);
    job.advanceWatermark(100);
    assert.deepEqual(lines(job), ['a event timer 100 (wm 100)', 'b event timer 100 (wm 100)']);
  });

  test('deleted timers do not fire', async () => {
    const job = await testPipeline(TIMERS);
    job.source(0).push({ k: 'a', ts: 1, op: 'event', at: 10 }, { k: 'a', ts: 2, op: 'deleteEvent', at: 10 }, { k: 'a', ts: 3, op: 'processing', at: 5 }, { k: 'a', ts: 4, op: 'deleteProcessing', at: 5 });
    job.advanceWatermark(20).advanceProcessingTime(20);
    assert.deepEqual(lines(job), []);
  });

  test('processing-time timers fire as processing time advances', async () => {
    const job = await testPipeline(TIMERS);
    job.source(0).push({ k: 'a', ts: 1, op: 'processing', at: 30 }, { k: 'a', ts: 2, op: 'processing', at: 30 });
    job.advanceProcessingTime(29);
    assert.deepEqual(lines(job), []);
    job.advanceProcessingTime(31);
    assert.deepEqual(lines(job), ['a processing timer 30 (wm 1)']);
  });

  test('at the end of input the watermark goes to +∞ and remaining event timers fire', async () => {
    const job = await testPipeline(TIMERS);
    job.source(0).push({ k: 'a', ts: 1, op: 'event', at: 1_000_000 });
    await job.finish();
    assert.deepEqual(lines(job), ['a event timer 1000000 (wm Infinity)']);
  });

  test('value, list, map, reducing and aggregating state are scoped to the key', async () => {
    const job = await testPipeline(TIMERS);
    job.source(0).push({ k: 'a', ts: 1, op: 'state', n: 4 }, { k: 'b', ts: 2, op: 'state', n: 7 }, { k: 'a', ts: 3, op: 'state', n: 9 });
    assert.deepEqual(lines(job), [
      'a count=1 seen=4 parity=[["even",1]] max=4 avg=4',
      'b count=1 seen=7 parity=[["odd",1]] max=7 avg=7',
      'a count=2 seen=4,9 parity=[["even",1],["odd",1]] max=9 avg=6.5',
    ]);
  });
});

describe('several inputs', () => {
  const TWO = 'test/fixtures/semantics/two-inputs.ts';

  test('the watermark of a union is the minimum of its inputs', async () => {
    const job = await testPipeline(TWO);
    job.source('a').push({ k: 'x', ts: 5 }, { k: 'x', ts: 30 });
    assert.deepEqual(job.sink(0).values(), [], 'input b has no watermark yet');
    job.source('b').push({ k: 'x', ts: 8 });
    assert.deepEqual(job.sink(0).values(), []);
    job.source('b').push({ k: 'x', ts: 25 });
    assert.deepEqual(job.sink(0).values(), ['x [0,10) 2']);
  });

  test('an input idle for longer than idleTimeout no longer holds the watermark back', async () => {
    const job = await testPipeline(TWO);
    job.source('b').push({ k: 'x', ts: 1 });
    job.source('a').push({ k: 'x', ts: 5 }, { k: 'x', ts: 30 });
    assert.deepEqual(job.sink(0).values(), []);
    job.advanceProcessingTime(999);
    assert.deepEqual(job.sink(0).values(), []);
    job.advanceProcessingTime(1000);
    assert.deepEqual(job.sink(0).values(), ['x [0,10) 2'], 'b went idle: a alone sets the watermark');
    job.source('b').push({ k: 'x', ts: 31 });
    job.source('a').push({ k: 'x', ts: 45 });
    assert.deepEqual(job.sink(0).values(), ['x [0,10) 2'], 'b is active again and holds the watermark at 30');
  });

  test('connect: a two-input map, and a keyed two-input process function with state', async () => {
    const job = await testPipeline('test/fixtures/semantics/connect.ts');
    job.source('thresholds').push({ id: 's1', max: 30 });
    job.source('readings').push({ id: 's1', temperature: 25 }, { id: 's1', temperature: 35 }, { id: 's2', temperature: 99 });
    await job.finish();
    assert.deepEqual(job.sink(0).values(), ['threshold s1', 'reading s1', 'reading s1', 'reading s2']);
    assert.deepEqual(job.sink(1).values(), ['s1 35 > 30']);
  });
});
