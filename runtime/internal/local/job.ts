/**
 * Runs stages in one process (local.mjs, single-stage workers, pipec/testing):
 * creates every stage instance, wires cut edges as synchronous in-memory
 * channels (hash, rebalance or forward) that carry records and watermarks,
 * drives the sources, and at the end of the input cascades final results,
 * the +∞ watermark and end-of-input downstream in order.
 *
 * Every entry into generated code goes through the job: one record from a
 * source or from another process (`deliver`), or a timer, a watermark or the
 * end of input (`call`). A record whose processing throws in the user's code,
 * or whose key is invalid, goes to the dead-letter output with the reason and
 * the user's source location, and the job goes on; anything else fails the
 * job. `calls.depth` tells process contexts whether ctx.emit is called from
 * inside such an entry.
 */
import type { Graph } from '../../api/graph.ts';
import type { Metrics } from '../../api/functions.ts';
import { checkKey, InvalidKeyError, InvalidTimestampError, partitionForKey } from '../partitioning.ts';
import type { Logger } from '../log.ts';
import { FailFastError, type DeadLetterOutput, type DeadLetterRecord } from '../dead-letter.ts';
import { errorMessage, recordText, userLocation } from '../errors.ts';
import type { SinkConnector, SinkContext, SourceConnector, SourceContext } from '../connectors/types.ts';
import type { EdgeInput, EdgeOutput, SinkWriter, StageDefinition, StageEnv, StageInstance } from '../stage.ts';
import type { Manifest } from '../manifest.ts';
import { KeyedStateBackend } from '../state/backend.ts';
import { InternalTimerService } from '../state/timers.ts';
import { systemTime, type ProcessingTimeService } from '../time.ts';
import { WatermarkCoordinator, WatermarkGenerator } from '../watermarks.ts';
import { uidOf } from '../distributed/task-state.ts';

interface SourceBinding { stage: number; subtask: number; nodeId: number; connector: SourceConnector; emit: (value: unknown, ts: number | undefined) => void }

/** How a LocalJob may be customised (pipec/testing replaces sources, sinks and the clock). */
export interface LocalJobOptions {
  time?: ProcessingTimeService;
  createSource?: (nodeId: number, ctx: SourceContext) => SourceConnector | undefined;
  createSink?: (nodeId: number, ctx: SinkContext) => SinkConnector | undefined;
  onSideOutput?: (tag: string, value: unknown, ts: number | undefined) => void;
  /** Keyed state and timers record what changed, for incremental checkpoints (stage worker tasks, local checkpoints). */
  trackState?: boolean;
  /** The job takes checkpoints: sources commit their positions only when a checkpoint completes. */
  checkpointing?: boolean;
  /**
   * Runs once every instance is created and before any user function's
   * open(): a stage worker task restores its checkpoint here.
   */
  onCreated?: () => void;
  /**
   * Runs when the job has ended without failing (its inputs ended, or stop()),
   * after its instances closed and before its sinks close: the last
   * checkpoint, which publishes what checkpointing sinks staged.
   */
  beforeSinksClose?: () => Promise<void>;
  /** Adjusts a sink's context before it is created (a stage worker task gives its file sinks a file of their own). */
  sinkContext?: (ctx: SinkContext) => SinkContext;
  /** Where edges to stages outside this job go (Kafka repartition topics in a distributed worker). */
  remote?: {
    output(edgeId: string): (key: unknown, value: unknown, ts: number | undefined) => void;
    watermark(edgeId: string, message: number | 'idle' | 'active'): void;
  };
}

/** State of one stage instance that the runtime owns. */
export interface InstanceRuntime {
  coordinator: WatermarkCoordinator;
  backends: Map<number, KeyedStateBackend>;
  timers: Map<number, InternalTimerService>;
  generators: Map<number, WatermarkGenerator>;
}

/** Builds the collector of one cut edge for one upstream subtask; a hash edge checks every key, whatever the parallelism. */
function edgeOutput(partitioning: string, keyNode: number | null, targets: EdgeInput[], subtask: number): Pick<EdgeOutput, 'collect'> {
  const n = targets.length;
  if (partitioning === 'hash') {
    if (n === 1) { const only = targets[0]; return { collect: (key, value, ts) => { checkKey(key, keyNode); only(key, value, ts); } }; }
    return { collect: (key, value, ts) => { checkKey(key, keyNode); targets[partitionForKey(key, n)](key, value, ts); } };
  }
  if (n === 1) { const only = targets[0]; return { collect: only }; }
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
  private readonly edges: Map<string, Manifest['edges'][number]>;
  private readonly time: ProcessingTimeService;
  private readonly stageIds: Set<number>;
  /** Processing time whose callbacks run as calls into the job (see `call`). */
  private readonly guardedTime: ProcessingTimeService;
  /** Calls into generated code in progress; process contexts refuse ctx.emit when there is none. */
  readonly calls = { depth: 0 };
  private failed = false;
  private ended = false;
  private failure: unknown;
  private rejectRun: (error: unknown) => void = () => undefined;
  private readonly failedRun = new Promise<never>((_resolve, reject) => { this.rejectRun = reject; });
  private loggedUserError = false;
  /** Records delivered per input edge from outside the job (the position a dead letter names). */
  private readonly edgePositions = new Map<string, number>();
  /** The instances' close(), awaited before the sinks close. */
  private readonly closing: Array<Promise<void>> = [];
  private markReady: () => void = () => undefined;
  /**
   * Resolves once every instance's open() has finished: records pushed from
   * outside the job (stage workers, pipec/testing) must wait for it.
   */
  readonly ready = new Promise<void>((resolve) => { this.markReady = resolve; });

  constructor(
    private readonly graph: Graph,
    private readonly stages: StageDefinition[],
    private readonly manifest: Manifest,
    private readonly log: Logger,
    private readonly deadLetters: DeadLetterOutput,
    private readonly options: LocalJobOptions = {},
  ) {
    this.edges = new Map(manifest.edges.map((e) => [e.id, e]));
    this.time = options.time ?? systemTime();
    const time = this.time;
    this.guardedTime = { now: () => time.now(), schedule: (at, callback) => time.schedule(at, () => this.call(callback)) };
    this.stageIds = new Set(stages.map((s) => s.id));
    this.failedRun.catch(() => undefined);
  }

  /** Whether the job has failed (records still arriving are dropped). */
  get hasFailed(): boolean { return this.failed; }

  /** Why the job failed (undefined while it has not). */
  get failureCause(): unknown { return this.failure; }

  /**
   * Fails the job: sources stop, records still arriving are dropped, and run()
   * rejects with `error`. After run() has ended (a user timer firing late)
   * the error is logged and the process exit code set to 1.
   */
  fail(error: unknown): void {
    if (this.ended && !this.failed) {
      this.log.error({ err: error }, 'failed after the job had ended');
      process.exitCode = 1;
    }
    if (this.failed) return;
    this.failed = true;
    this.failure = error;
    this.abort.abort();
    this.rejectRun(error);
  }

  /**
   * Runs a call into generated code that is not one record — a timer, a
   * watermark, the end of input — so ctx.emit is valid inside it; an
   * exception fails the job.
   */
  call(callback: () => void): void {
    if (this.failed) return;
    this.calls.depth++;
    try {
      callback();
    } catch (error) {
      this.fail(error);
    } finally {
      this.calls.depth--;
    }
  }

  /**
   * Hands one record to generated code (`enter` is a source's emit or an
   * edge input). An exception thrown by the user's code on it sends the record
   * to the dead-letter output and the job goes on.
   */
  private deliver(nodeId: number, origin: string, position: number, enter: (value: unknown, ts: number | undefined) => void, value: unknown, ts: number | undefined): void {
    if (this.failed) return;
    this.calls.depth++;
    try {
      enter(value, ts);
    } catch (error) {
      this.recordFailed(error, nodeId, origin, position, value);
    }
    this.calls.depth--;
  }

  /**
   * A record's processing threw. An invalid key, or an exception with a frame
   * in the user's code, sends the record to the dead-letter output (counted;
   * --fail-fast stops the job). Anything else is the runtime's or a
   * connector's failure (a sink that cannot write) and fails the job.
   */
  private recordFailed(error: unknown, nodeId: number, origin: string, position: number, value: unknown, source?: SourceConnector): void {
    if (error instanceof FailFastError) { this.fail(error); return; }
    const invalidKey = error instanceof InvalidKeyError;
    const invalidTimestamp = error instanceof InvalidTimestampError;
    const location = invalidKey ? this.siteOf(error.keyNode) : invalidTimestamp ? this.siteOf(error.node) : userLocation(error, this.manifest.source);
    if (!invalidKey && !invalidTimestamp && location === undefined && error instanceof Error) { this.fail(error); return; }
    const node = invalidKey ? error.keyNode ?? nodeId : invalidTimestamp ? error.node : nodeId;
    const record: DeadLetterRecord = { origin, position, reason: errorMessage(error), ...(location ? { location } : {}), raw: recordText(value) };
    this.count(node, invalidKey ? 'invalidKeys' : invalidTimestamp ? 'invalidTimestamps' : 'failedRecords');
    try {
      this.deadLetters.write(node, record);
      source?.deadLettered?.(record);
    } catch (writeError) {
      this.fail(writeError);
      return;
    }
    if (!this.loggedUserError && !invalidKey && !invalidTimestamp) {
      this.loggedUserError = true;
      this.log.warn({ err: error, location, origin, position }, 'a function threw on a record: it went to the dead-letter output (further ones are counted, not logged)');
    }
  }

  /** `file:line:col` of a node's DSL call, from the manifest. */
  private siteOf(nodeId: number | null): string | undefined {
    return nodeId === null ? undefined : this.manifest.nodes[nodeId]?.site ?? undefined;
  }

  /** What a dead letter names as the origin of a record that entered at a node (`source file.jsonl(in/x.jsonl)`). */
  private originOf(nodeId: number): string {
    return this.manifest.nodes[nodeId]?.label ?? `node ${nodeId}`;
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
    const position = (this.edgePositions.get(edgeId) ?? 0) + 1;
    this.edgePositions.set(edgeId, position);
    this.deliver(edge.to, `edge ${edgeId}`, position, (v, t) => {
      const targets = this.instances[edge.to];
      const key = edge.keyNode === null ? undefined : (this.graph.nodes[edge.keyNode].fn as (v: unknown) => unknown)(v);
      if (edge.partitioning === 'hash') checkKey(key, edge.keyNode);
      const index = edge.partitioning === 'hash' ? partitionForKey(key, targets.length) : 0;
      targets[index].inputs[edgeId](key, v, t);
    }, value, ts);
  }

  /** Sends a watermark (or an idle/active status) on an input edge whose upstream stage is not in this job. */
  watermarkOnEdge(edgeId: string, message: number | 'idle' | 'active'): void {
    const edge = this.edges.get(edgeId)!;
    this.call(() => { for (const runtime of this.runtimes[edge.to] ?? []) runtime.coordinator.onEdge(edgeId, 0, message); });
  }

  /** The positions of the sources that have them, by `<node>/<subtask>` (a checkpoint; call between records). */
  sourcePositions(): Record<string, unknown> {
    const positions: Record<string, unknown> = {};
    for (const s of this.sources) if (s.connector.snapshotPosition) positions[`${s.nodeId}/${s.subtask}`] = s.connector.snapshotPosition();
    return positions;
  }

  /** Gives sources the positions of the last checkpoint (before they run: from `onCreated`). */
  restoreSourcePositions(positions: Record<string, unknown>): void {
    for (const s of this.sources) {
      const position = positions[`${s.nodeId}/${s.subtask}`];
      if (position !== undefined) s.connector.restorePosition?.(position);
    }
  }

  /** A checkpoint holding these source positions is durable. */
  checkpointComplete(positions: Record<string, unknown>): void {
    for (const s of this.sources) {
      const position = positions[`${s.nodeId}/${s.subtask}`];
      if (position !== undefined) s.connector.checkpointComplete?.(position);
    }
  }

  /** The states of the sinks that take part in checkpoints, by node uid, at a checkpoint's cut (call between records). */
  snapshotSinks(): Record<string, unknown> {
    const states: Record<string, unknown> = {};
    for (const [nodeId, sink] of this.sinks) if (sink.snapshotState) states[uidOf(this.manifest, nodeId)] = sink.snapshotState();
    return states;
  }

  /** Gives each sink that takes part in checkpoints its state from the last checkpoint (none: a fresh start); from `onCreated`. */
  initializeSinks(states: Record<string, unknown>): void {
    for (const [nodeId, sink] of this.sinks) sink.initializeState?.(states[uidOf(this.manifest, nodeId)]);
  }

  /** The checkpoint holding these sink states is durable: the sinks publish what they staged for it. */
  sinksCheckpointComplete(states: Record<string, unknown>): void {
    for (const [nodeId, sink] of this.sinks) {
      const uid = uidOf(this.manifest, nodeId);
      if (uid in states) sink.notifyCheckpointComplete?.(states[uid]);
    }
  }

  /** Stops the sources (SIGTERM/SIGINT); run() then ends without firing final results. */
  stop(): void { this.abort.abort(); }

  /**
   * Creates every instance and runs to the end of every bounded input (or
   * until stop()), then closes the sinks, which publishes their output. When
   * --fail-fast stops the job, what was produced before the record that
   * stopped it is written out but not published as the result (a file sink
   * leaves it in `<file>.partial`, other sinks flush and close). When the job
   * fails, the sources stop and the sinks abort instead (a file sink leaves
   * its target untouched).
   */
  async run(): Promise<void> {
    try {
      await this.runToEnd();
    } finally {
      this.ended = true;
    }
  }

  private async runToEnd(): Promise<void> {
    try {
      const inputs = this.runInputs();
      inputs.catch(() => undefined); // observed by the race; may reject after a failure already ended it
      await Promise.race([inputs, this.failedRun]);
      if (this.failed) throw this.failure;
      await Promise.race([Promise.all(this.closing), this.failedRun]);
      if (this.options.beforeSinksClose) await Promise.race([this.options.beforeSinksClose(), this.failedRun]);
    } catch (error) {
      this.fail(error);
      if (error instanceof FailFastError) {
        for (const sink of this.sinks.values()) {
          try {
            if (sink.keepPartial) this.log.warn({ file: await sink.keepPartial() }, 'the output produced before the bad record is kept beside the file sink\'s file');
            else await sink.close();
          } catch (closeError) {
            this.log.warn({ err: closeError }, 'a sink could not write its output');
          }
        }
        throw error;
      }
      for (const sink of this.sinks.values()) {
        await sink.abort?.().catch((abortError: unknown) => this.log.warn({ err: abortError }, 'a sink could not discard its output'));
      }
      throw error;
    }
    for (const sink of this.sinks.values()) await sink.close();
  }

  private async runInputs(): Promise<void> {
    for (const stage of this.stages) {
      this.runtimes[stage.id] = Array.from({ length: stage.parallelism }, (_, subtask) => this.instanceRuntime(stage, subtask));
    }
    // Create downstream stages first so upstream outputs can bind to their inputs directly.
    for (const stage of [...this.stages].sort((a, b) => b.id - a.id)) {
      this.instances[stage.id] = [];
      for (let subtask = 0; subtask < stage.parallelism; subtask++) this.instances[stage.id][subtask] = stage.create(this.envFor(stage, subtask));
    }
    this.options.onCreated?.();
    // User functions' open(ctx) may be async: every one finishes before any record flows.
    await Promise.all(this.instances.flat().map((instance) => instance.open()));
    this.markReady();
    for (const stage of this.stages) {
      const info = this.manifest.stages[stage.id];
      this.pending[stage.id] = Array.from({ length: stage.parallelism }, (_, subtask) =>
        this.sources.filter((s) => s.stage === stage.id && s.subtask === subtask).length +
        info.inputs.reduce((sum, edgeId) => sum + this.channelCount(edgeId), 0));
    }
    // Instances fed only over edges from stages outside this job (a single stage under test) end when told to.
    const external = this.stages.flatMap((stage) => this.pending[stage.id].map((count, subtask) => ({ stage: stage.id, subtask, count }))).filter((i) => i.count === 0);
    for (const { stage, subtask } of external) this.pending[stage][subtask] = 1;
    // stop() ends the wait too, without ending the inputs (nothing fires).
    const externalEnded = new Promise<boolean>((resolve) => {
      this.endExternalInputs = () => resolve(true);
      this.abort.signal.addEventListener('abort', () => resolve(false), { once: true });
    }).then((ended) => { if (ended) this.call(() => { for (const { stage, subtask } of external) this.inputEnded(stage, subtask); }); });
    if (external.length === 0) this.endExternalInputs();
    await Promise.all([externalEnded, ...this.sources.map(async (binding) => {
      await binding.connector.run(binding.emit);
      if (this.abort.signal.aborted) return;
      const origin = `source:${binding.nodeId}`;
      const runtime = this.runtimes[binding.stage][binding.subtask];
      this.call(() => {
        if (this.manifest.stages[binding.stage].watermarks.origins.includes(origin)) runtime.coordinator.advance(origin, Infinity);
        this.inputEnded(binding.stage, binding.subtask);
      });
    })]);
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
    this.closing.push(instance.close().catch((error: unknown) => this.fail(error)));
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
    const optionsOf = (nodeId: number) => {
      const node = graph.nodes[nodeId];
      if (node.kind !== 'source' && node.kind !== 'sink') throw new Error(`internal: node ${nodeId} is no source or sink`);
      return node.spec.options;
    };
    const perNode = <T>(map: Map<number, T>, nodeId: number, create: () => T): T => {
      let value = map.get(nodeId);
      if (value === undefined) { value = create(); map.set(nodeId, value); }
      return value;
    };
    const env: StageEnv = {
      graph, subtask, parallelism: stage.parallelism, mode: manifest.mode, time: this.guardedTime,
      calls: this.calls,
      fail: (error) => this.fail(error),
      operatorName: (nodeId) => {
        const site = this.siteOf(nodeId);
        const label = manifest.nodes[nodeId]?.label ?? graph.nodes[nodeId].kind;
        return site ? `${label} (${site})` : label;
      },
      fn: <F>(nodeId: number) => graph.nodes[nodeId].fn as F,
      node: (nodeId) => graph.nodes[nodeId],
      source: (nodeId, create, emit) => {
        const ctx: SourceContext = {
          pipeline: graph.name, nodeId, options: optionsOf(nodeId), columnTypes: manifest.columnTypes?.[nodeId], subtask, parallelism: stage.parallelism,
          signal: this.abort.signal, log: this.log, checkpointing: this.options.checkpointing === true,
          deadLetter: (record) => this.deadLetters.write(nodeId, record),
          flush: () => this.flush(),
        };
        const connector = this.options.createSource?.(nodeId, ctx) ?? create(ctx);
        const origin = this.originOf(nodeId);
        let position = 0;
        const calls = this.calls;
        // deliver(), written out for the per-record path of every source record.
        const deliver = (value: unknown, ts: number | undefined): void => {
          position++;
          if (this.failed) return;
          calls.depth++;
          try {
            emit(value, ts);
          } catch (error) {
            this.recordFailed(error, nodeId, origin, position, value, connector);
          }
          calls.depth--;
        };
        this.sources.push({ stage: stage.id, subtask, nodeId, connector, emit: deliver });
      },
      sink: (nodeId, create): SinkWriter => {
        let connector = this.sinks.get(nodeId);
        if (!connector) {
          const base: SinkContext = {
            pipeline: graph.name, nodeId, options: optionsOf(nodeId), parallelism: graph.nodes[nodeId].parallelism ?? stage.parallelism, log: this.log,
            deadLetter: (record) => { this.count(nodeId, 'rejectedRecords'); this.deadLetters.write(nodeId, record); },
          };
          const ctx = this.options.sinkContext?.(base) ?? base;
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
        if (!downstream && this.options.remote) {
          const remote = this.options.remote.output(edgeId);
          return { collect: edge.partitioning === 'hash' ? (key, value, ts) => { checkKey(key, edge.keyNode); remote(key, value, ts); } : remote };
        }
        if (!downstream) throw new Error(`stage ${stage.id} writes to stage ${edge.to} over ${edge.topic ?? edgeId}, which this process does not run; run local.mjs, or run every stage with Kafka`);
        return edgeOutput(edge.partitioning, edge.keyNode, downstream.map((instance) => instance.inputs[edgeId]), subtask);
      },
      backend: (nodeId) => perNode(runtime.backends, nodeId, () => new KeyedStateBackend(this.options.trackState)),
      keyedState: <S>(nodeId: number) => env.backend(nodeId).table<S>('rolling'),
      timers: (nodeId) => perNode(runtime.timers, nodeId, () => new InternalTimerService(this.options.trackState)),
      watermarkGenerator: (nodeId, spec) => perNode(runtime.generators, nodeId, () => (
        new WatermarkGenerator(`ts:${nodeId}`, runtime.coordinator, spec.maxOutOfOrderness, spec.idleTimeout, this.guardedTime, manifest.mode === 'batch')
      )),
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
