// Task checkpoints as changelog records (runtime/internal/distributed/task-state.ts):
// tracked backends and timer services report what changed since the last
// checkpoint; a changelog read back (deltas in order, full states replacing
// what came before, torn blobs ignored) restores the same state, timers and
// watermarks into a fresh task, also after Kafka's compaction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedStateBackend } from '../../runtime/internal/state/backend.ts';
import { InternalTimerService } from '../../runtime/internal/state/timers.ts';
import { WatermarkCoordinator } from '../../runtime/internal/watermarks.ts';
import v8 from 'node:v8';
import { ChangelogWriter, FRAGMENT_BYTES, MATERIALIZE_RATIO, RestoredState, metaRecord, type ChangelogRecord, type TaskMeta } from '../../runtime/internal/distributed/task-state.ts';
import type { InstanceRuntime } from '../../runtime/internal/local/job.ts';
import type { Manifest } from '../../runtime/internal/manifest.ts';

const manifest = { nodes: [{ uid: 'source' }, { uid: 'sum(n)' }, { uid: 'window' }] } as unknown as Manifest;
const topology = { origins: ['edge:e'], consumers: [{ node: 2, origins: ['edge:e'] }], outputs: [] };

function runtime(): InstanceRuntime & { watermarks: number[] } {
  const watermarks: number[] = [];
  const coordinator = new WatermarkCoordinator(topology, () => undefined);
  coordinator.setChannels('e', 2);
  coordinator.register(2, (wm) => watermarks.push(wm));
  return { coordinator, backends: new Map([[1, new KeyedStateBackend(true)], [2, new KeyedStateBackend(true)]]), timers: new Map([[2, new InternalTimerService(true)]]), generators: new Map(), watermarks };
}

test('a tracked backend reports the keys touched since the last checkpoint, deleted ones as undefined', () => {
  const backend = new KeyedStateBackend(true);
  const table = backend.table<{ n: number }>('rolling');
  table.set('a', { n: 1 });
  table.set(1, { n: 2 });
  const got = table.get('a')!;
  got.n = 5; // changed in place after get: still written
  assert.deepEqual(backend.takeChanges().map((c) => [c.key, c.value]), [['a', { n: 5 }], [1, { n: 2 }]]);
  assert.deepEqual(backend.takeChanges(), [], 'nothing changed since');
  table.delete(1);
  assert.deepEqual(backend.takeChanges(), [{ table: 'rolling', key: 1, value: undefined }]);
  const untracked = new KeyedStateBackend();
  untracked.table('rolling').set('a', 1);
  assert.deepEqual(untracked.takeChanges(), []);
});

test('a tracked timer service reports added, deleted and fired timers', () => {
  const timers = new InternalTimerService(true);
  timers.register('event', 'a', 10);
  timers.register('event', 'b', 20);
  timers.register('processing', 'a', 5);
  assert.equal(timers.takeChanges().filter((c) => c.live).length, 3);
  timers.advance('event', 15, () => undefined);
  timers.delete('processing', 'a', 5);
  assert.deepEqual(timers.takeChanges().map((c) => `${c.domain}:${String(c.key)}@${c.timestamp}:${c.live}`).sort(), ['event:a@10:false', 'processing:a@5:false']);
});

test('a changelog read back restores state, timers and watermarks; later records win and tombstones delete', () => {
  const before = runtime();
  const sums = before.backends.get(1)!.table('rolling');
  sums.set('a', { n: 1 }); sums.set('b', { n: 2 }); sums.set(3, new Map([[1, new Date(5)]]));
  before.backends.get(2)!.table('window').set('a', { panes: new Map([[0, 4]]), starts: [0], timer: 9 });
  before.timers.get(2)!.register('event', 'a', 9);
  before.timers.get(2)!.register('processing', 'a', 1);
  before.coordinator.onEdge('e', 0, 3);
  before.coordinator.onEdge('e', 1, 'idle');
  const meta = (n: number): TaskMeta => ({ version: 1, checkpoint: n, positions: { t: String(n * 10) }, partitionWatermarks: {}, coordinator: before.coordinator.snapshot(), generators: [], ended: false });
  const writer = new ChangelogWriter(null);
  const log = [...writer.cut(before, manifest, 1), metaRecord(meta(1))];
  sums.set('a', { n: 7 }); sums.delete('b');
  before.timers.get(2)!.delete('processing', 'a', 1);
  before.timers.get(2)!.register('processing', 'a', 2);
  log.push(...writer.cut(before, manifest, 2), metaRecord(meta(2)));
  assert.equal(log.length, 4, 'one delta record per checkpoint, and the meta record');

  const restored = new RestoredState();
  for (const r of log) restored.add(r.key, r.value);
  assert.equal(restored.meta!.checkpoint, 2);
  assert.deepEqual(restored.meta!.positions, { t: '20' });
  const after = runtime();
  let rescheduled = 0;
  after.timers.get(2)!.onRestored(() => rescheduled++);
  const applied = restored.applyTo(after, manifest, [0, 1, 2]);
  assert.deepEqual(applied, { entries: 3, timers: 2, dropped: 0 });
  assert.deepEqual([...after.backends.get(1)!.table('rolling')], [['a', { n: 7 }], [3, new Map([[1, new Date(5)]])]]);
  assert.deepEqual(after.backends.get(2)!.table('window').get('a'), { panes: new Map([[0, 4]]), starts: [0], timer: 9 });
  assert.ok(after.timers.get(2)!.has('event', 'a', 9) && after.timers.get(2)!.has('processing', 'a', 2) && !after.timers.get(2)!.has('processing', 'a', 1));
  assert.equal(rescheduled, 1, 'processing-time drivers are told to schedule restored timers');
  assert.deepEqual(after.watermarks, [3], 'the window operator is told its restored watermark');
  assert.equal(after.coordinator.watermarkOf(2), 3);
  assert.deepEqual(after.backends.get(1)!.takeChanges(), [], 'restoring is not a change');
  // State of an operator the new build does not have is left out.
  assert.equal(restored.applyTo(runtime(), { nodes: [{ uid: 'source' }, { uid: 'other' }, { uid: 'window' }] } as unknown as Manifest, [0, 1, 2]).dropped, 2);
});

test('when every input channel goes idle, the largest watermark among them goes downstream first (Flink\'s StatusWatermarkValve)', () => {
  const seen: number[] = [];
  const coordinator = new WatermarkCoordinator(topology, () => undefined);
  coordinator.setChannels('e', 2);
  coordinator.register(2, (wm) => seen.push(wm));
  coordinator.onEdge('e', 0, 25);
  assert.deepEqual(seen, [], 'channel 1 has not said anything yet');
  coordinator.onEdge('e', 0, 'idle');
  coordinator.onEdge('e', 1, 'idle');
  assert.deepEqual(seen, [25], 'the windows up to 25 fire even though both channels are idle now');
});

/** The runtime of a task with one keyed operator (node 1) holding `keys` entries. */
function filled(keys: number): InstanceRuntime & { watermarks: number[] } {
  const rt = runtime();
  const table = rt.backends.get(1)!.table<{ n: number }>('rolling');
  for (let k = 0; k < keys; k++) table.set(`k${k}`, { n: k });
  return rt;
}

/** What Kafka's compaction leaves of a partition: the last record of each key, in offset order, tombstoned keys gone. */
function compacted(log: ChangelogRecord[]): ChangelogRecord[] {
  const last = new Map<string, number>();
  log.forEach((r, i) => last.set(r.key, i));
  return log.filter((r, i) => last.get(r.key) === i && r.value !== null);
}

function restore(log: ChangelogRecord[]): { rt: InstanceRuntime; state: RestoredState } {
  const state = new RestoredState();
  for (const r of log) state.add(r.key, r.value);
  const rt = runtime();
  state.applyTo(rt, manifest, [0, 1, 2]);
  return { rt, state };
}

test('once the deltas outgrow the state, a checkpoint writes a full state and tombstones what it replaces; compaction then keeps about one state', () => {
  const keys = 20_000;
  const rt = filled(keys);
  const table = rt.backends.get(1)!.table<{ n: number }>('rolling');
  const writer = new ChangelogWriter(null);
  const log: ChangelogRecord[] = [];
  let fulls = 0;
  for (let checkpoint = 1; checkpoint <= 12; checkpoint++) {
    // Every checkpoint touches half the keys.
    for (let k = (checkpoint % 2) * (keys / 2); k < ((checkpoint % 2) + 1) * (keys / 2); k++) table.get(`k${k}`)!.n += checkpoint;
    const records = writer.cut(rt, manifest, checkpoint);
    if (records.some((r) => r.key.startsWith('f'))) fulls++;
    log.push(...records);
  }
  assert.ok(fulls >= 2, `full states were written (${fulls})`);
  const expected = [...table].sort();
  for (const kept of [log, compacted(log)]) {
    const { rt: back } = restore(kept);
    assert.deepEqual([...back.backends.get(1)!.table('rolling')].sort(), expected);
  }
  // After compaction, what a restore reads is bounded by the materialization rule, not by the number of checkpoints.
  const bytes = (records: ChangelogRecord[]) => records.reduce((n, r) => n + (r.value?.length ?? 0), 0);
  const lastFull = log.filter((r) => r.key.startsWith('f'));
  const fullBytes = bytes(lastFull.filter((r) => r.key.split('\u0000')[1] === lastFull[lastFull.length - 1].key.split('\u0000')[1]));
  assert.ok(bytes(compacted(log)) <= (MATERIALIZE_RATIO + 1) * fullBytes * 1.2, `compacted changelog (${bytes(compacted(log))} bytes) stays near the size of the state (${fullBytes})`);
  assert.ok(bytes(log) > 3 * bytes(compacted(log)), 'compaction dropped the superseded deltas');
  // A writer that continues from the restored changelog keeps the bookkeeping: its next full state tombstones every live blob.
  const { state } = restore(log);
  assert.ok(state.liveKeys.size > 0 && [...state.liveKeys].every((k) => log.some((r) => r.key === k && r.value !== null)));
});

test('a delta larger than a fragment is cut into records of at most FRAGMENT_BYTES and read back whole', () => {
  const rt = filled(60_000);
  const records = new ChangelogWriter(null).cut(rt, manifest, 1);
  assert.ok(records.length > 1 && records.every((r) => r.value!.length <= FRAGMENT_BYTES));
  const { rt: back } = restore(records);
  assert.equal(back.backends.get(1)!.table('rolling').size, 60_000);
});

test('a blob torn by a crash (its last fragments missing) is ignored; the state before it stays', () => {
  const rt = filled(40_000);
  const writer = new ChangelogWriter(null, { materialize: false });
  const first = writer.cut(rt, manifest, 1);
  rt.backends.get(1)!.table<{ n: number }>('rolling').get('k1')!.n = -1;
  for (let k = 2; k < 40_000; k++) rt.backends.get(1)!.table<{ n: number }>('rolling').get(`k${k}`);
  const second = writer.cut(rt, manifest, 2);
  assert.ok(second.length > 1);
  const { rt: back } = restore([...first, ...second.slice(0, -1)]);
  assert.deepEqual(back.backends.get(1)!.table('rolling').get('k1'), { n: 1 });
});

test('changelogs of the one-record-per-entry format are read: entries, timers and their tombstones', () => {
  const state = new RestoredState();
  const rec = (key: string, value: unknown) => state.add(key, value === null ? null : v8.serialize(value));
  rec('s\u0000sum(n)\u0000rolling\u0000sa', ['a', { n: 1 }]);
  rec('s\u0000sum(n)\u0000rolling\u0000n2', [2, { n: 2 }]);
  rec('s\u0000sum(n)\u0000rolling\u0000n2', null);
  rec('t\u0000window\u0000event\u0000sa\u00009', ['a', 9]);
  rec('t\u0000window\u0000event\u0000sa\u000011', ['a', 11]);
  rec('t\u0000window\u0000event\u0000sa\u00009', null);
  const rt = runtime();
  assert.deepEqual(state.applyTo(rt, manifest, [0, 1, 2]), { entries: 1, timers: 1, dropped: 0 });
  assert.deepEqual([...rt.backends.get(1)!.table('rolling')], [['a', { n: 1 }]]);
  assert.ok(rt.timers.get(2)!.has('event', 'a', 11) && !rt.timers.get(2)!.has('event', 'a', 9));
  // The next full state supersedes them: they are tombstoned.
  const writer = new ChangelogWriter(state);
  const rt2 = filled(20_000);
  let records: ChangelogRecord[] = [];
  for (let checkpoint = 2; !records.some((r) => r.key.startsWith('f')); checkpoint++) {
    for (const key of rt2.backends.get(1)!.table('rolling').keys()) rt2.backends.get(1)!.table('rolling').get(key);
    records = writer.cut(rt2, manifest, checkpoint);
  }
  assert.deepEqual(records.filter((r) => r.value === null && r.key.startsWith('s\u0000')).map((r) => r.key), ['s\u0000sum(n)\u0000rolling\u0000sa']);
});

test('a checkpoint whose changes hold every entry writes them as a full state, and compaction keeps only it', () => {
  const rt = filled(3000);
  const table = rt.backends.get(1)!.table<{ n: number }>('rolling');
  rt.timers.get(2)!.register('event', 'k1', 50);
  const writer = new ChangelogWriter(null);
  const log: ChangelogRecord[] = [...writer.cut(rt, manifest, 1)];
  assert.ok(log[0].key.startsWith('f\u0000'), 'the first checkpoint holds every entry');
  // Some keys change: a delta.
  table.get('k5')!.n = -5;
  log.push(...writer.cut(rt, manifest, 2));
  assert.ok(log[log.length - 1].key.startsWith('d\u0000'));
  // Every key changes, one is deleted: a full state again, tombstoning both blobs before it.
  for (const key of [...table.keys()]) table.get(key)!.n += 1;
  table.delete('k7');
  const third = writer.cut(rt, manifest, 3);
  assert.ok(third[0].key.startsWith('f\u0000'));
  assert.equal(third.filter((r) => r.value === null).length, 2);
  log.push(...third);
  const { rt: back } = restore(compacted(log));
  assert.deepEqual([...back.backends.get(1)!.table('rolling')].sort(), [...table].sort());
  assert.equal(back.backends.get(1)!.table('rolling').has('k7'), false);
  assert.ok(back.timers.get(2)!.has('event', 'k1', 50), 'the full state holds the live timers, changed or not');
  assert.equal(compacted(log).length, third.filter((r) => r.value !== null).length);
});
