// Node settings are typed end to end and baked into generated code as
// literals; a worker whose build function now builds other settings refuses
// to run instead of silently running the old ones.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildFile, isolate, runNode } from './helpers.ts';

test('generated code carries the settings it was built with, and a run whose graph has other settings stops with a clear error', async () => {
  const result = await buildFile('test/fixtures/settings/pipeline.ts');
  assert.deepEqual(result.diagnostics, []);
  const stage = fs.readFileSync(path.join(result.outDir!, 'stage-1.mjs'), 'utf8');
  assert.match(stage, /windowOperator\(env, 3, \{ assigner: \{ kind: "windowAssigner", type: "tumbling", size: 10,/);
  const dir = isolate(result.outDir!);
  const same = runNode(path.join(dir, 'local.mjs'));
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.stdout, /^1$/m);
  const other = runNode(path.join(dir, 'local.mjs'), [], { env: { WINDOW_SIZE: '20' } });
  assert.equal(other.status, 1);
  assert.match(other.stderr, /the settings of window tumbling\(10\) aggregate \(node 3\) differ/);
  assert.match(other.stderr, /rebuild with pipec build/);
});
