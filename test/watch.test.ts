// pipec build --watch: builds, then builds again after each edit of the
// pipeline file or a module it imports, reports a broken edit and recovers
// from it, and stops with exit 0 on SIGTERM. (How fast is npm run bench --
// build's business; nothing here is timed.)
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers.ts';

const cli = path.join(repoRoot, 'compiler/cli/bin.ts');

test('build --watch rebuilds after edits of the pipeline file and of a module it imports, reports a type error and recovers', { timeout: 180_000 }, async () => {
  // Inside the repository (the pipeline imports 'pipec' as the project's own), in an ignored folder.
  fs.mkdirSync(path.join(repoRoot, '.pipec-tmp'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(repoRoot, '.pipec-tmp', 'watch-'));
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', 'words.txt'), 'flink pyflink flink\nflink pyflink\n');
  fs.writeFileSync(path.join(dir, 'format.ts'), 'export const format = (word: string, count: number): string => `${word},${count}`;\n');
  const file = path.join(dir, 'pipeline.ts');
  const pipelineText = (separator: string) => [
    "import { pipeline, file, print } from 'pipec';",
    "import { format } from './format.ts';",
    '',
    `export default pipeline('watched', (p) => {`,
    `  p.source(file.lines(${JSON.stringify(path.join(dir, 'data', 'words.txt'))}))`,
    `    .flatMap((line) => line.split(${JSON.stringify(separator)}))`,
    '    .map((word) => ({ word, count: 1 }))',
    '    .keyBy((e) => e.word)',
    "    .sum('count')",
    '    .map((e) => format(e.word, e.count))',
    '    .sink(print());',
    '});',
    '',
  ].join('\n');
  fs.writeFileSync(file, pipelineText(' '));
  const out = path.join(dir, 'dist');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'build', file, '--out', out, '--watch'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const builds = () => stderr.split('\n').filter((l) => /^built watched|^build failed/.test(l)).length;
  const waitForBuilds = async (n: number) => {
    for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) if (builds() >= n) return;
    throw new Error(`no build ${n}:\n${stderr}`);
  };
  const run = () => spawnSync(process.execPath, [path.join(out, 'watched', 'local.mjs')], { encoding: 'utf8' }).stdout.trim().split('\n').sort();
  try {
    await waitForBuilds(1);
    assert.deepEqual(run(), ['flink,3', 'pyflink,2']);
    // An edit of the module the pipeline imports.
    fs.writeFileSync(path.join(dir, 'format.ts'), 'export const format = (word: string, count: number): string => `${word}=${count}`;\n');
    await waitForBuilds(2);
    assert.deepEqual(run(), ['flink=3', 'pyflink=2']);
    // A broken edit of the pipeline file: reported, and the last good output stays.
    fs.writeFileSync(file, pipelineText(' ').replace("count: 1 }", "count: '1' }"));
    await waitForBuilds(3);
    assert.match(stderr, /build failed after \d+ ms; watching for changes/);
    assert.match(stderr, /pipeline\.ts:\d+:\d+ - error TS/);
    assert.deepEqual(run(), ['flink=3', 'pyflink=2']);
    // Fixed again, with a change that shows.
    fs.writeFileSync(file, pipelineText(' ').replace('.flatMap((line) => line.split(" "))', '.flatMap((line) => line.split(" ").map((w) => w.toUpperCase()))'));
    await waitForBuilds(4);
    assert.deepEqual(run(), ['FLINK=3', 'PYFLINK=2']);
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, stderr);
  }
});
