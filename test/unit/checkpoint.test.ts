// Task checkpoints as changelog records (runtime/internal/distributed/task-state.ts):
// tracked backends and timer services report what changed since the last
// checkpoint; a changelog read back (last record per key wins, tombstones
// delete) restores the same state, timers and watermarks into a fresh task.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedStateBackend } from '../../runtime/internal/state/backend.ts';
import { InternalTimerService } from '../../runtime/internal/state/timers.ts';
import { WatermarkCoordinator } from '../../runtime/internal/watermarks.ts';
import { RestoredState, metaRecord, takeStateChanges, type TaskMeta } from '../../runtime/internal/distributed/task-state.ts';
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
  const log = [...takeStateChanges(before, manifest), metaRecord(meta(1))];
  sums.set('a', { n: 7 }); sums.delete('b');
  log.push(...takeStateChanges(before, manifest), metaRecord(meta(2)));

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
  assert.ok(after.timers.get(2)!.has('event', 'a', 9) && after.timers.get(2)!.has('processing', 'a', 1));
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
