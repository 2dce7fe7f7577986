// User functions mean what they say (issue: inlining hygiene and record
// semantics). Every branch of test/fixtures/inline/pipeline.ts uses one shape a
// TypeScript user writes; each sink must hold what the function computes when
// called on its own copy of each record, in pipec/testing and in local.mjs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { testPipeline } from 'pipec/testing';
import { buildFile, isolate, runNode } from './helpers.ts';

const FILE = 'test/fixtures/inline/pipeline.ts';
const rows = () => [{ id: 1, name: 'ann', tags: ['a'] }, { id: 2, name: 'bob', tags: ['b', 'c'] }, { id: 3, name: 'cid', tags: [] as string[] }];
const template = (id: number) => `line one ${id}\n      indented line   \n  end`;

/** What each sink must receive, worked out by hand from JavaScript's semantics. */
const expected: Record<string, unknown[]> = {
  scopes: [5, 9, 13],
  recursion: [1, 2, 6],
  arguments: [2, 3, 4],
  'this-param': [10, 20, 30],
  generator: ['ann:a', 'bob:b', 'bob:c'],
  names: ['1/2/3', '2/3/4', '3/4/5'],
  'value-local': [1, 3],
  reassign: [101, 102, 103],
  'mutating-filter': ['ANN', 'BOB', 'CID'],
  'mutating-map': [2, 3, 1],
  sibling: ['ann:a', 'bob:b+c', 'cid:'],
  template: [template(1), template(2), template(3)],
  strings: [1, 2, 3].map((id) => `a    b${id}\uE000\uE001\uE002\uE003`),
  control: ['hit 1,1', 'hit 1,2', 'try'],
  var: [1, 2, 0],
  destructuring: ['1ann', '2bob', '3cid'],
  comma: ['ann', 'bob', 'cid'],
};

let generated: string;
let localOutput: string;

before(async () => {
  const result = await buildFile(FILE);
  assert.deepEqual(result.diagnostics, []);
  generated = fs.readFileSync(path.join(result.outDir!, 'stage-0.mjs'), 'utf8');
  const run = runNode(path.join(isolate(result.outDir!), 'local.mjs'));
  assert.equal(run.status, 0, run.stderr);
  localOutput = run.stdout;
});

test('every shape computes in pipec/testing what the function computes on its own', async () => {
  const job = await testPipeline(FILE);
  job.source(0).push(...rows());
  await job.finish();
  for (const [sink, values] of Object.entries(expected)) assert.deepEqual(job.sink(sink).values(), values, sink);
});

test('local.mjs prints the same values (print sinks write one line per record)', () => {
  const printed = localOutput.split('\n').filter((l) => l !== '');
  const all = Object.values(expected).flat().map((v) => String(v));
  // Multi-line strings print as several lines; compare the text as a multiset of lines.
  const want = all.flatMap((v) => v.split('\n')).sort();
  assert.deepEqual(printed.sort(), want);
});

test('generated names step aside for the user\'s: a user `v1` or label `fn3` makes the generated ones `v1$` and `fn3$`', () => {
  assert.match(generated, /v1\$ = o\.twice/);
  assert.match(generated, /const v1 = v0\.id;/);
  assert.match(generated, /fn3: for/);
});

test('literal text is written exactly as in the pipeline file', () => {
  assert.ok(generated.includes('`line one ${v0.id}\n      indented line   \n  end`'), 'template literal re-indented or trimmed');
});

test('a function that changes its input gets a copy; one that only reads it does not', () => {
  assert.match(generated, /const copy21 = copy\(v0\);/);
  assert.match(generated, /const v23 = `\$\{v0\.name\}:\$\{v0\.tags\.join\("\+"\)\}`;/);
});
