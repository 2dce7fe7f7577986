// Default uids survive unrelated edits (2-plan/uids.ts), and the upgrade
// check's type rule: what was stored must fit the new state type
// (3-analyze/state-compatibility.ts `accepts`). Pure functions, no compiler run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collection, pipeline, print, type DataStream } from '../../runtime/api/index.ts';
import { instantiateGraph } from '../../runtime/api/pipeline.ts';
import { operatorUids } from '../../compiler/phases/2-plan/uids.ts';
import { accepts } from '../../compiler/phases/3-analyze/state-compatibility.ts';
import type { RecordSchema } from '../../runtime/internal/codec/schema.ts';

type Row = { k: string; n: number };

/** The uids of a pipeline built from `body`. */
function uidsOf(body: (rows: DataStream<Row>) => void): string[] {
  return operatorUids(instantiateGraph(pipeline('t', (p) => body(p.source(collection<Row>([]))))).nodes);
}

test('default uids are labels, with #n among nodes of the same label', () => {
  assert.deepEqual(uidsOf((rows) => {
    rows.keyBy((r) => r.k).sum('n').sink(print());
    rows.keyBy((r) => r.k).sum('n').name('again').sink(print());
  }), ['source collection(0 items)', 'keyBy', 'sum(n)', 'sink print()', 'keyBy#2', 'sum(n)#2', 'sink print()#2']);
});

test('an operator of another label added or removed elsewhere moves no default uid', () => {
  const before = uidsOf((rows) => { rows.keyBy((r) => r.k).sum('n').sink(print()); });
  const after = uidsOf((rows) => {
    rows.filter((r) => r.n > 0).map((r) => r.k).sink(print('x'));
    rows.keyBy((r) => r.k).sum('n').sink(print());
  });
  assert.ok(before.every((uid) => after.includes(uid)), `${before} in ${after}`);
  assert.equal(after.indexOf('sum(n)'), 5, 'a new node id (2 before), the same uid');
});

test('a user uid replaces the default and still counts for its label, so no other default moves', () => {
  const withoutUid = uidsOf((rows) => { rows.keyBy((r) => r.k).sum('n').sink(print()); rows.keyBy((r) => r.k).sum('n').sink(print()); });
  const withUid = uidsOf((rows) => { rows.keyBy((r) => r.k).sum('n').uid('totals').sink(print()); rows.keyBy((r) => r.k).sum('n').sink(print()); });
  assert.deepEqual(withoutUid.filter((u) => u.startsWith('sum') || u === 'totals'), ['sum(n)', 'sum(n)#2']);
  assert.deepEqual(withUid.filter((u) => u.startsWith('sum') || u === 'totals'), ['totals', 'sum(n)#2']);
});

test('uid(id) needs a non-empty string', () => {
  assert.throws(() => uidsOf((rows) => { rows.map((r) => r).uid(' '); }), /uid\(" "\): the id must be a non-empty string/);
});

const number: RecordSchema = { kind: 'number' };
const string: RecordSchema = { kind: 'string' };
const object = (fields: Array<[string, RecordSchema, boolean?]>): RecordSchema => ({ kind: 'object', fields: fields.map(([name, schema, optional]) => ({ name, schema, optional: optional ?? false })) });

test('stored state fits a new type that accepts every stored value', () => {
  assert.ok(accepts(number, number));
  assert.ok(!accepts(string, number), 'number → string');
  assert.ok(accepts({ kind: 'union', variants: [number, string] }, number), 'widened');
  assert.ok(!accepts(number, { kind: 'union', variants: [number, string] }), 'narrowed');
  assert.ok(accepts(number, { kind: 'literal', value: 3 }));
  assert.ok(accepts(object([['a', number], ['b', string, true]]), object([['a', number]])), 'a new optional field');
  assert.ok(!accepts(object([['a', number], ['b', string]]), object([['a', number]])), 'a new required field');
  assert.ok(accepts(object([['a', number]]), object([['a', number], ['gone', string]])), 'a removed field');
  assert.ok(!accepts(object([['a', number]]), object([['a', number, true]])), 'optional → required');
  assert.ok(accepts({ kind: 'array', element: number }, { kind: 'tuple', elements: [number, number] }));
  assert.ok(!accepts({ kind: 'map', key: string, value: string }, { kind: 'map', key: string, value: number }));
  assert.ok(accepts(number, { kind: 'any' }) && accepts({ kind: 'any' }, number), 'unknown on either side is not reported');
});
