// The streaming file sink's two-phase commit (connectors/file/runtime.ts):
// a checkpoint stages what was written, completion appends it to the target,
// and a restart repairs the target to its last checkpoint's length, whatever
// point a crash interrupted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { FileLinesSink } from '../../runtime/internal/connectors/file/runtime.ts';
import type { SinkContext } from '../../runtime/internal/connectors/types.ts';
import { createLogger } from '../../runtime/internal/log.ts';

process.env.PIPEC_LOG_LEVEL ??= 'silent';
const log = createLogger('test', 'file-sink');

function sink(target: string): FileLinesSink {
  const ctx: SinkContext = { pipeline: 'test', nodeId: 1, options: { path: target }, parallelism: 1, log };
  return new FileLinesSink(ctx);
}
const targetIn = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-file-sink-')), 'out.txt');
const read = (file: string) => fs.readFileSync(file, 'utf8');

/** A sink with `a`, `b` published and `c` staged by a checkpoint that was made durable but not yet published. */
async function crashedBeforePublishing(target: string): Promise<unknown> {
  const s = sink(target);
  s.initializeState(undefined);
  s.write('a'); s.write('b');
  const first = s.snapshotState();
  await s.flush();
  s.notifyCheckpointComplete(first);
  assert.equal(read(target), 'a\nb\n');
  s.write('c');
  const second = s.snapshotState();
  await s.flush();
  s.write('d'); // after the cut: processed again after a restart
  await s.flush();
  assert.equal(read(target), 'a\nb\n', 'nothing is published before its checkpoint completes');
  return second;
}

test('a restart finishes publishing a checkpoint that a crash interrupted, and drops what came after its cut', async () => {
  const target = targetIn();
  const state = await crashedBeforePublishing(target);
  fs.appendFileSync(target, 'c'); // the crash cut the append after one byte
  const restarted = sink(target);
  restarted.initializeState(state);
  assert.equal(read(target), 'a\nb\nc\n');
  assert.equal(read(`${target}.inprogress`), '');
  restarted.write('d');
  const next = restarted.snapshotState();
  await restarted.flush();
  restarted.notifyCheckpointComplete(next);
  assert.equal(read(target), 'a\nb\nc\nd\n');
});

test('a restart from a checkpoint that never started publishing publishes all of it', async () => {
  const target = targetIn();
  const state = await crashedBeforePublishing(target);
  sink(target).initializeState(state);
  assert.equal(read(target), 'a\nb\nc\n');
});

test('bytes beyond the checkpoint are cut off; a target shorter than the checkpoint can repair is an error that says what to do', async () => {
  const target = targetIn();
  const state = await crashedBeforePublishing(target);
  fs.appendFileSync(target, 'c\nstray\n');
  sink(target).initializeState(state);
  assert.equal(read(target), 'a\nb\nc\n');
  fs.writeFileSync(target, '');
  assert.throws(() => sink(target).initializeState(state), /shorter \(0 bytes\) than its last checkpoint can repair \(6 bytes\).*Delete the checkpoint folder/);
});

test('without checkpoints the sink writes a temporary file and replaces the target on close', async () => {
  const target = targetIn();
  fs.writeFileSync(target, 'old\n');
  const s = sink(target);
  s.write('x');
  assert.equal(read(target), 'old\n');
  await s.close();
  assert.equal(read(target), 'x\n');
  assert.deepEqual(fs.readdirSync(path.dirname(target)), ['out.txt']);
});
