// The published package works in a fresh project: npm pack, install the
// tarball, `npx pipec build`, and run the bundle with plain node.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { lines, repoRoot, runNode, tempDir } from './helpers.ts';

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

test('npm pack → install in a fresh project → npx pipec build → node dist/<name>/local.mjs', { timeout: 600_000 }, () => {
  const packDir = tempDir('pipec-pack-');
  const output = npm(['pack', '--pack-destination', packDir, '--silent'], repoRoot).trim().split('\n').pop()!;
  const tarball = path.join(packDir, output);
  assert.ok(fs.existsSync(tarball), `npm pack wrote ${output}`);

  const project = tempDir('pipec-project-');
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  npm(['install', '--no-audit', '--no-fund', '--silent', tarball], project);
  fs.writeFileSync(path.join(project, 'words.txt'), 'to be or not to be\n');
  fs.writeFileSync(path.join(project, 'pipeline.ts'), `import { pipeline, file, print } from 'pipec';

export default pipeline('words', (p) => {
  p.source(file.lines('words.txt'))
    .flatMap((line) => line.split(' '))
    .map((word) => ({ word, n: 1 }))
    .keyBy((r) => r.word)
    .sum('n')
    .map((r) => r.word + '=' + r.n)
    .sink(print());
});
`);
  const build = spawnSync('npx', ['pipec', 'build', 'pipeline.ts'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  assert.equal(build.status, 0, build.stderr);
  const bad = spawnSync('npx', ['pipec', 'check', 'pipeline.ts'], { cwd: project, encoding: 'utf8' });
  assert.equal(bad.status, 0, bad.stderr);

  // Run the bundle from a folder with no node_modules.
  const runDir = tempDir('pipec-deploy-');
  fs.cpSync(path.join(project, 'dist/words'), runDir, { recursive: true });
  fs.copyFileSync(path.join(project, 'words.txt'), path.join(runDir, 'words.txt'));
  const run = runNode(path.join(runDir, 'local.mjs'), [], { cwd: runDir });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(lines(run.stdout).sort(), ['be=2', 'not=1', 'or=1', 'to=2']);
});
