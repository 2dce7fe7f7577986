// The pipec command: exit codes, diagnostics output (text and --json), nothing
// written on errors, graph output, the dsl-examples built and run from a folder
// without node_modules, and byte-identical builds from different folders.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isolate, lines, repoRoot, runNode, tempDir } from './helpers.ts';

const cli = path.join(repoRoot, 'compiler/cli/bin.ts');

function pipec(args: string[], cwd = repoRoot) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('a TypeScript error prints file:line:col, the code and a frame, exits 1 and writes nothing', () => {
  const out = tempDir();
  const run = pipec(['build', 'test/samples/error-typescript/pipeline.ts', '--out', out]);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /test\/samples\/error-typescript\/pipeline\.ts:7:28 - error TS2339: Property 'age' does not exist on type 'Click'\./);
  assert.match(run.stderr, /\n7 {5}\.map\(\(a\) => a\.name \+ a\.age\)\n {29}~~~\n/);
  assert.deepEqual(fs.readdirSync(out), []);
});

test('--json prints diagnostics as data', () => {
  const run = pipec(['check', 'test/samples/error-key-type/pipeline.ts', '--json']);
  assert.equal(run.status, 1);
  const { diagnostics } = JSON.parse(run.stdout);
  assert.equal(diagnostics[0].code, 'PC1004');
  assert.equal(diagnostics[0].line, 5);
  assert.ok(diagnostics[0].hint.length > 0);
});

test('usage errors exit 2; explain describes a code', () => {
  assert.equal(pipec(['frobnicate']).status, 2);
  assert.equal(pipec([]).status, 2);
  const explain = pipec(['explain', 'PC1001']);
  assert.equal(explain.status, 0);
  assert.match(explain.stdout, /captured_mutable_state/);
});

test('graph prints the stages and fused chains as Mermaid and DOT', () => {
  const mermaid = pipec(['graph', 'dsl-examples/wordcount.ts']);
  assert.equal(mermaid.status, 0, mermaid.stderr);
  assert.match(mermaid.stdout, /^flowchart LR/);
  assert.match(mermaid.stdout, /n1 ==> n2/);
  assert.match(mermaid.stdout, /n4 -- hash --> n5/);
  const dot = pipec(['graph', 'dsl-examples/wordcount.ts', '--format', 'dot']);
  assert.match(dot.stdout, /subgraph cluster_stage1/);
});

test('wordcount builds, and its bundle runs from a folder without node_modules: flink,3 and pyflink,2', () => {
  const out = tempDir();
  const build = pipec(['build', 'dsl-examples/wordcount.ts', '--out', out]);
  assert.equal(build.status, 0, build.stderr);
  const dir = isolate(path.join(out, 'wordcount'));
  fs.mkdirSync(path.join(dir, 'dsl-examples/data'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'dsl-examples/data/wordcount.txt'), path.join(dir, 'dsl-examples/data/wordcount.txt'));
  const run = runNode(path.join(dir, 'local.mjs'), [], { cwd: dir });
  assert.equal(run.status, 0, run.stderr);
  const counts = lines(run.stdout);
  assert.ok(counts.includes('flink,3') && counts.includes('pyflink,2'), run.stdout);
  assert.equal(new Set(counts.map((l) => l.split(',')[0])).size, counts.length, 'one line per word (batch mode: final counts only)');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.stages.map((s: { connectors: string[] }) => s.connectors), [['file.lines'], ['print']]);
  assert.doesNotMatch(fs.readFileSync(path.join(dir, 'stage-1.mjs'), 'utf8'), /FileLinesSource/, 'a stage bundles only the connectors it uses');
  const map = JSON.parse(fs.readFileSync(path.join(dir, 'stage-0.mjs.map'), 'utf8'));
  assert.ok(map.sources.some((s: string) => s.endsWith('dsl-examples/wordcount.ts')), 'source-mapped to the pipeline file');
});

test('syslog: the user module and its npm package are bundled; unparsable lines go to the side output', () => {
  const out = tempDir();
  assert.equal(pipec(['build', 'dsl-examples/syslog.ts', '--out', out]).status, 0);
  const dir = isolate(path.join(out, 'syslog'));
  const run = runNode(path.join(dir, 'local.mjs'), [], { cwd: dir, env: { SYSLOG_INPUT: path.join(repoRoot, 'dsl-examples/data/syslog.log'), SYSLOG_OUTPUT: path.join(dir, 'entries.jsonl') } });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(lines(run.stdout).sort(), ['errors,mymachine,1', 'errors,web-1,2', 'errors,web-2,1', 'unparsed,this line is not syslog at all']);
  const entries = lines(fs.readFileSync(path.join(dir, 'entries.jsonl'), 'utf8')).map((l) => JSON.parse(l));
  assert.equal(entries.length, 6);
  assert.deepEqual(entries[1], { host: 'mymachine', facility: 'user', severity: 'notice', program: 'sshd', message: 'Accepted publickey for alice from 10.0.0.5' });
});

test('builds are byte-identical from two different folders', () => {
  const copies = [tempDir('pipec-det-a-'), tempDir('pipec-det-b-x-')].map((root) => {
    for (const entry of ['package.json', 'dsl-examples']) fs.cpSync(path.join(repoRoot, entry), path.join(root, entry), { recursive: true });
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
    const run = pipec(['build', 'dsl-examples/syslog.ts', '--out', 'out'], root);
    assert.equal(run.status, 0, run.stderr);
    const dir = path.join(root, 'out/syslog');
    const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
    return Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
  });
  assert.deepEqual(Object.keys(copies[0]), Object.keys(copies[1]));
  for (const name of Object.keys(copies[0])) assert.ok(copies[0][name] === copies[1][name], `${name} differs between builds`);
  // The build folders' names appear nowhere; /tmp/ is looked for only where no bundled library could write it.
  // (Booleans, not assert.doesNotMatch: a failure message holding a bundle of megabytes stalls the test runner.)
  for (const name of Object.keys(copies[0])) assert.ok(!/pipec-det-/.test(copies[0][name]), `no absolute paths in ${name}`);
  // A source map's paths, not its sourcesContent: a bundled library's comments may mention /tmp/ (ioredis: a socket path).
  const mapPaths = (text: string) => { const map = JSON.parse(text) as { sources: string[]; sourceRoot?: string }; return [map.sourceRoot ?? '', ...map.sources].join('\n'); };
  for (const name of ['local.mjs', 'local.mjs.map', 'Dockerfile', 'Procfile', 'k8s/stages.yaml', 'k8s/config.yaml', 'topics.json']) {
    const text = name.endsWith('.map') ? mapPaths(copies[0][name]) : copies[0][name];
    assert.ok(!/\/tmp\//.test(text), `no absolute paths in ${name}`);
  }
});

test('build compares with the manifest in the output folder: a removed stateful operator fails the build, --allow-state-loss lets it through', () => {
  const root = tempDir('pipec-upgrade-');
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
  const write = (sum: boolean) => fs.writeFileSync(path.join(root, 'job.ts'), `import { pipeline, collection, print } from 'pipec';

export default pipeline('job', (p) => {
  const words = p.source(collection(['a', 'b', 'a'])).map((w) => ({ w, n: 1 }));
  words.keyBy((x) => x.w).sum('n').uid('counts').sink(print());
${sum ? "  words.keyBy((x) => x.w).sum('n').sink(print('again'));\n" : ''}});
`);
  write(true);
  const first = pipec(['build', 'job.ts'], root);
  assert.equal(first.status, 0, first.stderr);
  assert.doesNotMatch(first.stderr, /state: checked/, 'nothing to compare with yet');
  const deployed = path.join(root, 'deployed.json');
  fs.copyFileSync(path.join(root, 'dist/job/manifest.json'), deployed);
  const again = pipec(['build', 'job.ts'], root);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /\n {2}state: checked against dist\/job\/manifest\.json\n/);

  write(false);
  const removed = pipec(['build', 'job.ts'], root);
  assert.equal(removed.status, 1);
  assert.equal(removed.stderr, `job.ts:3:16 - error PC1131: The state of the previous version's sum(n) at line 6 (uid 'sum(n)#2': rolling value) would be dropped: no operator has this uid now.

3 export default pipeline('job', (p) => {
                 ~~~~~~~~

  Give the operator that takes its place .uid('sum(n)#2') to keep its state, or build with --allow-state-loss to start without it.

Found 1 error.
`);
  assert.equal(JSON.parse(fs.readFileSync(path.join(root, 'dist/job/manifest.json'), 'utf8')).nodes.length, 8, 'the failed build wrote nothing');
  const allowed = pipec(['build', 'job.ts', '--allow-state-loss', '--json'], root);
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.deepEqual(JSON.parse(allowed.stdout).diagnostics.map((d: { code: string }) => d.code), ['PC2131']);
  // check compares only when told, with the manifest of the deployed build.
  assert.equal(pipec(['check', 'job.ts'], root).status, 0);
  const checked = pipec(['check', 'job.ts', '--previous', 'deployed.json', '--json'], root);
  assert.equal(checked.status, 1);
  assert.deepEqual(JSON.parse(checked.stdout).diagnostics.map((d: { code: string; line: number }) => [d.code, d.line]), [['PC1131', 3]]);
  assert.match(pipec(['explain', 'PC1131'], root).stdout, /^PC1131 state_dropped\n/);
});
