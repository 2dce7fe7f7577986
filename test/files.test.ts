// Files are safe: CSV sources skip a byte order mark and read each column as
// the declared type of its field; in a batch job, file sinks write a temporary
// file and rename it over the target only when the job ends normally, so a
// failed or killed job never leaves a half-written file under the final name;
// in a streaming job they publish on checkpoints, exactly-once across kill -9.
// (PC1101/PC1102, sinks that would overwrite an input or each other, are golden samples.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, test } from 'node:test';
import { buildFile, isolate, lines, runNode, tempDir } from './helpers.ts';

let accounts: string;
let failing: string;
let ticks: string;

/** Builds a fixture of test/fixtures/files/ and returns its local.mjs, copied away from node_modules. */
async function bundle(name: string): Promise<string> {
  const result = await buildFile(`test/fixtures/files/${name}.ts`);
  assert.deepEqual(result.diagnostics, []);
  return path.join(isolate(result.outDir!), 'local.mjs');
}

before(async () => {
  [accounts, failing, ticks] = [await bundle('accounts'), await bundle('failing'), await bundle('ticks')];
});

const HEADER = 'id,name,balance,active,limit,big';

function workspace(accountRows: string[], options: { bom?: boolean } = {}): string {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'in'));
  fs.writeFileSync(path.join(dir, 'in/accounts.csv'), (options.bom ? '\uFEFF' : '') + [HEADER, ...accountRows].join('\r\n') + '\r\n');
  fs.writeFileSync(path.join(dir, 'in/untyped.csv'), '\uFEFFid,amount\n00123,4.50\n');
  return dir;
}

function jsonLines(file: string): any[] {
  return lines(fs.readFileSync(file, 'utf8')).map((l) => JSON.parse(l));
}

/** Files in a folder whose name marks them as a sink's temporary output. */
function temporaryFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')) : [];
}

test('a CSV source reads each column as its declared type, after a byte order mark', () => {
  const dir = workspace(['00123,ann,00042.50,true,,12345678901234567890', '7,"bob, jr",-3,FALSE,10,0'], { bom: true });
  const run = runNode(accounts, [], { cwd: dir });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(jsonLines(path.join(dir, 'out/accounts.jsonl')), [
    { id: '00123', name: 'ann', balance: 42.5, active: true, big: '12345678901234567890', types: ['string', 'number', 'boolean', 'undefined', 'bigint'] },
    { id: '7', name: 'bob, jr', balance: -3, active: false, limit: 10, big: '0', types: ['string', 'number', 'boolean', 'number', 'bigint'] },
  ]);
  // A source whose record type is `any` keeps casting numeric-looking cells; the BOM is gone from the first column's name.
  assert.deepEqual(jsonLines(path.join(dir, 'out/untyped.jsonl')), [{ id: 123, amount: 4.5 }]);
  assert.deepEqual(jsonLines(path.join(dir, 'out/default.jsonl')), [{ id: '00123', amount: '4.50' }]);
  assert.equal(fs.existsSync(path.join(dir, 'orders.dead-letter.jsonl')), false);
});

test('a cell that is not a value of its declared type goes to the dead-letter file with the column and line', () => {
  const dir = workspace(['1,ann,12,true,,1', '2,bob,twelve,true,,1', '3,cid,,true,,1', '4,dan,5,maybe,,1', '5,eve,6,false,,1']);
  const run = runNode(accounts, [], { cwd: dir });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(jsonLines(path.join(dir, 'out/accounts.jsonl')).map((a) => a.name), ['ann', 'eve']);
  const dead = jsonLines(path.join(dir, 'out/accounts.dead-letter.jsonl'));
  assert.deepEqual(dead.map((d) => [d.origin, d.position, d.raw]), [
    ['in/accounts.csv', 3, '2,bob,twelve,true,,1'],
    ['in/accounts.csv', 4, '3,cid,,true,,1'],
    ['in/accounts.csv', 5, '4,dan,5,maybe,,1'],
  ]);
  assert.match(dead[0].reason, /^invalid CSV: column 'balance': 'twelve' is not a number/);
  assert.match(dead[1].reason, /column 'balance': the cell is empty/);
  assert.match(dead[2].reason, /column 'active': 'maybe' is not a boolean/);
});

test('a job that fails leaves no file under the final name, and an earlier output untouched', () => {
  // The generator throws after 6000 records of 50 bytes: the sink (which buffers 64 KiB) has written some of them by then.
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'out'));
  fs.writeFileSync(path.join(dir, 'out/records.txt'), 'previous run\n');
  const run = runNode(failing, [], { cwd: dir });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /the generator gave up at record 6000/);
  assert.equal(fs.readFileSync(path.join(dir, 'out/records.txt'), 'utf8'), 'previous run\n');
  assert.deepEqual(temporaryFiles(path.join(dir, 'out')), []);
});

test('a job that succeeds leaves exactly its output under the final name and no temporary file', () => {
  const good = Array.from({ length: 3000 }, (_, i) => `${i},name-${i},${i},true,,${i}`);
  const dir = workspace(good);
  fs.mkdirSync(path.join(dir, 'out'));
  fs.writeFileSync(path.join(dir, 'out/accounts.jsonl'), 'previous run\n');
  const run = runNode(accounts, [], { cwd: dir });
  assert.equal(run.status, 0, run.stderr);
  const written = jsonLines(path.join(dir, 'out/accounts.jsonl'));
  assert.deepEqual(written.map((a) => a.id), good.map((_, i) => String(i)));
  assert.deepEqual(written[2999], { id: '2999', name: 'name-2999', balance: 2999, active: true, big: '2999', types: ['string', 'number', 'boolean', 'undefined', 'bigint'] });
  assert.deepEqual(temporaryFiles(path.join(dir, 'out')), []);
});

/** Starts the ticks job (a streaming job: its file sink publishes on checkpoints), with the checkpoints of `dir`. */
function startTicks(dir: string) {
  const child = spawn(process.execPath, [ticks], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PIPEC_CHECKPOINT_DIR: path.join(dir, 'checkpoints') } });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

/** The target's lines once it has at least `count` (whole lines only: the file ends with a newline). */
async function publishedLines(file: string, count: number, job: { stderr: () => string }): Promise<string[]> {
  for (let i = 0; i < 400; i++) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (lines(text).length >= count) {
      assert.ok(text.endsWith('\n'), 'the target holds whole records only');
      return lines(text);
    }
    await sleep(50);
  }
  assert.fail(`${file} did not reach ${count} lines: ${job.stderr()}`);
}

const ticksUpTo = (n: number) => Array.from({ length: n }, (_, i) => `tick ${i}`);

test('a streaming file sink publishes on checkpoints: kill -9 leaves whole checkpoints in the target, a restart continues it, and after SIGTERM it holds every tick exactly once', async () => {
  const dir = tempDir();
  const target = path.join(dir, 'out/ticks.txt');
  const first = startTicks(dir);
  await publishedLines(target, 200, first);
  first.child.kill('SIGKILL');
  await first.exited;
  // Only completed checkpoints are in the target: a prefix of the ticks, nothing after the last one.
  const killed = lines(fs.readFileSync(target, 'utf8'));
  assert.deepEqual(killed, ticksUpTo(killed.length));
  assert.ok(fs.existsSync(`${target}.inprogress`), 'the output since the last checkpoint was in progress');

  const second = startTicks(dir);
  await publishedLines(target, killed.length + 400, second);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.stderr());
  // The restart resumed after the last checkpoint: no tick is missing or repeated, and SIGTERM published the rest.
  const output = lines(fs.readFileSync(target, 'utf8'));
  assert.ok(output.length >= killed.length + 400, `only ${output.length} lines`);
  assert.deepEqual(output, ticksUpTo(output.length));
  assert.equal(fs.readFileSync(`${target}.inprogress`, 'utf8'), '', 'nothing is left unpublished after SIGTERM');
  assert.deepEqual(temporaryFiles(path.join(dir, 'out')), []);
});

test('a new streaming run (no checkpoint) replaces what the target had', async () => {
  const dir = tempDir();
  const target = path.join(dir, 'out/ticks.txt');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, 'an earlier run\n');
  const job = startTicks(dir);
  await publishedLines(target, 50, job);
  job.child.kill('SIGTERM');
  assert.equal(await job.exited, 0, job.stderr());
  const output = lines(fs.readFileSync(target, 'utf8'));
  assert.deepEqual(output, ticksUpTo(output.length));
});
