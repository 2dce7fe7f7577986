// Golden samples: test/samples/<case>/pipeline.ts and every dsl-examples/*.ts
// in; the plan, the generated stage code, the diagnostics and (for samples)
// the output of local.mjs out, compared with _expected/. Refresh with
// UPDATE_SNAPSHOTS=1, narrow with FILTER=<name>.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { formatDiagnostics } from '../compiler/diagnostics/format.ts';
import { planText } from '../compiler/graph.ts';
import { buildFile, isolate, repoRoot, runNode } from './helpers.ts';

const update = process.env.UPDATE_SNAPSHOTS === '1';
const filter = process.env.FILTER;

interface Case { name: string; file: string; expectedDir: string; run: boolean }

const samples: Case[] = fs.readdirSync(path.join(repoRoot, 'test/samples')).sort().map((name) => ({
  name, file: `test/samples/${name}/pipeline.ts`, expectedDir: path.join(repoRoot, 'test/samples', name, '_expected'), run: true,
}));
const examples: Case[] = fs.readdirSync(path.join(repoRoot, 'dsl-examples')).filter((f) => f.endsWith('.ts') && fs.readFileSync(path.join(repoRoot, 'dsl-examples', f), 'utf8').includes('export default pipeline(')).sort().map((f) => ({
  name: `dsl-examples/${f}`, file: `dsl-examples/${f}`, expectedDir: path.join(repoRoot, 'test/samples/_examples', path.basename(f, '.ts')), run: false,
}));

function compare(dir: string, actual: Record<string, string>): void {
  if (update) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(actual)) fs.writeFileSync(path.join(dir, name), text);
    return;
  }
  assert.ok(fs.existsSync(dir), `no expected output in ${path.relative(repoRoot, dir)}: run with UPDATE_SNAPSHOTS=1 and review it`);
  const expectedNames = fs.readdirSync(dir).sort();
  assert.deepEqual(Object.keys(actual).sort(), expectedNames, 'the set of output files');
  for (const name of expectedNames) assert.equal(actual[name], fs.readFileSync(path.join(dir, name), 'utf8'), `${path.relative(repoRoot, dir)}/${name}`);
}

for (const c of [...samples.filter((s) => !s.name.startsWith('_')), ...examples]) {
  if (filter && !c.name.includes(filter)) continue;
  test(c.name, async () => {
    // _config.ts may set environment variables for the build (a short PIPEC_PLAN_TIMEOUT, say), or say not to run
    // the job (run: false, for a sample that needs a server).
    const configFile = path.join(repoRoot, path.dirname(c.file), '_config.ts');
    const config = fs.existsSync(configFile) ? ((await import(configFile)) as { default: { env?: Record<string, string>; run?: boolean } }).default : {};
    const savedEnv = { ...process.env };
    Object.assign(process.env, config.env);
    const result = await buildFile(c.file).finally(() => { process.env = savedEnv; });
    const actual: Record<string, string> = {};
    if (result.diagnostics.length) actual['diagnostics.txt'] = formatDiagnostics(result.diagnostics);
    if (result.plan && result.physical && result.emitted) {
      actual['plan.txt'] = planText(result.plan, result.physical);
      for (const stage of result.emitted.stages) actual[stage.fileName] = stage.code;
      if (c.run && config.run !== false) {
        const dir = isolate(result.outDir!);
        const run = runNode(path.join(dir, 'local.mjs'));
        assert.equal(run.status, 0, run.stderr);
        actual['output.txt'] = run.stdout;
      }
    }
    compare(c.expectedDir, actual);
  });
}
