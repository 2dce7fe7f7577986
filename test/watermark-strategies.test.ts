// Watermark strategies (Flink's WatermarkStrategy) through pipec/testing:
// bounded out-of-orderness as a strategy and in the older options form,
// monotonous timestamps, a user generator that is punctuated (watermarks from
// onEvent) or periodic (onPeriodicEmit every auto-watermark interval of
// processing time), and idleness. A keyed tumbling 10 ms count window shows
// where the watermark is after each step.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pipeline } from 'pipec';
import { testPipeline, type PipelineTest } from '../runtime/testing/index.ts';
import { autoWatermarkInterval } from '../runtime/internal/user-watermarks.ts';

interface Event { k: string; ts: number; mark?: boolean }
type Step = ['push', number, boolean?] | ['clock', number] | ['expect', string[]];

// The fixture's pipeline options (its autoWatermarkInterval) are read once, when its module loads.
process.env.STRATEGY_INTERVAL = '100';

async function run(config: object, steps: Step[]): Promise<PipelineTest> {
  process.env.STRATEGY_TEST = JSON.stringify(config);
  const job = await testPipeline('test/fixtures/joins/watermark-strategies.ts');
  for (const step of steps) {
    if (step[0] === 'push') job.source<Event>('events').push({ k: 'a', ts: step[1], ...(step[2] ? { mark: true } : {}) });
    else if (step[0] === 'clock') job.advanceProcessingTime(step[1]);
    else {
      assert.deepEqual(job.sink<string>(0).values(), step[1], `after the steps before ${JSON.stringify(step)}`);
      job.sink(0).clear();
    }
  }
  await job.finish();
  return job;
}

describe('watermark strategies', () => {
  const ooo5: Step[] = [['push', 5], ['push', 14], ['expect', []], ['push', 8], ['push', 15], ['expect', ['a [0,10) 2']], ['push', 24], ['expect', []], ['push', 25], ['expect', ['a [10,20) 2']]];

  test('forBoundedOutOfOrderness(5): watermark = largest timestamp − 5 − 1, after the record that raises it', async () => {
    await run({ strategy: 'bounded', ooo: 5 }, ooo5);
  });

  test('the options form { maxOutOfOrderness: 5 } means the same', async () => {
    await run({ strategy: 'options', ooo: 5 }, ooo5);
  });

  test('forMonotonousTimestamps(): watermark = largest timestamp − 1', async () => {
    await run({ strategy: 'monotonous' }, [['push', 3], ['push', 9], ['expect', []], ['push', 10], ['expect', ['a [0,10) 2']], ['push', 19], ['expect', []], ['push', 20], ['expect', ['a [10,20) 2']]]);
  });

  test('forGenerator, punctuated: only what onEvent emits moves the watermark (here a marked record\'s timestamp − 1)', async () => {
    await run({ strategy: 'punctuated' }, [
      ['push', 5], ['push', 15], ['push', 25], ['clock', 10_000], ['expect', []],
      ['push', 30, true], ['expect', ['a [0,10) 1', 'a [10,20) 1', 'a [20,30) 1']],
      ['push', 35], ['push', 45], ['expect', []],
    ]);
  });

  test('forGenerator, periodic: onPeriodicEmit runs every autoWatermarkInterval (here 100 ms) of processing time, not per record', async () => {
    await run({ strategy: 'periodic' }, [
      ['push', 5], ['push', 15], ['clock', 99], ['expect', []],
      ['clock', 100], ['expect', ['a [0,10) 1']],
      ['push', 25], ['push', 31], ['clock', 150], ['expect', []],
      ['clock', 200], ['expect', ['a [10,20) 1', 'a [20,30) 1']],
      ['clock', 1000], ['expect', []],
    ]);
  });

  test('the auto-watermark interval is Flink\'s 200 ms unless the pipeline sets autoWatermarkInterval', () => {
    assert.equal(autoWatermarkInterval({ name: 'p', options: {}, nodes: [] }), 200);
    assert.equal(autoWatermarkInterval({ name: 'p', options: { autoWatermarkInterval: '1s' }, nodes: [] }), 1000);
    assert.throws(() => pipeline('p', () => undefined, { autoWatermarkInterval: 0 }), /autoWatermarkInterval must be greater than 0/);
  });

  test('withIdleness: an input without records for the timeout (processing time) stops holding the watermark back', async () => {
    for (const strategy of ['monotonous', 'periodic', 'options'] as const) {
      await run({ strategy, idle: 1000 }, [
        ['push', 5], ['push', 12], ['clock', 300], ['expect', []],
        ['clock', 1000], ['expect', ['a [0,10) 1']],
      ]);
    }
  });
});
