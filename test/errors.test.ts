// Errors point at the user's code (issue 8, section 3): bundles carry linked
// source maps and enable them themselves, so stacks name the pipeline file; a
// function that throws on a record sends it to the dead-letter file with the
// message and the user's file:line:col, and the job goes on (--fail-fast
// stops, keeping the output produced before); invalid keys are dead letters
// at every parallelism; ctx.emit after the call that received the record is
// an error naming the operator. Every bundle runs from a copy with no
// node_modules around it, as a user would run it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildFile, isolate, lines, repoRoot, runNode, tempDir } from './helpers.ts';

/** Builds a fixture and returns the folder of its isolated bundles. */
async function built(file: string): Promise<string> {
  const result = await buildFile(file);
  assert.deepEqual(result.diagnostics, []);
  return isolate(result.outDir!);
}

/** 1-based line and the columns of `throw` and of `new` on the line of the fixture that contains `marker`. */
function throwSite(file: string, marker: string): { line: number; columns: number[] } {
  const text = fs.readFileSync(path.join(repoRoot, file), 'utf8').split('\n');
  const index = text.findIndex((l) => l.includes(marker));
  assert.ok(index >= 0, `${marker} in ${file}`);
  return { line: index + 1, columns: [text[index].indexOf('throw') + 1, text[index].indexOf('new Error') + 1] };
}

const THROWING_MAP = 'test/fixtures/errors/throwing-map/pipeline.ts';

/** in/orders.jsonl with `before` good orders, one negative amount, then `after` good ones. */
function orders(before: number, after: number): string {
  const dir = tempDir();
  const line = (id: number, amount: number) => JSON.stringify({ id, amount });
  const rows = [...Array.from({ length: before }, (_, i) => line(i + 1, i + 1)), line(before + 1, -5), ...Array.from({ length: after }, (_, i) => line(before + 2 + i, 1))];
  fs.mkdirSync(path.join(dir, 'in'));
  fs.writeFileSync(path.join(dir, 'in/orders.jsonl'), rows.join('\n') + '\n');
  return dir;
}

test('bundles link their source maps', async () => {
  const dist = await built(THROWING_MAP);
  for (const bundle of ['local.mjs', 'stage-0.mjs']) {
    const code = fs.readFileSync(path.join(dist, bundle), 'utf8');
    assert.match(code, new RegExp(`\\n//# sourceMappingURL=${bundle.replace('.', '\\.')}\\.map\\n?$`));
    const map = JSON.parse(fs.readFileSync(path.join(dist, `${bundle}.map`), 'utf8')) as { sources: string[] };
    assert.ok(map.sources.some((s) => s.endsWith(THROWING_MAP)), 'the map leads back to the pipeline file');
  }
});

test('a map that throws sends the record to the dead-letter file with the message and the throw\'s line; the rest go on, exit 0', async () => {
  const dist = await built(THROWING_MAP);
  const dir = orders(2, 2);
  const run = runNode(path.join(dist, 'local.mjs'), [], { cwd: dir });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(lines(fs.readFileSync(path.join(dir, 'out/orders.jsonl'), 'utf8')).map((l) => JSON.parse(l).id), [1, 2, 4, 5]);
  const dead = lines(fs.readFileSync(path.join(dir, 'out/throwing-map.dead-letter.jsonl'), 'utf8')).map((l) => JSON.parse(l));
  assert.equal(dead.length, 1);
  assert.equal(dead[0].reason, 'negative amount in order 3');
  assert.equal(dead[0].position, 3, 'the third record of the source');
  assert.deepEqual(JSON.parse(dead[0].raw), { id: 3, amount: -5 });
  const site = throwSite(THROWING_MAP, 'throw new Error');
  const [file, line, column] = (dead[0].location as string).split(':');
  assert.equal(file, THROWING_MAP);
  assert.equal(Number(line), site.line);
  // Inlined lambdas are mapped line by line (the generated line's start); called by reference, V8 names `new Error`.
  assert.ok(Number(column) >= 1 && Number(column) <= site.columns[1], `column ${column} is on the throw statement (${site.columns})`);
  assert.match(run.stderr, /"counter":"1:failedRecords","value":1|"counter":"0:failedRecords","value":1/);
  // Started with --enable-source-maps (the Procfile way), the bundle maps stacks the same way.
  const flagged = orders(0, 1);
  const withFlag = spawnSync(process.execPath, ['--enable-source-maps', path.join(dist, 'local.mjs')], { cwd: flagged, encoding: 'utf8' });
  assert.equal(withFlag.status, 0, withFlag.stderr);
  assert.match(fs.readFileSync(path.join(flagged, 'out/throwing-map.dead-letter.jsonl'), 'utf8'), new RegExp(`"location":"${THROWING_MAP}:${site.line}:`));
});

test('--fail-fast stops at the throwing record with exit 1 and keeps everything written before it', async () => {
  const dist = await built(THROWING_MAP);
  // More output than a sink buffers (64 KiB), so a lost buffer would show.
  const dir = orders(5000, 100);
  const run = runNode(path.join(dist, 'local.mjs'), ['--fail-fast'], { cwd: dir });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /--fail-fast/);
  assert.match(run.stderr, new RegExp(`negative amount in order 5001.*${THROWING_MAP}:\\d+:\\d+`));
  // A stopped job publishes no result: the file is not there, and what came before the bad record is beside it.
  assert.equal(fs.existsSync(path.join(dir, 'out/orders.jsonl')), false);
  const ids = lines(fs.readFileSync(path.join(dir, 'out/orders.jsonl.partial'), 'utf8')).map((l) => JSON.parse(l).id);
  assert.deepEqual(ids, Array.from({ length: 5000 }, (_, i) => i + 1));
  assert.equal(fs.existsSync(path.join(dir, 'out/throwing-map.dead-letter.jsonl')), false);
});

test('an uncaught error in a stage worker prints a stack that names the pipeline file, not the bundle', async () => {
  const file = 'test/fixtures/errors/uncaught/pipeline.ts';
  const dist = await built(file);
  const run = runNode(path.join(dist, 'stage-0.mjs'), [], { cwd: tempDir() });
  assert.notEqual(run.status, 0);
  const site = throwSite(file, 'failed later');
  assert.match(run.stderr, /Error: failed later/);
  assert.match(run.stderr, new RegExp(`${file}:${site.line}:\\d+`));
  assert.doesNotMatch(run.stderr, /stage-0\.mjs[?:]/);
});

test('a null, missing or object key is a dead letter with the keyBy\'s line, the same at parallelism 1 and 2', async () => {
  const input = ['{"user":"ann","n":1}', '{"user":null,"n":2}', '{"user":"bob","n":3}', '{"user":{"id":1},"n":4}', '{"n":5}', '{"user":"ann","n":6}'];
  const outputs: Array<{ sums: string[]; dead: unknown[] }> = [];
  for (const parallelism of [1, 2]) {
    const dist = await built(`test/fixtures/errors/null-key/parallelism-${parallelism}.ts`);
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'in'));
    fs.writeFileSync(path.join(dir, 'in/clicks.jsonl'), input.join('\n') + '\n');
    const run = runNode(path.join(dist, 'local.mjs'), [], { cwd: dir });
    assert.equal(run.status, 0, run.stderr);
    outputs.push({
      sums: lines(fs.readFileSync(path.join(dir, 'out/sums.jsonl'), 'utf8')).sort(),
      dead: lines(fs.readFileSync(path.join(dir, 'out/null-key.dead-letter.jsonl'), 'utf8')).map((l) => JSON.parse(l)),
    });
  }
  assert.deepEqual(outputs[0].sums, ['{"user":"ann","n":7}', '{"user":"bob","n":3}']);
  const dead = outputs[0].dead as Array<{ position: number; reason: string; location: string }>;
  assert.deepEqual(dead.map((d) => d.position), [2, 4, 5]);
  assert.match(dead[0].reason, /^the key is null: a key must be a string, a finite number or a bigint$/);
  assert.match(dead[1].reason, /^the key is an object \(\{"id":1\}\)/);
  assert.match(dead[2].reason, /^the key is undefined/);
  const keyBy = throwSite('test/fixtures/errors/null-key/clicks.ts', '.keyBy(').line;
  for (const d of dead) assert.match(d.location, new RegExp(`^test/fixtures/errors/null-key/clicks\\.ts:${keyBy}:\\d+$`));
  assert.deepEqual(outputs[1], outputs[0], 'parallelism 2 gives the same output and dead letters as parallelism 1');
});

test('ctx.emit from a setTimeout callback fails the job with a message naming the operator and the call', async () => {
  const file = 'test/fixtures/errors/emit-later/pipeline.ts';
  const dist = await built(file);
  const run = runNode(path.join(dist, 'local.mjs'), [], { cwd: tempDir() });
  assert.equal(run.status, 1, run.stderr);
  const operator = throwSite(file, '.process<number>(').line;
  const emit = throwSite(file, 'setTimeout(() => ctx.emit').line;
  assert.match(run.stderr, new RegExp(`ctx\\.emit was called in process \\(${file}:${operator}:\\d+\\) at ${file}:${emit}:\\d+ when no processElement call was running`));
});
