// The pipec/testing example from the README, kept runnable so the README stays true.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testPipeline } from '../../runtime/testing/index.ts';

test('README: a rise that lasts a second raises an alert', async () => {
  const job = await testPipeline('dsl-examples/rising-temperature.ts');
  const readings = job.source(0);
  readings.push({ id: 's1', ts: 1_000, temperature: 50 }, { id: 's1', ts: 1_500, temperature: 51 });
  job.advanceWatermark(2_499);
  assert.deepEqual(job.sink(0).values(), []);
  job.advanceWatermark(2_500);
  assert.deepEqual(job.sink(0).values(), ['s1: temperature rose for 1 s (alert at 2500)']);
  await job.finish();
});
