// `pipec build` never hangs on the pipeline module: it is evaluated in its own
// process with a time limit. A timer or server left open, a build function
// that never returns and process.exit() are diagnostics, with exit code 1,
// within a few seconds; an ordinary pipeline still builds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot, tempDir } from './helpers.ts';

const cli = path.join(repoRoot, 'compiler/cli/bin.ts');

function pipecBuild(file: string, env: Record<string, string> = {}) {
  const out = tempDir();
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, 'build', file, '--out', out], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: result.status, stderr: result.stderr, seconds: (Date.now() - started) / 1000, written: fs.readdirSync(out) };
}

test('a module that starts setInterval at load time: PC1111 at the setInterval call, exit 1, within a few seconds', () => {
  const run = pipecBuild('test/samples/error-left-open/pipeline.ts');
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /error-left-open\/pipeline\.ts:5:1 - error PC1111: A Timeout \(setInterval\) was left open by the pipeline module at load time\./);
  assert.ok(run.seconds < 30, `took ${run.seconds} s`);
  assert.deepEqual(run.written, []);
});

test('a build function that never returns: PC1110 at the loop when the time limit passes, exit 1', () => {
  const run = pipecBuild('test/samples/error-plan-timeout/pipeline.ts', { PIPEC_PLAN_TIMEOUT: '2s' });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /error-plan-timeout\/pipeline\.ts:6:3 - error PC1110: The build function did not finish within 2 s; it was stopped here\./);
  assert.match(run.stderr, /\n6 {3}while \(n !== 1000\) n = \(n \* 2\) % 4096;\n {4}~{18}\n/);
  assert.ok(run.seconds >= 2, `stopped after ${run.seconds} s, before the limit`);
  assert.ok(run.seconds < 30, `took ${run.seconds} s`);
});

test('a server started in the build function: PC1111 names it and the build function', () => {
  const run = pipecBuild('test/fixtures/plan/server-in-build.ts');
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /server-in-build\.ts:6:3 - error PC1111: A server \(Server\.listen\) was left open by the pipeline module in its build function\./);
});

test('process.exit() in the pipeline module ends the evaluation, not the compiler: PC1007, exit 1', () => {
  const run = pipecBuild('test/fixtures/plan/exits.ts');
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /error PC1007: Planning the pipeline failed: evaluating the pipeline module ended the process \(exit code 0/);
});

test('PIPEC_PLAN_TIMEOUT that is not a duration is PC1112, exit 1', () => {
  const run = pipecBuild('dsl-examples/wordcount.ts', { PIPEC_PLAN_TIMEOUT: 'soon' });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /error PC1112: PIPEC_PLAN_TIMEOUT is 'soon', which is not a positive duration\./);
});
