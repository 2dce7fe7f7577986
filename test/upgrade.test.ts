// Upgrades keep state: operators get stable uids, the manifest records each
// stateful operator's state, and a build compared with the previous build's
// manifest reports exactly the state an upgrade would drop or misread — and
// nothing for an unchanged rebuild or an unrelated new operator.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { build, check, memoryHost, type Diagnostic } from '../compiler/index.ts';
import type { Manifest } from '../runtime/internal/manifest.ts';
import { repoRoot } from './helpers.ts';

const root = path.join(repoRoot, 'test/.virtual-upgrade');

const V1 = `import { pipeline, collection, print, windows, agg } from 'pipec';

interface Reading { id: string; ts: number; temperature: number }

export default pipeline('upgrade', (p) => {
  const readings = p.source(collection<Reading>([{ id: 's1', ts: 1, temperature: 20 }])).assignTimestamps((r) => r.ts);
  readings
    .keyBy((r) => r.id)
    .process<string>({
      processElement(reading, ctx) {
        const last = ctx.state.value<number>('lastTemperature');
        last.update(reading.temperature);
        ctx.state.list<Reading>('seen').add(reading);
        ctx.emit(reading.id);
      },
    })
    .sink(print());
  readings.map((r) => ({ id: r.id, n: 1 })).keyBy((r) => r.id).sum('n').sink(print());
  readings.keyBy((r) => r.id).window(windows.tumbling({ size: '1m' })).aggregate(agg.count()).sink(print());
});
`;

/** V1 with each [from, to] replaced (each `from` must occur). */
function edit(...replacements: Array<[string, string]>): string {
  let text = V1;
  for (const [from, to] of replacements) {
    assert.ok(text.includes(from), `V1 contains ${from}`);
    text = text.replace(from, to);
  }
  return text;
}

let v1: Promise<Manifest> | undefined;
/** The manifest of a build of V1 (built once). */
function previousManifest(): Promise<Manifest> {
  v1 ??= build(memoryHost(root, { 'job.ts': V1 }), 'job.ts', 'out').then((built) => {
    assert.deepEqual(built.diagnostics, []);
    return built.emitted!.manifest;
  });
  return v1;
}

/** Checks `source` against V1's manifest (or `manifestText`) given as --previous. */
async function checkUpgrade(source: string, options: { allowStateLoss?: boolean; manifestText?: string } = {}) {
  const manifest = options.manifestText ?? JSON.stringify(await previousManifest());
  const host = memoryHost(root, { 'job.ts': source, 'deployed/manifest.json': manifest });
  return check(host, 'job.ts', { previous: { manifest: 'deployed/manifest.json' }, allowStateLoss: options.allowStateLoss });
}

/** Diagnostics as [code, line:col, message], for exact comparison. */
function found(diagnostics: Diagnostic[]): Array<[string, string, string]> {
  return diagnostics.map((d) => [d.code, `${d.line}:${d.column}`, d.message]);
}

test('every node has a uid, and the manifest records the state of each stateful operator', async () => {
  const manifest = await previousManifest();
  assert.deepEqual(manifest.nodes.map((n) => n.uid), [
    'source collection(1 items)', 'assignTimestamps', 'keyBy', 'keyedProcess', 'sink print()',
    'map', 'keyBy#2', 'sum(n)', 'sink print()#2', 'keyBy#3', 'window tumbling(60000) aggregate', 'sink print()#3',
  ]);
  const stateOf = (uid: string) => manifest.nodes.find((n) => n.uid === uid)!.state?.map(({ schema: _schema, ...s }) => s);
  assert.deepEqual(stateOf('keyedProcess'), [
    { name: 'lastTemperature', kind: 'value', type: 'number' },
    { name: 'seen', kind: 'list', type: 'Reading[]' },
    { name: 'timers', kind: 'timers', type: 'number' },
  ]);
  assert.deepEqual(stateOf('sum(n)'), [{ name: 'rolling', kind: 'rolling', type: '{ id: string; n: number; }' }]);
  assert.deepEqual(stateOf('window tumbling(60000) aggregate'), [
    { name: 'window', kind: 'window', type: 'number', windows: 'tumbling(60000) event time' },
    { name: 'timers', kind: 'timers', type: 'number' },
  ]);
  assert.equal(stateOf('map'), undefined, 'stateless operators have no state field');
  assert.deepEqual(manifest.nodes.find((n) => n.uid === 'keyedProcess')!.state![1].schema,
    { kind: 'array', element: { kind: 'object', fields: [{ name: 'id', optional: false, schema: { kind: 'string' } }, { name: 'ts', optional: false, schema: { kind: 'number' } }, { name: 'temperature', optional: false, schema: { kind: 'number' } }] } });
});

test('an unchanged rebuild reports nothing', async () => {
  const result = await checkUpgrade(V1);
  assert.deepEqual(found(result.diagnostics), []);
  assert.equal(result.analysis!.previousManifest, 'deployed/manifest.json');
});

test('an unrelated operator added ahead of the others keeps every uid and reports nothing', async () => {
  const result = await checkUpgrade(edit([
    '  readings\n    .keyBy',
    "  readings.filter((r) => r.temperature > 30).map((r) => `hot: ${r.id}`).sink(print());\n  readings\n    .keyBy",
  ]));
  assert.deepEqual(found(result.diagnostics), []);
  const before = await previousManifest();
  const stateful = (uids: string[]) => uids.filter((uid) => before.nodes.find((n) => n.uid === uid)?.state);
  assert.deepEqual(stateful(result.plan!.nodes.map((n) => n.uid)), ['keyedProcess', 'sum(n)', 'window tumbling(60000) aggregate']);
  assert.notEqual(result.plan!.nodes.find((n) => n.uid === 'sum(n)')!.id, before.nodes.findIndex((n) => n.uid === 'sum(n)'), 'node ids moved, uids did not');
});

test('a renamed state is a warning at the new name', async () => {
  const result = await checkUpgrade(edit(["value<number>('lastTemperature')", "value<number>('lastTemp')"]));
  assert.deepEqual(found(result.diagnostics), [
    ['PC2132', '11:46', "The value state 'lastTemp' of this keyedProcess is new, and the previous version's value state 'lastTemperature' is gone: if it was renamed, its data will not be restored."],
  ]);
  assert.equal(result.diagnostics[0].hint, "Keep the name 'lastTemperature' to keep its data; if 'lastTemp' is meant to start empty, nothing needs to change.");
});

test('a state whose type changed is an error at its name; a new optional field is compatible', async () => {
  const retyped = await checkUpgrade(edit(["value<number>('lastTemperature')", "value<string>('lastTemperature')"], ['last.update(reading.temperature)', 'last.update(String(reading.temperature))']));
  assert.deepEqual(found(retyped.diagnostics), [
    ['PC1132', '11:46', "The value state 'lastTemperature' of this keyedProcess now stores string (it stored number): the previous version's checkpoint cannot be restored into it."],
  ]);
  const required = await checkUpgrade(edit(['temperature: number }', 'temperature: number; unit: string }'], ["temperature: 20 }", "temperature: 20, unit: 'C' }"]));
  assert.deepEqual(found(required.diagnostics), [
    ['PC1132', '13:33', "The list state 'seen' of this keyedProcess now stores { id: string; ts: number; temperature: number; unit: string }[] (it stored { id: string; ts: number; temperature: number }[]): the previous version's checkpoint cannot be restored into it."],
  ]);
  const optional = await checkUpgrade(edit(['temperature: number }', 'temperature: number; unit?: string }']));
  assert.deepEqual(found(optional.diagnostics), []);
});

test('a state whose kind changed is an error', async () => {
  const result = await checkUpgrade(edit(["ctx.state.list<Reading>('seen').add(reading)", "ctx.state.value<Reading>('seen').update(reading)"]));
  assert.deepEqual(found(result.diagnostics), [
    ['PC1132', '13:34', "The state 'seen' of this keyedProcess is now a value state (it was a list state): the previous version's checkpoint cannot be restored into it."],
  ]);
});

test('a removed stateful operator is an error, a warning with allowStateLoss', async () => {
  const removed = edit(["  readings.map((r) => ({ id: r.id, n: 1 })).keyBy((r) => r.id).sum('n').sink(print());\n", '']);
  const result = await checkUpgrade(removed);
  assert.deepEqual(found(result.diagnostics), [
    ['PC1131', '5:16', "The state of the previous version's sum(n) at line 18 (uid 'sum(n)': rolling value) would be dropped: no operator has this uid now."],
  ]);
  assert.equal(result.diagnostics[0].hint, "Give the operator that takes its place .uid('sum(n)') to keep its state, or build with --allow-state-loss to start without it.");
  const allowed = await checkUpgrade(removed, { allowStateLoss: true });
  assert.deepEqual(found(allowed.diagnostics), [
    ['PC2131', '5:16', "The state of the previous version's sum(n) at line 18 (uid 'sum(n)': rolling value) will be dropped: no operator has this uid now."],
  ]);
});

test('a window of another size has another default uid; keeping the uid reports the windows that changed', async () => {
  const resized = await checkUpgrade(edit(["size: '1m'", "size: '30s'"]));
  assert.deepEqual(found(resized.diagnostics), [
    ['PC1131', '19:73', "The state of the previous version's window tumbling(60000) aggregate at line 19 (uid 'window tumbling(60000) aggregate': window contents, timers) would be dropped: no operator has this uid now (this window tumbling(30000) aggregate, uid 'window tumbling(30000) aggregate', is new)."],
  ]);
  const pinned = await checkUpgrade(edit(["size: '1m'", "size: '30s'"], ['aggregate(agg.count())', "aggregate(agg.count()).uid('window tumbling(60000) aggregate')"]));
  assert.deepEqual(found(pinned.diagnostics), [
    ['PC1132', '19:31', "The windows of this window tumbling(30000) aggregate are tumbling(30000) event time now (they were tumbling(60000) event time): the previous version's checkpoint cannot be restored into it."],
  ]);
});

test('two operators with one uid are an error at the .uid(...) call', async () => {
  const result = await checkUpgrade(edit(["sum('n')", "sum('n').uid('keyedProcess')"]));
  assert.deepEqual(found(result.diagnostics), [
    ['PC1130', '18:77', "The uid 'keyedProcess' is also the default uid of the keyedProcess at line 9."],
    // The sum's default uid is no longer its uid.
    ['PC1131', '5:16', "The state of the previous version's sum(n) at line 18 (uid 'sum(n)': rolling value) would be dropped: no operator has this uid now."],
  ]);
});

test('a state name computed at run time is a warning, and no renames are guessed for that operator', async () => {
  const result = await checkUpgrade(edit(["value<number>('lastTemperature')", 'value<number>(`last-${reading.id}`)']));
  assert.deepEqual(found(result.diagnostics), [
    ['PC2130', '11:46', 'The name of this value state is computed at run time, so upgrades cannot be checked to keep it.'],
  ]);
});

test('a previous manifest that is missing, of another pipeline or from before uids', async () => {
  const host = memoryHost(root, { 'job.ts': V1 });
  const missing = await check(host, 'job.ts', { previous: { manifest: 'deployed/manifest.json' } });
  assert.deepEqual(found(missing.diagnostics), [['PC1133', '0:0', 'The previous manifest deployed/manifest.json cannot be compared with: the file does not exist.']]);
  const firstBuild = await check(host, 'job.ts', { previous: { out: 'out' } });
  assert.deepEqual(found(firstBuild.diagnostics), [], "no manifest in the output folder yet: nothing to compare");
  const manifest = await previousManifest();
  const other = await checkUpgrade(V1, { manifestText: JSON.stringify({ ...manifest, pipeline: 'other' }) });
  assert.deepEqual(found(other.diagnostics), [['PC1133', '0:0', "The previous manifest deployed/manifest.json cannot be compared with: it is the manifest of pipeline 'other', not of 'upgrade'."]]);
  const old = await checkUpgrade(V1, { manifestText: JSON.stringify({ ...manifest, pipecVersion: '0.0.9', nodes: manifest.nodes.map(({ uid: _uid, state: _state, ...n }) => n) }) });
  assert.deepEqual(found(old.diagnostics), [['PC2133', '0:0', 'The previous manifest deployed/manifest.json was written by pipec 0.0.9, which did not record operator uids and state: state compatibility is not checked.']]);
});
