// The IntervalJoinOperator on its own: its buffers and cleanup timers survive a
// snapshot and restore through the state backend and timer service (as a
// checkpoint does), and state restored under other bounds (an upgrade that
// changed them) is still cleaned up as the watermark passes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IntervalJoinSpec } from '../../runtime/api/graph.ts';
import { IntervalJoinOperator } from '../../runtime/internal/operators/interval-join.ts';
import { KeyedStateBackend } from '../../runtime/internal/state/backend.ts';
import { InternalTimerService } from '../../runtime/internal/state/timers.ts';

function operator(lower: number, upper: number, backend = new KeyedStateBackend(), timers = new InternalTimerService()) {
  const out: string[] = [];
  const spec: IntervalJoinSpec = { lowerBound: lower, upperBound: upper, lowerBoundExclusive: false, upperBoundExclusive: false };
  const join = new IntervalJoinOperator({
    nodeId: 1, spec, copies: [false, false], backend, timers,
    metrics: { counter: () => ({ inc: () => undefined }), gauge: () => ({ set: () => undefined, inc: () => undefined, dec: () => undefined }), histogram: () => ({ observe: () => undefined }) },
    fn: { processElement: (l: unknown, r: unknown, ctx) => ctx.emit(`${l},${r}@${ctx.timestamp}`) },
    emit: (value) => out.push(String(value)), output: () => undefined, late: () => out.push('late'),
  });
  return { join, out, backend, timers };
}

test('buffers and timers restored from a snapshot join later elements as if nothing happened, and are cleaned up', () => {
  const first = operator(-2, 1);
  first.join.processElement1('k', 'o0', 0);
  first.join.processElement1('k', 'o3', 3);
  first.join.processElement2('k', 'g1', 1);
  first.join.onWatermark(1);
  const restored = operator(-2, 1);
  restored.backend.restore(first.backend.snapshot());
  restored.timers.restore(first.timers.snapshot());
  restored.join.onWatermark(1);
  restored.join.processElement2('k', 'g4', 4);
  assert.deepEqual(first.out, ['o0,g1@1', 'o3,g1@3']);
  assert.deepEqual(restored.out, ['o3,g4@4']);
  restored.join.onWatermark(10);
  assert.deepEqual([restored.backend.size, restored.timers.size], [0, 0]);
});

test('state restored under wider bounds is cleaned up by them: no bucket is left behind', () => {
  const before = operator(-2, 1);
  for (const ts of [0, 5, 9]) before.join.processElement1(`k${ts}`, `o${ts}`, ts);
  for (const ts of [1, 6]) before.join.processElement2(`k${ts - 1}`, `g${ts}`, ts);
  const after = operator(-10, 20);
  after.backend.restore(before.backend.snapshot());
  after.timers.restore(before.timers.snapshot());
  after.join.onWatermark(15);
  assert.ok(after.backend.size > 0, 'the new bounds keep left elements until their ts + 20');
  after.join.onWatermark(100);
  assert.deepEqual([after.backend.size, after.timers.size], [0, 0]);
});
