// The optimizer is a pure function of the LogicalPlan: chaining and stage cuts
// are tested on plain data, no compiler run needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optimize } from '../../compiler/phases/4-optimize/index.ts';
import type { LogicalNode, LogicalPlan } from '../../compiler/ir/logical-plan.ts';

type Spec = [kind: LogicalNode['kind'], inputs: number[], extra?: { parallelism?: number; spec?: object }];

/** Settings of each kind for these tests (sources read a collection, sinks print). */
function specOf(kind: LogicalNode['kind']): object {
  if (kind === 'source') return { connector: 'collection', options: {}, bounded: true };
  if (kind === 'sink') return { connector: 'print', options: {} };
  if (kind === 'rollingAggregate') return { op: 'sum', field: 'n' };
  return {};
}

function planOf(specs: Spec[], parallelism = 1): LogicalPlan {
  return {
    pipeline: 't', file: 't.ts', parallelism, mode: 'batch', checkpoint: { interval: 200, store: null }, guarantee: 'exactly-once',
    nodes: specs.map(([kind, inputs, extra], id) => ({
      id, kind, label: kind, inputs, parallelism: extra?.parallelism ?? null, name: null, spec: extra?.spec ?? specOf(kind), site: null,
    }) as LogicalNode),
  };
}

test('one-to-one operators of equal parallelism form one chain in one stage', () => {
  const physical = optimize(planOf([['source', []], ['map', [0]], ['filter', [1]], ['flatMap', [2]], ['sink', [3]]]));
  assert.equal(physical.stages.length, 1);
  assert.deepEqual(physical.stages[0].chains, [[0, 1, 2, 3, 4]]);
  assert.deepEqual(physical.edges, []);
});

test('keyBy cuts a stage with a hash edge keyed by the keyBy node', () => {
  const physical = optimize(planOf([['source', []], ['map', [0]], ['keyBy', [1]], ['rollingAggregate', [2]], ['map', [3]], ['sink', [4]]]));
  assert.deepEqual(physical.stages.map((s) => s.nodes), [[0, 1, 2], [3, 4, 5]]);
  assert.deepEqual(physical.edges.map((e) => [e.id, e.partitioning, e.keyNode, e.fromStage, e.toStage]), [['rollingAggregate-3', 'hash', 2, 0, 1]]);
  assert.deepEqual(physical.stages[1].chains, [[3, 4, 5]]);
});

test('a parallelism change cuts with a rebalance edge; non-parallel sources run at 1', () => {
  const physical = optimize(planOf([['source', []], ['map', [0]], ['sink', [1]]], 4));
  assert.deepEqual(physical.stages.map((s) => [s.nodes, s.parallelism]), [[[0], 1], [[1, 2], 4]]);
  assert.equal(physical.edges[0].partitioning, 'rebalance');
});

test('rebalance() cuts even at equal parallelism', () => {
  const physical = optimize(planOf([['source', []], ['rebalance', [0]], ['map', [1]], ['sink', [2]]]));
  assert.equal(physical.stages.length, 2);
  assert.equal(physical.edges[0].partitioning, 'rebalance');
});

test('setParallelism on one operator isolates it between rebalance edges', () => {
  const physical = optimize(planOf([['source', []], ['map', [0], { parallelism: 3 }], ['sink', [1]]]));
  assert.deepEqual(physical.stages.map((s) => s.parallelism), [1, 3, 1]);
});

test('union of forward inputs joins their stages; a branch feeds several consumers in one stage', () => {
  const physical = optimize(planOf([['source', []], ['source', []], ['union', [0, 1]], ['map', [2]], ['sink', [3]], ['sink', [2]]]));
  assert.equal(physical.stages.length, 1);
  assert.deepEqual(physical.stages[0].sources, [0, 1]);
});

test('a union that would put a shuffle inside one stage is cut instead', () => {
  // source -> map -> keyBy -> sum, and union(map, sum): joining both would fold the hash edge into one stage.
  const physical = optimize(planOf([['source', []], ['map', [0]], ['keyBy', [1]], ['rollingAggregate', [2]], ['union', [1, 3]], ['sink', [4]]]));
  for (const edge of physical.edges) assert.notEqual(edge.fromStage, edge.toStage);
  assert.ok(physical.edges.some((e) => e.partitioning === 'hash'));
  const order = physical.stages.map((s) => s.id);
  for (const edge of physical.edges) assert.ok(order.indexOf(edge.fromStage) < order.indexOf(edge.toStage), 'stages are numbered in topological order');
});

test('side outputs stay chained to the operator that produces them', () => {
  const physical = optimize(planOf([['source', []], ['process', [0]], ['sideOutput', [1], { spec: { tag: 'bad' } }], ['sink', [2]], ['sink', [1]]], 1));
  assert.equal(physical.stages.length, 1);
});

test('a union of a stream with its own keyed aggregate gets its own stage instead of a circle of stages', () => {
  // source -> keyBy -> sum -> map -> keyBy -> sum, unioned with the source (found by the differential test).
  const physical = optimize(planOf([['source', []], ['keyBy', [0]], ['rollingAggregate', [1]], ['map', [2]], ['keyBy', [3]], ['rollingAggregate', [4]], ['union', [5, 0]], ['sink', [6]]]));
  assert.deepEqual(physical.stages.map((s) => s.nodes), [[0, 1], [2, 3, 4], [5, 6, 7]]);
  assert.deepEqual(physical.edges.map((e) => [e.fromNode, e.toNode, e.partitioning, e.fromStage, e.toStage]), [[1, 2, 'hash', 0, 1], [4, 5, 'hash', 1, 2], [0, 6, 'forward', 0, 2]]);
});
