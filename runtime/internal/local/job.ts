/**
 * Runs stages in one process (local.mjs, single-stage workers, pipec/testing):
 * creates every stage instance, wires cut edges as synchronous in-memory
 * channels (hash, rebalance or forward) that carry records and watermarks,
 * drives the sources, and at the end of the input cascades final results,
 * the +∞ watermark and end-of-input downstream in order.
 */
import type { Graph } from '../../api/graph.ts';
import type { ConnectorDescriptor } from '../../api/connectors.ts';
import type { Metrics } from '../../api/functions.ts';
import { partitionForKey } from '../partitioning.ts';
import type { Logger } from '../log.ts';
import type { DeadLetterFile } from '../dead-letter.ts';
import type { SinkConnector, SinkContext, SourceConnector, SourceContext } from '../connectors/types.ts';
import type { EdgeInput, EdgeOutput, RuntimeManifest, SinkWriter, StageDefinition, StageEnv, StageInstance } from '../stage.ts';
import { KeyedStateBackend } from '../state/backend.ts';
import { InternalTimerService } from '../state/timers.ts';
import { systemTime, type ProcessingTimeService } from '../time.ts';
import { WatermarkCoordinator, WatermarkGenerator } from '../watermarks.ts';

interface SourceBinding { stage: number; subtask: number; nodeId: number; connector: SourceConnector; emit: (value: unknown, ts: number | undefined) => void }

/** How a LocalJob may be customised (pipec/testing replaces sources, sinks and the clock). */
export interface LocalJobOptions {
  time?: ProcessingTimeService;
  createSource?: (nodeId: number, ctx: SourceContext) => SourceConnector | undefined;
  createSink?: (nodeId: number, ctx: SinkContext) => SinkConnector | undefined;
  onSideOutput?: (tag: string, value: unknown, ts: number | undefined) => void;
  /** Where edges to stages outside this job go (Kafka repartition topics in a distributed worker). */
  remote?: {
    output(edgeId: string): (key: unknown, value: unknown, ts: number | undefined) => void;
    watermark(edgeId: string, message: number | 'idle' | 'active'): void;
  };
}

/** State of one stage instance that the runtime owns. */
interface InstanceRuntime {
  coordinator: WatermarkCoordinator;
  backends: Map<number, KeyedStateBackend>;
  timers: Map<number, InternalTimerService>;
  generators: Map<number, WatermarkGenerator>;
}

/** Builds the collector of one cut edge for one upstream subtask. */
function edgeOutput(partitioning: string, targets: EdgeInput[], subtask: number): Pick<EdgeOutput, 'collect'> {
  const n = targets.length;
  if (n === 1) { const only = targets[0]; return { collect: only }; }
  if (partitioning === 'hash') return { collect: (key, value, ts) => targets[partitionForKey(key, n)](key, value, ts) };
  if (partitioning === 'forward') { const target = targets[subtask]; return { collect: target }; }
  let next = subtask % n;
  return { collect: (key, value, ts) => { const target = targets[next]; next = next + 1 === n ? 0 : next + 1; target(key, value, ts); } };
}

/** One local execution of some or all stages of a pipeline. */
export class LocalJob {
  readonly instances: StageInstance[][] = [];
  readonly runtimes: InstanceRuntime[][] = [];
  readonly counters = new Map<string, number>();
  private readonly pending: number[][] = [];
  private readonly sources: SourceBinding[] = [];
  private readonly sinks = new Map<number, SinkConnector>();
  private readonly abort = new AbortController();
  private readonly edges: Map<string, RuntimeManifest['edges'][number]>;
  private readonly time: ProcessingTimeService;
  private readonly stageIds: Set<number>;

  constructor(
    private readonly graph: Graph,
    private readonly stages: StageDefinition[],
    private readonly manifest: RuntimeManifest,
    private readonly log: Logger,
    private readonly deadLetters: DeadLetterFile,
    private readonly options: LocalJobOptions = {},
  ) {
    this.edges = new Map(manifest.edges.map((e) => [e.id, e]));
    this.time = options.time ?? systemTime();
    this.stageIds = new Set(stages.map((s) => s.id));
  }

  /** Waits until every sink has written what it was given. */
  async flush(): Promise<void> {
    for (const sink of this.sinks.values()) await sink.flush();
  }

  /** Ends the inputs that come from stages outside this job (set by run()). */
  endExternalInputs: () => void = () => undefined;

  /**
   * Delivers a record on an input edge whose upstream stage is not in this job,
   * computing the key with the upstream keyBy function and choosing the instance
   * as the upstream stage would.
   */
  pushToEdge(edgeId: string, value: unknown, ts: number | undefined): void {
    const edge = this.edges.get(edgeId);
    if (!edge || !this.instances[edge.to]) throw new Error(`no input edge ${edgeId} into the stages of this job`);
    const targets = this.instances[edge.to];
    const key = edge.keyNode === null ? undefined : (this.graph.nodes[edge.keyNode].fn as (v: unknown) => unknown)(value);
    const index = edge.partitioning === 'hash' ? partitionForKey(key, targets.length) : 0;
    targets[index].inputs[edgeId](key, value, ts);
  }

  /** Sends a watermark (or an idle/active status) on an input edge whose upstream stage is not in this job. */
  watermarkOnEdge(edgeId: string, message: number | 'idle' | 'active'): void {
    const edge = this.edges.get(edgeId)!;
    for (const runtime of this.runtimes[edge.to] ?? []) runtime.coordinator.onEdge(edgeId, 0, message);
  }

  /** Stops the sources (SIGTERM/SIGINT); run() then ends without firing final results. */
  stop(): void { this.abort.abort(); }

  /** Creates every instance and runs to the end of every bounded input (or until stop()). */
  async run(): Promise<void> {
    for (const stage of this.stages) {
      this.runtimes[stage.id] = Array.from({ length: stage.parallelism }, (_, subtask) => this.instanceRuntime(stage, subtask));
    }
    // Create downstream stages first so upstream outputs can bind to their inputs directly.
    for (const stage of [...this.stages].sort((a, b) => b.id - a.id)) {
      this.instances[stage.id] = [];
      for (let subtask = 0; subtask < stage.parallelism; subtask++) this.instances[stage.id][subtask] = stage.create(this.envFor(stage, subtask));
    }
    for (const stage of this.stages) {
      const info = this.manifest.stages[stage.id];
      this.pending[stage.id] = Array.from({ length: stage.parallelism }, (_, subtask) =>
        this.sources.filter((s) => s.stage === stage.id && s.subtask === subtask).length +
        info.inputs.reduce((sum, edgeId) => sum + this.channelCount(edgeId), 0));
    }
    // Instances fed only over edges from stages outside this job (a single stage under test) end when told to.
    const external = this.stages.flatMap((stage) => this.pending[stage.id].map((count, subtask) => ({ stage: stage.id, subtask, count }))).filter((i) => i.count === 0);
    for (const { stage, subtask } of external) this.pending[stage][subtask] = 1;
    const externalEnded = new Promise<void>((resolve) => { this.endExternalInputs = resolve; })
      .then(() => { for (const { stage, subtask } of external) this.inputEnded(stage, subtask); });
    if (external.length === 0) this.endExternalInputs();
    await Promise.all([externalEnded, ...this.sources.map(async (binding) => {
      await binding.connector.run(binding.emit);
      if (this.abort.signal.aborted) return;
      const origin = `source:${binding.nodeId}`;
      const runtime = this.runtimes[binding.stage][binding.subtask];
      if (this.manifest.stages[binding.stage].watermarks.origins.includes(origin)) runtime.coordinator.advance(origin, Infinity);
      this.inputEnded(binding.stage, binding.subtask);
    })]);
    for (const sink of this.sinks.values()) await sink.close();
  }

  /** Upstream instances feeding one instance over an edge (0 when the upstream stage is not in this job). */
  private channelCount(edgeId: string): number {
    const edge = this.edges.get(edgeId)!;
    if (!this.stageIds.has(edge.from)) return 0;
    return edge.partitioning === 'forward' ? 1 : this.stages.find((s) => s.id === edge.from)!.parallelism;
  }

  private instanceRuntime(stage: StageDefinition, subtask: number): InstanceRuntime {
    const info = this.manifest.stages[stage.id];
    // Watermarks go to every downstream instance (records go to one): channel = this subtask.
    const targets = new Map<string, { coordinators: WatermarkCoordinator[]; channel: number }>();
    const coordinator = new WatermarkCoordinator(info.watermarks, (edgeId, message) => {
      if (!this.runtimes[this.edges.get(edgeId)!.to] && this.options.remote) { this.options.remote.watermark(edgeId, message); return; }
      let target = targets.get(edgeId);
      if (!target) {
        const edge = this.edges.get(edgeId)!;
        const downstream = this.runtimes[edge.to] ?? [];
        target = edge.partitioning === 'forward'
          ? { coordinators: downstream[subtask] ? [downstream[subtask].coordinator] : [], channel: 0 }
          : { coordinators: downstream.map((d) => d.coordinator), channel: subtask };
        targets.set(edgeId, target);
      }
      for (const c of target.coordinators) c.onEdge(edgeId, target.channel, message);
    });
    for (const edgeId of info.inputs) coordinator.setChannels(edgeId, Math.max(1, this.channelCount(edgeId)));
    return { coordinator, backends: new Map(), timers: new Map(), generators: new Map() };
  }

  private inputEnded(stageId: number, subtask: number): void {
    if (--this.pending[stageId][subtask] > 0) return;
    const instance = this.instances[stageId][subtask];
    instance.finish();
    this.runtimes[stageId][subtask].coordinator.endAll();
    instance.close();
    for (const edgeId of this.manifest.stages[stageId].outputs) {
      const edge = this.edges.get(edgeId)!;
      if (!this.instances[edge.to]) continue;
      if (edge.partitioning === 'forward') this.inputEnded(edge.to, subtask);
      else for (let i = 0; i < this.instances[edge.to].length; i++) this.inputEnded(edge.to, i);
    }
  }

  /** Adds to a runtime counter. */
  count(nodeId: number, name: string, by = 1): void {
    const id = `${nodeId}:${name}`;
    this.counters.set(id, (this.counters.get(id) ?? 0) + by);
  }

  private envFor(stage: StageDefinition, subtask: number): StageEnv {
    const { graph, manifest } = this;
    const runtime = this.runtimes[stage.id][subtask];
    const descriptorOf = (nodeId: number) => graph.nodes[nodeId].props.descriptor as ConnectorDescriptor;
    const perNode = <T>(map: Map<number, T>, nodeId: number, create: () => T): T => {
      let value = map.get(nodeId);
      if (value === undefined) { value = create(); map.set(nodeId, value); }
      return value;
    };
    const env: StageEnv = {
      graph, subtask, parallelism: stage.parallelism, mode: manifest.mode, time: this.time,
      fn: <F>(nodeId: number) => graph.nodes[nodeId].fn as F,
      node: (nodeId) => graph.nodes[nodeId],
      source: (nodeId, create, emit) => {
        const ctx: SourceContext = {
          pipeline: graph.name, nodeId, options: descriptorOf(nodeId).options, subtask, parallelism: stage.parallelism,
          signal: this.abort.signal, log: this.log,
          deadLetter: (record) => this.deadLetters.write(nodeId, record),
          flush: () => this.flush(),
        };
        const connector = this.options.createSource?.(nodeId, ctx) ?? create(ctx);
        this.sources.push({ stage: stage.id, subtask, nodeId, connector, emit });
      },
      sink: (nodeId, create): SinkWriter => {
        let connector = this.sinks.get(nodeId);
        if (!connector) {
          const ctx: SinkContext = { pipeline: graph.name, nodeId, options: descriptorOf(nodeId).options, parallelism: graph.nodes[nodeId].parallelism ?? stage.parallelism, log: this.log };
          connector = this.options.createSink?.(nodeId, ctx) ?? create(ctx);
          this.sinks.set(nodeId, connector);
        }
        const shared = connector;
        return { write: (value) => shared.write(value, subtask) };
      },
      output: (edgeId) => {
        const edge = this.edges.get(edgeId);
        if (!edge) throw new Error(`internal: unknown edge ${edgeId}`);
        const downstream = this.instances[edge.to];
        if (!downstream && this.options.remote) return { collect: this.options.remote.output(edgeId) };
        if (!downstream) throw new Error(`stage ${stage.id} writes to stage ${edge.to} over ${edge.topic ?? edgeId}, which this process does not run; run local.mjs, or run every stage with Kafka`);
        return edgeOutput(edge.partitioning, downstream.map((instance) => instance.inputs[edgeId]), subtask);
      },
      backend: (nodeId) => perNode(runtime.backends, nodeId, () => new KeyedStateBackend()),
      keyedState: <S>(nodeId: number) => env.backend(nodeId).table<S>('rolling'),
      timers: (nodeId) => perNode(runtime.timers, nodeId, () => new InternalTimerService()),
      watermarkGenerator: (nodeId) => perNode(runtime.generators, nodeId, () => {
        const props = graph.nodes[nodeId].props as { maxOutOfOrderness: number; idleTimeout?: number };
        return new WatermarkGenerator(`ts:${nodeId}`, runtime.coordinator, props.maxOutOfOrderness, props.idleTimeout, this.time, manifest.mode === 'batch');
      }),
      onWatermark: (nodeId, fn) => runtime.coordinator.register(nodeId, fn),
      sideOutput: (tag, route, value, ts) => {
        this.options.onSideOutput?.(tag, value, ts);
        if (route) route(value, ts);
      },
      metrics: (nodeId): Metrics => ({
        counter: (name) => ({ inc: (by = 1) => this.count(nodeId, `user.${name}`, by) }),
        gauge: (name) => ({ set: (value) => { this.counters.set(`${nodeId}:user.${name}`, value); } }),
      }),
      count: (nodeId, name, by) => this.count(nodeId, name, by),
    };
    return env;
  }
}
