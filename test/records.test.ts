// Record semantics (issue: records mean what they say): a function that changes
// its input never changes what another branch or a stored aggregate sees, and
// rolling aggregates keep the shape of the records they aggregate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testPipeline } from 'pipec/testing';

const FILE = 'test/fixtures/records/pipeline.ts';

test('a downstream map that changes a rolling sum\'s output corrupts neither the sum nor its sibling branch', async () => {
  const job = await testPipeline(FILE);
  job.source('counts').push({ k: 'a', n: 1 }, { k: 'a', n: 2 }, { k: 'b', n: 5 }, { k: 'a', n: 3 });
  await job.finish();
  assert.deepEqual(job.sink('sums').values(), ['a=1', 'a=3', 'b=5', 'a=6']);
  assert.deepEqual(job.sink('vandal').values(), [-1, -1, -1, -1]);
});

test('a reduce function that changes its accumulator does not change the records it emitted before', async () => {
  const job = await testPipeline(FILE);
  job.source('reduce-input').push({ k: 'a', n: 1 }, { k: 'a', n: 2 }, { k: 'a', n: 3 });
  await job.finish();
  // The sink holds the emitted objects themselves: a later reduce must not have changed them.
  assert.deepEqual(job.sink('reduced').values(), [{ k: 'a', n: 1 }, { k: 'a', n: 3 }, { k: 'a', n: 6 }]);
});

test('sum and max on tuple records return tuples', async () => {
  const job = await testPipeline(FILE);
  job.source('pairs').push(['a', 1], ['a', 2], ['b', 7]);
  job.source('pairs-max').push(['a', 1], ['a', 4], ['a', 2]);
  await job.finish();
  assert.deepEqual(job.sink('pair-sums').values(), [['a', 1], ['a', 3], ['b', 7]]);
  assert.deepEqual(job.sink('pair-max').values(), [['a', 1], ['a', 4], ['a', 4]]);
  for (const value of [...job.sink('pair-sums').values(), ...job.sink('pair-max').values()]) assert.ok(Array.isArray(value));
});

test('a streaming sum of a field named __proto__ moves', async () => {
  const job = await testPipeline(FILE);
  job.source('odd').push(...[1, 2, 3].map((n) => JSON.parse(`{"k":"a","__proto__":${n}}`)));
  await job.finish();
  assert.deepEqual(job.sink('proto-sums').values(), [1, 3, 6]);
});

test('a window reduce and a connected map that change their inputs leave a sibling branch\'s records alone', async () => {
  const job = await testPipeline(FILE);
  job.source('timed').push({ k: 'a', n: 1, ts: 1 }, { k: 'a', n: 2, ts: 2 }, { k: 'a', n: 3, ts: 3 });
  job.source('other').push({ k: 'b', n: 4 });
  await job.finish();
  assert.deepEqual(job.sink('window-sums').values(), ['a=6']);
  assert.deepEqual(job.sink('timed-raw').values(), [{ k: 'a', n: 1, ts: 1 }, { k: 'a', n: 2, ts: 2 }, { k: 'a', n: 3, ts: 3 }]);
  assert.deepEqual(job.sink('co-mapped').values(), [40]);
  assert.deepEqual(job.sink('other-raw').values(), [{ k: 'b', n: 4 }]);
});

test('what a process function emits is a copy: changing it (or its state) afterwards does not change what was emitted', async () => {
  const job = await testPipeline(FILE);
  job.source('counter-input').push({ k: 'a', n: 1 }, { k: 'a', n: 2 }, { k: 'a', n: 3 });
  await job.finish();
  assert.deepEqual(job.sink('running').values(), [{ k: 'a', total: 0 }, { k: 'a', total: 1 }, { k: 'a', total: 3 }]);
});
