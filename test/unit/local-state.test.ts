// A stage worker's local cache (runtime/internal/distributed/local-state.ts):
// a task's local state log gives back the state of its longest valid prefix
// and the changelog offset it is exact at, and refuses itself when it cannot
// be trusted; member files name the members of processes that are gone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import v8 from 'node:v8';
import { LOCAL_STATE_MAX_AGE_MS, LocalMembers, LocalTaskStore } from '../../runtime/internal/distributed/local-state.ts';
import { RestoredState } from '../../runtime/internal/distributed/task-state.ts';
import { createLogger } from '../../runtime/internal/log.ts';

process.env.PIPEC_LOG_LEVEL ??= 'silent';
const log = createLogger('test', 'local-state');
const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-local-state-'));
// Changelog records of one state table, in the one-record-per-entry format RestoredState still reads.
const key = (k: string) => `s\u0000op\u0000rolling\u0000s${k}`;
const entry = (k: string, n: number | null) => ({ key: key(k), value: n === null ? null : v8.serialize([k, n]) });
const read = (state: RestoredState) => Object.fromEntries(state.table('op', 'rolling') ?? []);

function snapshot(entries: Record<string, number>): RestoredState {
  const state = new RestoredState();
  for (const [k, n] of Object.entries(entries)) { const r = entry(k, n); state.add(r.key, r.value); }
  return state;
}

test('a snapshot and appended checkpoints load back as the latest value of each key, exact at the last offset', () => {
  const d = dir();
  const store = new LocalTaskStore(d, 0, log);
  store.rewrite(snapshot({ a: 1, b: 2 }), 3, 40n);
  store.append(4, 45n, [entry('a', 10), entry('c', 3)]);
  store.append(5, 52n, [entry('b', null)]);
  store.close();
  const loaded = new LocalTaskStore(d, 0, log).load();
  assert.ok(loaded);
  assert.equal(loaded.next, 52n);
  assert.equal(loaded.checkpoint, 5);
  assert.deepEqual(read(loaded.state), { a: 10, c: 3 });
});

test('a frame torn by a crash is left out: the state and offset of the frame before', () => {
  const d = dir();
  const store = new LocalTaskStore(d, 1, log);
  store.rewrite(snapshot({ a: 1 }), 1, 10n);
  store.append(2, 20n, [entry('a', 2)]);
  store.close();
  const file = path.join(d, 'task-1.log');
  fs.truncateSync(file, fs.statSync(file).size - 3);
  const loaded = new LocalTaskStore(d, 1, log).load();
  assert.ok(loaded);
  assert.equal(loaded.next, 10n);
  assert.deepEqual(read(loaded.state), { a: 1 });
  // The torn bytes are cut off, so the next append follows the valid prefix.
  const again = new LocalTaskStore(d, 1, log);
  again.load();
  again.append(2, 21n, [entry('a', 3)]);
  again.close();
  assert.deepEqual(read(new LocalTaskStore(d, 1, log).load()!.state), { a: 3 });
});

test('a late append of an older checkpoint (a fenced owner) makes the log untrusted', () => {
  const d = dir();
  const newOwner = new LocalTaskStore(d, 2, log);
  newOwner.rewrite(snapshot({ a: 1 }), 7, 70n);
  newOwner.close();
  // The old owner's store, still open on the same file, appends the checkpoint it committed before it was fenced.
  const oldOwner = new LocalTaskStore(d, 2, log);
  oldOwner.append(7, 69n, [entry('a', 0)]);
  oldOwner.close();
  assert.equal(new LocalTaskStore(d, 2, log).load(), null);
});

test('a log whose last frame is older than the changelog keeps tombstones is not used', (t) => {
  const d = dir();
  const store = new LocalTaskStore(d, 3, log);
  const now = Date.now();
  t.mock.method(Date, 'now', () => now - LOCAL_STATE_MAX_AGE_MS - 1000);
  store.rewrite(snapshot({ a: 1 }), 1, 5n);
  store.close();
  t.mock.restoreAll();
  assert.equal(new LocalTaskStore(d, 3, log).load(), null);
});

test('appending a checkpoint that does not follow the last one removes the log', () => {
  const d = dir();
  const store = new LocalTaskStore(d, 4, log);
  store.rewrite(snapshot({ a: 1 }), 5, 50n);
  store.append(5, 55n, [entry('a', 2)]);
  assert.equal(fs.existsSync(path.join(d, 'task-4.log')), false);
  assert.equal(new LocalTaskStore(d, 4, log).load(), null);
});

test('member files name the members of worker processes that are gone, and only those', () => {
  const d = dir();
  const members = new LocalMembers(d, log);
  fs.mkdirSync(path.join(d, 'members'), { recursive: true });
  const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  fs.writeFileSync(path.join(d, 'members', `${exited}.member`), 'dead-member');
  fs.writeFileSync(path.join(d, 'members', `${process.ppid}.member`), 'live-member');
  // A restarted container's first process has the pid of the one before it.
  fs.writeFileSync(path.join(d, 'members', `${process.pid}.member`), 'previous-incarnation');
  assert.deepEqual(members.departed().sort(), ['dead-member', 'previous-incarnation']);
  assert.deepEqual(fs.readdirSync(path.join(d, 'members')), [`${process.ppid}.member`]);
  members.record('me');
  assert.equal(fs.readFileSync(path.join(d, 'members', `${process.pid}.member`), 'utf8'), 'me');
  members.forget();
  assert.deepEqual(fs.readdirSync(path.join(d, 'members')), [`${process.ppid}.member`]);
});

test('a checkpoint that wrote a full state replaces the log: it stays the size of the state, and loads back exact', () => {
  const d = dir();
  const store = new LocalTaskStore(d, 5, log);
  store.rewrite(snapshot({ a: 1 }), 1, 10n);
  for (let c = 2; c < 40; c++) store.append(c, BigInt(10 + c), [entry('a', c), entry(`k${c}`, c)]);
  const file = path.join(d, 'task-5.log');
  const grown = fs.statSync(file).size;
  // The full state, as a materializing checkpoint writes it: its fragments, tombstones, the meta record.
  const full = snapshot({ a: 40, k2: 2 }).toRecords(40).filter((r) => r.key !== 'meta');
  assert.ok(full[0].key.startsWith('f\u0000'));
  store.append(40, 60n, [...full, entry('k3', null)]);
  store.close();
  assert.ok(fs.statSync(file).size < grown / 4, `${fs.statSync(file).size} bytes after the full state, ${grown} before`);
  const loaded = new LocalTaskStore(d, 5, log).load();
  assert.ok(loaded);
  assert.equal(loaded.next, 60n);
  assert.deepEqual(read(loaded.state), { a: 40, k2: 2 });
});
