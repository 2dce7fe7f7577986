// Async open(ctx) and close() of process functions (DESIGN.md §2): the runtime
// awaits open before any record and close before the job ends, in pipec/testing
// and in local.mjs; PC1005 stays for processElement.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { testPipeline } from 'pipec/testing';
import { buildFile, isolate, lines, runNode, tempDir } from './helpers.ts';

const FILE = 'test/fixtures/lifecycle/pipeline.ts';

test('pipec/testing: an async open() finishes before the first record, an async close() before finish() returns', async () => {
  const closed = path.join(tempDir(), 'closed');
  process.env.LIFECYCLE_CLOSED = closed;
  try {
    const job = await testPipeline(FILE);
    job.source(0).push({ user: 'ann', page: 1 }, { user: 'bob', page: 2 });
    assert.deepEqual(job.sink(0).values(), ['ann:home', 'bob:about']);
    await job.finish();
    assert.equal(fs.readFileSync(closed, 'utf8'), 'closed');
  } finally {
    delete process.env.LIFECYCLE_CLOSED;
  }
});

test('local.mjs: the same, with plain node', async () => {
  const result = await buildFile(FILE);
  assert.deepEqual(result.diagnostics, []);
  const closed = path.join(tempDir(), 'closed');
  const run = runNode(path.join(isolate(result.outDir!), 'local.mjs'), [], { env: { LIFECYCLE_CLOSED: closed } });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(lines(run.stdout).sort(), ['ann:home', 'bob:about']);
  assert.equal(fs.readFileSync(closed, 'utf8'), 'closed');
});
