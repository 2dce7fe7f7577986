// The local runtime end to end on files: globbed sources, union, keyed sums,
// CSV output, and undecodable lines going to the dead-letter file with their
// line numbers, or stopping the job under --fail-fast.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { buildFile, isolate, lines, runNode, tempDir } from './helpers.ts';

let bundle: string;

before(async () => {
  const result = await buildFile('test/fixtures/dead-letter/pipeline.ts');
  assert.deepEqual(result.diagnostics, []);
  bundle = path.join(isolate(result.outDir!), 'local.mjs');
});

function workspace(): string {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'in'));
  fs.writeFileSync(path.join(dir, 'in/orders-1.jsonl'), '{"customer":"ann","amount":10}\n{"customer":"bob","amount":5}\n{not json\n');
  fs.writeFileSync(path.join(dir, 'in/orders-2.jsonl'), '\n{"customer":"ann","amount":7}\n');
  fs.writeFileSync(path.join(dir, 'in/orders.csv'), 'customer,amount\nbob,1\ncid,"unterminated\n');
  return dir;
}

test('globbed sources, union and keyed sums write one CSV row per key; bad lines go to the dead-letter file', () => {
  const dir = workspace();
  const run = runNode(bundle, [], { cwd: dir });
  assert.equal(run.status, 0, run.stderr);
  const [header, ...rows] = lines(fs.readFileSync(path.join(dir, 'out/totals.csv'), 'utf8'));
  assert.equal(header, 'customer,amount');
  // Two sources run concurrently, so which key is seen first may vary; the totals may not.
  assert.deepEqual(rows.sort(), ['ann,17', 'bob,6']);
  const dead = lines(fs.readFileSync(path.join(dir, 'out/orders.dead-letter.jsonl'), 'utf8')).map((l) => JSON.parse(l));
  assert.equal(dead.length, 2, JSON.stringify(dead));
  const json = dead.find((d) => d.origin.endsWith('.jsonl'));
  assert.equal(json.origin, 'in/orders-1.jsonl');
  assert.equal(json.position, 3);
  assert.equal(json.raw, '{not json');
  assert.match(json.reason, /^invalid JSON/);
  const csv = dead.find((d) => d.origin.endsWith('.csv'));
  assert.match(csv.reason, /^invalid CSV/);
  assert.match(run.stderr, /"count":2.*dead-letter/);
});

test('--fail-fast stops at the first bad line with exit code 1 and names it', () => {
  const dir = workspace();
  const run = runNode(bundle, ['--fail-fast'], { cwd: dir });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /--fail-fast/);
  assert.match(run.stderr, /invalid (JSON|CSV)/);
  assert.equal(fs.existsSync(path.join(dir, 'out/orders.dead-letter.jsonl')), false);
});

test('--dead-letter chooses the file; a bad flag is a usage error', () => {
  const dir = workspace();
  assert.equal(runNode(bundle, ['--dead-letter', 'bad.jsonl'], { cwd: dir }).status, 0);
  assert.equal(lines(fs.readFileSync(path.join(dir, 'bad.jsonl'), 'utf8')).length, 2);
  const usage = runNode(bundle, ['--no-such-flag'], { cwd: dir });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--fail-fast/);
});

test('a missing input file fails the job with a clear message', () => {
  const dir = tempDir();
  const run = runNode(bundle, [], { cwd: dir });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /no input file matches in\/orders-\*\.jsonl|input file not found/);
});
