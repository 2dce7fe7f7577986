// The edge codec over the real broker: records with a Date, a Map, a Set, a
// bigint, NaN, -0 and undefined cross a keyBy between two stage workers
// (stage-0.mjs and stage-1.mjs, separate processes) and arrive equal.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import v8 from 'node:v8';
import { after, before, test } from 'node:test';
import { buildFile } from './helpers.ts';
import { deleteTopics, freshName, kafkaBrokers, produce, readUntil, startWorker, waitForLog } from './kafka-helpers.ts';
import { enrich, type Enriched } from './fixtures/kafka/codec-records.ts';

const workers: ChildProcess[] = [];
let run: string;

before(() => { kafkaBrokers(); run = freshName('codec'); });
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await deleteTopics(run);
});

test('a record with Date, Map, Set, bigint, NaN, -0 and undefined crosses a keyBy between two workers unchanged', { timeout: 120_000 }, async () => {
  process.env.RUN = run;
  const built = await buildFile('test/fixtures/kafka/codec-edge.ts');
  assert.deepEqual(built.diagnostics, []);
  assert.equal(built.emitted!.manifest.edges.length, 1);
  assert.equal(built.emitted!.manifest.edges[0].schema.kind, 'object', 'the edge has a typed schema, not the fallback');

  const inputs = Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, n: i }));
  await produce(`${run}-in`, inputs);
  const logs: string[][] = [[], []];
  workers.push(startWorker(path.join(built.outDir!, 'stage-0.mjs'), [], { RUN: run }, logs[0]));
  workers.push(startWorker(path.join(built.outDir!, 'stage-1.mjs'), [], { RUN: run }, logs[1]));
  await waitForLog(logs[1], /task (started|restored)/, 60_000);

  const output = await readUntil(`${run}-out`, (values) => values.length >= inputs.length, 90_000);
  assert.equal(output.length, inputs.length, `every record arrives once:\n${logs.map((l) => l.join('')).join('\n').slice(-3000)}`);
  const arrived = output.map((b64) => v8.deserialize(Buffer.from(b64, 'base64')) as Enriched).sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
  const expected = inputs.map(enrich);
  // The sink's own format is exact for these values; so any difference comes from the edge.
  assert.deepStrictEqual(v8.deserialize(v8.serialize(expected)), expected);
  assert.deepStrictEqual(arrived, expected);
  assert.ok(Object.is(arrived[0].neg, -0) && 'missing' in arrived[0] && !('note' in arrived[0]) && arrived[1].note === 'odd');
});
