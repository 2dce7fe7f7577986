// The differential test of issue 8: generated pipelines (test/differential)
// whose lambdas use the shapes TypeScript users write run through the compiler
// and through an independent reference interpreter with Flink's copy
// semantics; every sink's output must agree — in process (pipec/testing), as
// local.mjs, and as stage workers on the real broker (when one is configured,
// as in CI: PIPEC_KAFKA_BROKERS; PIPEC_DIFF_KAFKA=1 forces them, =0 leaves them out).
// A failure is shrunk to a small program and printed with its seed and both
// outputs. Longer runs: npm run fuzz -- --seed N --runs M.
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { generateProgram, shapesUsed, type Program } from './differential/program.ts';
import { DifferentialRunner, describeFailure, type Target } from './differential/runner.ts';
import { SHAPES } from './differential/shapes.ts';
import { pipeline, collection, print, type RefPipeline } from './differential/reference/dsl.ts';
import { runReference } from './differential/reference/interpreter.ts';
import { canonical } from './differential/values.ts';

/** Seeds run in process on every `npm test` (about 250 ms each). */
const SEEDS = range(1, 160);
/** Of those, every LOCAL_EVERY-th also runs as local.mjs (a build and a node process each). */
const LOCAL_EVERY = 16;
/** Stage-worker runs on Kafka (~15 s each): with a configured broker (CI), or PIPEC_DIFF_KAFKA=1; PIPEC_DIFF_KAFKA=0 leaves them out. */
const WORKER_SEEDS = process.env.PIPEC_DIFF_KAFKA === '1' || (process.env.PIPEC_DIFF_KAFKA !== '0' && process.env.PIPEC_KAFKA_BROKERS) ? [3, 11, 29] : [];
/** Shrinking time shared by all failures of one run, so a broken compiler still finishes in minutes. */
let shrinkBudgetMs = 45_000;

const runner = new DifferentialRunner({ workDir: path.join(os.tmpdir(), `pipec-differential-${process.pid}`), timeoutMs: 60_000 });
after(() => runner.close());

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

async function expectAgreement(program: Program, target: Target): Promise<void> {
  const failure = await runner.check(program, target);
  if (!failure) return;
  let report: string;
  if (shrinkBudgetMs > 0) {
    const started = Date.now();
    const shrunk = await runner.shrink(program, failure, { attempts: 300, ms: Math.min(shrinkBudgetMs, 30_000) });
    shrinkBudgetMs -= Date.now() - started;
    report = describeFailure(shrunk.program, shrunk.failure, `shrunk in ${shrunk.attempts} attempts`);
  } else {
    report = describeFailure(program, failure, 'not shrunk: the shrinking budget of this run is spent');
  }
  assert.fail(`pipec disagrees with the reference interpreter\n${report}`);
}

describe('the reference interpreter has Flink semantics', () => {
  const run = (build: RefPipeline['build'], options: RefPipeline['options'] = {}) => runReference(pipeline('t', build, options)).map((sink) => sink.map(canonical));
  const words = [{ w: 'flink', c: 1 }, { w: 'pyflink', c: 1 }, { w: 'flink', c: 1 }];

  test('batch rolling sum: one final value per key; streaming: every update', () => {
    assert.deepEqual(run((p) => { p.source(collection(words)).keyBy((r: any) => r.w).sum('c').sink(print()); }), [['{"w":"flink","c":2}', '{"w":"pyflink","c":1}']]);
    assert.deepEqual(run((p) => { p.source(collection(words)).keyBy((r: any) => r.w).sum('c').sink(print()); }, { mode: 'streaming' }),
      [['{"w":"flink","c":1}', '{"w":"pyflink","c":1}', '{"w":"flink","c":2}']]);
  });

  test('sum keeps the first record of the key, tuples stay arrays, __proto__ is a field', () => {
    assert.deepEqual(run((p) => { p.source(collection([['a', 1], ['a', 2]])).keyBy((t: any) => t[0]).sum('1').sink(print()); }), [['["a",3]']]);
    const odd = [JSON.parse('{"k":"a","__proto__":1}'), JSON.parse('{"k":"a","__proto__":5}')];
    assert.deepEqual(run((p) => { p.source(collection(odd)).keyBy((o: any) => o.k).sum('__proto__').sink(print()); }, { mode: 'streaming' }), [['{"k":"a","__proto__":1}', '{"k":"a","__proto__":6}']]);
    const rows = [{ k: 'a', n: 3, at: 1 }, { k: 'a', n: 1, at: 2 }, { k: 'a', n: 1, at: 3 }];
    assert.deepEqual(run((p) => { p.source(collection(rows)).keyBy((r: any) => r.k).min('n').sink(print()); }), [['{"k":"a","n":1,"at":1}']]);
    assert.deepEqual(run((p) => { p.source(collection(rows)).keyBy((r: any) => r.k).minBy('n').sink(print()); }), [['{"k":"a","n":1,"at":2}']]);
  });

  test('every operator gets its own copy: a branch that mutates does not change its sibling, state or earlier emissions', () => {
    const out = run((p) => {
      const s = p.source(collection([{ k: 'a', n: 1, tags: [] as number[] }, { k: 'a', n: 2, tags: [] as number[] }]));
      s.map((r: any) => { r.tags.push(9); r.n = 100; return r; }).sink(print());
      s.sink(print());
      const summed = s.keyBy((r: any) => r.k).sum('n');
      summed.map((r: any) => { r.n = -1; return r; }).sink(print());
      summed.sink(print());
      s.flatMap(function* (r: any) { yield r; r.n += 10; yield r; }).sink(print());
    }, { mode: 'streaming' });
    assert.deepEqual(out[1], ['{"k":"a","n":1,"tags":[]}', '{"k":"a","n":2,"tags":[]}']);
    assert.deepEqual(out[3], ['{"k":"a","n":1,"tags":[]}', '{"k":"a","n":3,"tags":[]}']);
    assert.deepEqual(out[4], ['{"k":"a","n":1,"tags":[]}', '{"k":"a","n":11,"tags":[]}', '{"k":"a","n":2,"tags":[]}', '{"k":"a","n":12,"tags":[]}']);
  });

  test('a filter passes on the record it was given, with its own changes (Flink StreamFilter collects the same object)', () => {
    assert.deepEqual(run((p) => { p.source(collection([{ n: 1 }])).filter((r: any) => { r.n = 2; return true; }).sink(print()); }), [['{"n":2}']]);
  });
});

describe('generated programs', () => {
  test('the seed range covers every shape of the catalogue', () => {
    const used = new Set(SEEDS.flatMap((seed) => shapesUsed(generateProgram(seed))));
    const missing = SHAPES.map((s) => `${s.role}:${s.name}`).filter((name) => !used.has(name));
    assert.deepEqual(missing, [], 'shapes no CI seed uses (raise the seed range or the shape weights)');
  });

  test('the same seed gives the same program', () => {
    assert.deepEqual(generateProgram(42), generateProgram(42));
  });
});

describe('differential: pipec/testing (in process) agrees with the reference', () => {
  for (const seed of SEEDS) test(`seed ${seed}`, { timeout: 180_000 }, () => expectAgreement(generateProgram(seed), 'harness'));
});

describe('differential: local.mjs agrees with the reference', () => {
  for (const seed of SEEDS.filter((_, i) => i % LOCAL_EVERY === 0)) test(`seed ${seed}`, { timeout: 300_000 }, () => expectAgreement(generateProgram(seed), 'local'));
});

describe('differential: stage workers on Kafka agree with the reference', () => {
  for (const seed of WORKER_SEEDS) {
    test(`seed ${seed}`, { timeout: 600_000 }, async () => {
      const { kafkaBrokers } = await import('./kafka-helpers.ts');
      runner.useBrokers(kafkaBrokers());
      await expectAgreement(generateProgram(seed, { streamingOnly: true }), 'workers');
    });
  }
});
