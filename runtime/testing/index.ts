/**
 * pipec/testing: run a pipeline (or one of its stages) in the test's own
 * process on in-memory input, with time under the test's control — what
 * Flink's operator test harnesses and Kafka Streams' TopologyTestDriver give
 * their users. No server, no files: sources are fed with `push`, every sink and
 * side output is captured, processing time moves only with
 * `advanceProcessingTime`, and `advanceWatermark` raises event time by hand.
 *
 *   const job = await testPipeline('pipelines/alerts.ts');
 *   job.source('readings').push({ id: 's1', ts: 1000, temperature: 20 });
 *   job.advanceWatermark(5000);
 *   assert.deepEqual(job.sink('alerts').values(), [...]);
 *   await job.finish();   // end of input: +∞ watermark, batch results
 *
 * A record that makes a function throw (or has an invalid key) fails the
 * test at the push that sent it, with the message and the user's source
 * location, rather than going quietly to a dead-letter file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { instantiateGraph, type Pipeline } from '../api/pipeline.ts';
import { bakedSettings, type Graph } from '../api/graph.ts';
import { LocalJob } from '../internal/local/job.ts';
import { ManualTime } from '../internal/time.ts';
import { DeadLetterFile } from '../internal/dead-letter.ts';
import { createLogger } from '../internal/log.ts';
import type { SinkConnector, SourceConnector, SourceEmit } from '../internal/connectors/types.ts';
import type { StageDefinition } from '../internal/stage.ts';
import type { Manifest } from '../internal/manifest.ts';
import { check, nodeHost } from '../../compiler/index.ts';
import { generate } from '../../compiler/phases/5-generate/index.ts';
import { formatDiagnostics } from '../../compiler/diagnostics/format.ts';
import { pipecModule } from '../../compiler/host.ts';
import { hostLoader, REQUIRE_BANNER } from '../../compiler/esbuild/plugins.ts';

/** A record as captured: value and event timestamp. */
export interface Captured<T = unknown> { value: T; timestamp: number | undefined }

/** A captured output: a sink or a side output. */
export class CapturedOutput<T = unknown> {
  readonly records: Captured<T>[] = [];
  /** The values, in arrival order. */
  values(): T[] { return this.records.map((r) => r.value); }
  /** Drops what was captured so far (to assert step by step). */
  clear(): void { this.records.length = 0; }
}

/** A source fed by the test (push does not wait for a full asyncMap: calls beyond its capacity wait their turn). */
export class TestSource<T = unknown> implements SourceConnector {
  private emit: SourceEmit | null = null;
  /** @internal */
  constructor(private readonly afterPush: () => void = () => undefined) {}
  private done!: () => void;
  private readonly finished = new Promise<void>((resolve) => { this.done = resolve; });
  /** @internal */
  run(emit: SourceEmit): Promise<void> { this.emit = emit; return this.finished; }
  /** Sends records (with no timestamp; assignTimestamps downstream gives them one). */
  push(...values: T[]): this {
    for (const v of values) this.pushAt(v, undefined);
    return this;
  }
  /** Sends one record carrying an event timestamp (as a Kafka record's timestamp would). */
  pushAt(value: T, timestamp: number | undefined): this {
    if (!this.emit) throw new Error('this source has ended');
    void this.emit(value, timestamp);
    this.afterPush();
    return this;
  }
  /** Ends this source (its watermark goes to +∞). */
  end(): void { this.emit = null; this.done(); }
}

/** Options of testPipeline. */
export interface TestOptions {
  /** Processing time at the start (default 0). */
  startTime?: number;
  /** Run only this stage: its input edges become sources named after the edges. */
  stage?: number;
}

/** A running pipeline under test. */
export class PipelineTest {
  private readonly sinks = new Map<number, CapturedOutput>();
  private readonly sideOutputs = new Map<string, CapturedOutput>();
  private readonly sources = new Map<number, TestSource>();
  private readonly allSources: TestSource[] = [];
  private readonly done: Promise<void>;
  /** The job's processing-time clock. */
  readonly time: ManualTime;
  private readonly job: LocalJob;

  /** @internal */
  constructor(readonly graph: Graph, private readonly manifest: Manifest, stages: StageDefinition[], options: TestOptions) {
    this.time = new ManualTime(options.startTime ?? 0);
    const log = createLogger(graph.name, 'test');
    log.level = 'warn';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-testing-'));
    this.job = new LocalJob(graph, stages, manifest, log, new DeadLetterFile(path.join(dir, 'dead-letter.jsonl'), graph.name, true), {
      time: this.time,
      // A source of parallelism n has n instances: the test pushes to the first, and finish() ends them all.
      createSource: (nodeId) => { const s = new TestSource(() => this.rethrow()); if (!this.sources.has(nodeId)) this.sources.set(nodeId, s); this.allSources.push(s); return s; },
      createSink: (nodeId) => this.captureSink(nodeId),
      onSideOutput: (tag, value, timestamp) => this.sideOutput(tag).records.push({ value, timestamp }),
    });
    this.done = this.job.run();
    this.done.catch(() => undefined); // surfaced by rethrow() and finish()
  }

  /** @internal Waits for the user functions' open(ctx) (which may be async); throws if one failed. */
  async opened(): Promise<void> {
    await Promise.race([this.job.ready, this.done]);
    this.rethrow();
  }

  /** Throws the job's failure, if any, at the test step that caused it. */
  private rethrow(): void {
    if (this.job.hasFailed) throw this.job.failureCause;
  }

  private captureSink(nodeId: number): SinkConnector {
    const output = new CapturedOutput();
    this.sinks.set(nodeId, output);
    return { write: (value) => output.records.push({ value, timestamp: undefined }), flush: async () => undefined, close: async () => undefined };
  }

  private nodeByName(kind: 'source' | 'sink', name: string | number): number {
    const nodes = this.graph.nodes.filter((n) => n.kind === kind);
    const node = typeof name === 'number' ? nodes[name] : nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no ${kind} ${JSON.stringify(name)}: the pipeline has ${nodes.map((n, i) => (n.name ? `'${n.name}'` : `#${i}`)).join(', ')} (name one with .name('...'), or use its index)`);
    return node.id;
  }

  /** A source, by `.name(...)` or by its index among the pipeline's sources. */
  source<T = any>(name: string | number): TestSource<T> {
    return this.sources.get(this.nodeByName('source', name)) as TestSource<T>;
  }

  /** A sink's captured records, by `.name(...)` or by its index among the sinks. */
  sink<T = any>(name: string | number): CapturedOutput<T> {
    const output = this.sinks.get(this.nodeByName('sink', name));
    if (!output) throw new Error(`sink ${JSON.stringify(name)} is not in the stage under test`);
    return output as CapturedOutput<T>;
  }

  /** Everything sent to a side output tag (late data included), whether or not the pipeline reads it. */
  sideOutput<T = any>(tag: string): CapturedOutput<T> {
    let output = this.sideOutputs.get(tag);
    if (!output) { output = new CapturedOutput(); this.sideOutputs.set(tag, output); }
    return output as CapturedOutput<T>;
  }

  /** An input edge of the stage under test (`{ stage: n }`): records pushed here arrive as if from the upstream stage. */
  edge<T = any>(edgeId: string): { push(...values: T[]): void; pushAt(value: T, timestamp: number | undefined): void } {
    return {
      push: (...values) => { for (const v of values) { this.job.pushToEdge(edgeId, v, undefined); this.rethrow(); } },
      pushAt: (value, timestamp) => { this.job.pushToEdge(edgeId, value, timestamp); this.rethrow(); },
    };
  }

  /** Raises event time everywhere it starts (every assignTimestamps and every source) to `watermark`. */
  advanceWatermark(watermark: number): this {
    this.job.call(() => this.raiseWatermarks(watermark));
    this.rethrow();
    return this;
  }

  private raiseWatermarks(watermark: number): void {
    for (const instances of this.job.runtimes) {
      for (const runtime of instances ?? []) {
        for (const generator of runtime.generators.values()) generator.advanceTo(watermark);
      }
    }
    this.job.runtimes.forEach((instances, stageId) => {
      const origins = this.manifest.stages[stageId].watermarks.origins.filter((o) => o.startsWith('source:'));
      for (const runtime of instances ?? []) for (const origin of origins) runtime.coordinator.advance(origin, watermark);
      for (const edgeId of this.manifest.stages[stageId].inputs) {
        const edge = this.manifest.edges.find((e) => e.id === edgeId)!;
        if (!this.job.runtimes[edge.from]) this.job.watermarkOnEdge(edgeId, watermark);
      }
    });
  }

  /** Moves processing time to `time`, firing processing-time timers and idleness checks that come due. */
  advanceProcessingTime(time: number): this {
    this.time.advanceTo(time);
    this.rethrow();
    return this;
  }

  /**
   * Waits until every asyncMap call made so far has completed and its result
   * has gone on (results arrive when the calls' promises settle, not during
   * `push`); throws the job's failure, such as a call that failed or timed
   * out (pipec/testing stops at the first dead letter). Calls beyond an
   * asyncMap's capacity wait their turn: `push` does not block.
   */
  async settled(): Promise<void> {
    await this.job.asyncSettled();
    this.rethrow();
  }

  /**
   * A user metric (ctx.metrics) now: the sum over its series whose labels
   * include `labels` (a histogram: its number of observations); 0 when none.
   */
  async metric(name: string, labels: Record<string, string | number> = {}): Promise<number> {
    const metric = this.job.userMetrics.registry.getSingleMetric(name);
    if (!metric) return 0;
    const { type, values } = await metric.get();
    const matches = (series: Record<string, unknown>) => Object.entries(labels).every(([k, v]) => String(series[k]) === String(v));
    return values
      .filter((v) => (String(type) === 'histogram' ? (v as { metricName?: string }).metricName === `${name}_count` : true) && matches(v.labels))
      .reduce((sum, v) => sum + v.value, 0);
  }

  /** A runtime counter summed over instances, e.g. `counter(3, 'droppedLateRecords')`. */
  counter(nodeId: number, name: string): number {
    return this.job.counters.get(`${nodeId}:${name}`) ?? 0;
  }

  /**
   * The keyed state an operator holds now, summed over its instances: entries
   * (one per key and state: a window join's windows of a key, an interval
   * join's buffer of a key per side, ...) and live timers. By node id, or by
   * the operator's uid or `.name(...)`.
   */
  stateSize(operator: number | string): { entries: number; timers: number } {
    const nodeId = typeof operator === 'number' ? operator : this.manifest.nodes.findIndex((n, i) => n.uid === operator || this.graph.nodes[i].name === operator);
    if (nodeId < 0 || !this.manifest.nodes[nodeId]) throw new Error(`no operator ${JSON.stringify(operator)} (give a node id, a uid or a name)`);
    let entries = 0, timers = 0;
    for (const runtime of this.job.runtimes.flat()) {
      entries += runtime?.backends.get(nodeId)?.size ?? 0;
      timers += runtime?.timers.get(nodeId)?.size ?? 0;
    }
    return { entries, timers };
  }

  /** Ends every source and waits for the job to finish (+∞ watermark: every window fires; batch results). */
  async finish(): Promise<void> {
    for (const source of this.allSources) source.end();
    this.job.endExternalInputs();
    await this.done;
  }
}

const loadedPipelines = new Map<string, ReturnType<typeof compileAndLoad>>();

/**
 * Compiled pipelines are cached per file, modification time and the settings
 * its build function produces now (tests may start the same pipeline many
 * times, and a build function may read its settings from the environment:
 * generated code bakes settings in, so other settings need another build).
 */
async function load(file: string): ReturnType<typeof compileAndLoad> {
  const id = `${path.resolve(file)}@${fs.statSync(file).mtimeMs}`;
  let loaded = loadedPipelines.get(id);
  if (!loaded) { loaded = compileAndLoad(file); loadedPipelines.set(id, loaded); }
  const { definition } = await loaded;
  const settings = JSON.stringify(instantiateGraph(definition).nodes.map(bakedSettings));
  const variant = `${id}#${settings}`;
  let current = loadedPipelines.get(variant);
  if (!current) {
    const { manifest } = await loaded;
    current = settings === JSON.stringify(manifest.nodes.map((n) => n.settings)) ? loaded : compileAndLoad(file);
    loadedPipelines.set(variant, current);
  }
  return current;
}

/** Type-checks, plans and generates a pipeline file, then loads its stage modules into this process. */
async function compileAndLoad(file: string): Promise<{ definition: Pipeline; stages: StageDefinition[]; manifest: Manifest }> {
  const host = nodeHost(process.cwd());
  const checked = await check(host, file);
  if (!checked.physical || !checked.plan || !checked.analysis) throw new Error(`pipec: ${file} does not build:\n${formatDiagnostics(checked.diagnostics)}`);
  const emitted = generate(host, path.resolve(file), checked.plan, checked.physical, checked.analysis);
  const dir = path.join(host.root, '.pipec', emitted.pipeline);
  const virtual = new Map<string, string>();
  for (const stage of emitted.stages) virtual.set(path.join(dir, stage.fileName), stage.code);
  const entry = path.join(dir, 'testing-entry.ts');
  const importPath = path.relative(dir, path.resolve(file)).split(path.sep).join('/');
  virtual.set(entry, [
    `export { default as definition } from '${importPath.startsWith('.') ? importPath : `./${importPath}`}';`,
    `export const stages = [${emitted.stages.map((_s, i) => `(await import('./stage-${i}.ts')).stage${i}`).join(', ')}];`,
  ].join('\n'));
  // The stages must share this process's runtime, so pipec/internal stays external and points at our own copy.
  const internal = pipecModule('pipec/internal', 'code')!;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-testing-'));
  await esbuild.build({
    entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: path.join(out, 'stages.mjs'),
    absWorkingDir: host.root, logLevel: 'silent', banner: { js: REQUIRE_BANNER },
    plugins: [{
      name: 'pipec-testing-runtime',
      setup(build) {
        build.onResolve({ filter: /^pipec\/internal$/ }, () => ({ path: pathToFileURL(internal).href, external: true }));
        build.onResolve({ filter: /^pipec(\/.*)?$/ }, (args) => ({ path: pipecModule(args.path, 'code')! }));
      },
    }, hostLoader(host, virtual)],
  });
  const loaded = await import(pathToFileURL(path.join(out, 'stages.mjs')).href) as { definition: Pipeline; stages: StageDefinition[] };
  return { ...loaded, manifest: emitted.manifest };
}

/** Builds the pipeline in `file` (relative to the working folder) and starts it under test. */
export async function testPipeline(file: string, options: TestOptions = {}): Promise<PipelineTest> {
  const { definition, stages, manifest } = await load(file);
  const graph = instantiateGraph(definition);
  const selected = options.stage === undefined ? stages : stages.filter((s) => s.id === options.stage);
  if (selected.length === 0) throw new Error(`the pipeline has no stage ${options.stage}`);
  const test = new PipelineTest(graph, manifest, selected, options);
  await test.opened();
  return test;
}
