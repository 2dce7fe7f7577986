// The compiler reads and writes only through its Host: a pipeline that exists
// only in memory type-checks, plans, generates and bundles, and the output
// lands in the host, not on disk.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { build, memoryHost } from '../../compiler/index.ts';
import { repoRoot } from '../helpers.ts';

test('build() runs on an in-memory file map', async () => {
  const root = path.join(repoRoot, 'test/.virtual-project');
  const host = memoryHost(root, {
    'job.ts': `import { pipeline, collection, print } from 'pipec';
import { twice } from './lib.ts';
export default pipeline('in-memory', (p) => {
  p.source(collection([1, 2])).map((n) => twice(n)).filter((n) => n > 2).sink(print());
});
`,
    'lib.ts': 'export const twice = (n: number): number => n * 2;\n',
  });
  const result = await build(host, 'job.ts', 'out');
  assert.deepEqual(result.diagnostics, []);
  assert.equal(result.plan!.nodes[1].site!.file, 'job.ts');
  assert.equal(result.plan!.nodes[1].site!.line, 4);
  assert.match(result.emitted!.stages[0].code, /if \(!\(v1 > 2\)\) return;/);
  assert.ok(host.written.has(path.join(root, 'out/in-memory/local.mjs')));
  assert.equal(fs.existsSync(root), false, 'nothing was written to disk');
});

test('a TypeScript error in an in-memory file is reported at its position', async () => {
  const host = memoryHost(path.join(repoRoot, 'test/.virtual-project'), {
    'job.ts': `import { pipeline, collection, print } from 'pipec';
export default pipeline('bad', (p) => { p.source(collection(['a'])).map((s) => s.nope).sink(print()); });
`,
  });
  const result = await build(host, 'job.ts');
  assert.equal(result.diagnostics[0].code, 'TS2339');
  assert.deepEqual([result.diagnostics[0].file, result.diagnostics[0].line], ['job.ts', 2]);
  assert.equal(host.written.size, 0);
});
