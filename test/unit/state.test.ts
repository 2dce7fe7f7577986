// The keyed state backend and timer service snapshot and restore by key group,
// so a subset of groups can move to another worker: what a checkpoint store
// and a rebalance rely on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedStateBackend, keyGroupOf, MAX_PARALLELISM } from '../../runtime/internal/state/backend.ts';
import { keyedStateStore } from '../../runtime/internal/state/handles.ts';
import { InternalTimerService } from '../../runtime/internal/state/timers.ts';

test('key groups are stable and cover the range', () => {
  const groups = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const g = keyGroupOf(`user-${i}`);
    assert.equal(g, keyGroupOf(`user-${i}`));
    assert.ok(g >= 0 && g < MAX_PARALLELISM);
    groups.add(g);
  }
  assert.ok(groups.size > 120, 'keys spread over nearly all 128 groups');
});

test('state restored from the key groups of a snapshot holds exactly those keys, for every kind of state', () => {
  const source = new KeyedStateBackend();
  const store = keyedStateStore(source);
  const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
  for (const key of keys) {
    source.currentKey = key;
    store.value<number>('count').update(key.length);
    store.list<string>('seen').add(key);
    store.map<string, number>('m').put('x', 1);
  }
  const half = new Set(keys.map((k) => keyGroupOf(k)).filter((g) => g % 2 === 0));
  const target = new KeyedStateBackend();
  target.restore(source.snapshot(), half);
  const restored = keyedStateStore(target);
  for (const key of keys) {
    target.currentKey = key;
    const moved = half.has(keyGroupOf(key));
    assert.equal(restored.value<number>('count').value(), moved ? key.length : undefined, key);
    assert.deepEqual([...restored.list<string>('seen').get()], moved ? [key] : []);
    assert.equal(restored.map<string, number>('m').get('x'), moved ? 1 : undefined);
  }
  assert.equal(source.snapshot(half).entries.length, target.snapshot().entries.length);
});

test('timers snapshot and restore by key group, keeping order and deduplication', () => {
  const timers = new InternalTimerService();
  timers.register('event', 'a', 30);
  timers.register('event', 'b', 10);
  timers.register('event', 'a', 30);
  timers.register('processing', 'c', 5);
  const copy = new InternalTimerService();
  copy.restore(timers.snapshot());
  assert.equal(copy.size, 3);
  const fired: string[] = [];
  copy.advance('event', 100, (key, ts) => fired.push(`${String(key)}@${ts}`));
  assert.deepEqual(fired, ['b@10', 'a@30']);
  const onlyA = new InternalTimerService();
  onlyA.restore(timers.snapshot(new Set([keyGroupOf('a')])));
  const firedA: string[] = [];
  onlyA.advance('event', 100, (key, ts) => firedA.push(`${String(key)}@${ts}`));
  assert.deepEqual(firedA, ['a@30']);
});
