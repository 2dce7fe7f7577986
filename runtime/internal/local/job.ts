/**
 * Runs stages in one process (local.mjs, single-stage workers, pipec/testing):
 * creates every stage instance, wires cut edges as synchronous in-memory
 * channels (hash, rebalance or forward) that carry records and watermarks,
 * drives the sources, and at the end of the input cascades final results,
 * the +∞ watermark and end-of-input downstream in order.
 *
 * Every entry into generated code goes through the job: one record from a
 * source or from another process (`deliver`), a timer, a watermark or the
 * end of input (`call`), or what an asyncMap call's completion sends on
 * (`asyncEntry`). A record whose processing throws in the user's code,
 * or whose key is invalid, goes to the dead-letter output with the reason and
 * the user's source location, and the job goes on; anything else fails the
 * job. `calls.depth` tells process contexts whether ctx.emit is called from
 * inside such an entry.
 *
 * The job drives its asyncMap operators (AsyncOperator): a source waits
 * while one is full (the promise its emit returns; stage workers ask
 * `backpressure()` between records), an instance whose input ended closes,
 * and ends the stages after it, only once their calls are out, and a stopped
 * or failed job stops them. ctx.metrics go to a prom-client registry
 * (UserMetrics), served by the runner when a metrics port is set.
 */
import client from 'prom-client';
import type { Graph } from '../../api/graph.ts';
import { checkKey, InvalidKeyError, InvalidTimestampError, partitionForKey } from '../partitioning.ts';
import type { Logger } from '../log.ts';
import { FailFastError, type DeadLetterOutput, type DeadLetterRecord } from '../dead-letter.ts';
import { errorMessage, recordText, userLocation } from '../errors.ts';
import type { SinkConnector, SinkContext, SourceConnector, SourceContext, SourceEmit } from '../connectors/types.ts';
import type { AsyncOperator, EdgeInput, EdgeOutput, SinkWriter, StageDefinition, StageEnv, StageInstance } from '../stage.ts';
import type { Manifest } from '../manifest.ts';
import { KeyedStateBackend } from '../state/backend.ts';
import { InternalTimerService } from '../state/timers.ts';
import { systemTime, type ProcessingTimeService } from '../time.ts';
import { WatermarkCoordinator, WatermarkGenerator } from '../watermarks.ts';
import { autoWatermarkInterval, UserWatermarkGenerator } from '../user-watermarks.ts';
import type { WatermarkGenerator as UserGenerator } from '../../api/watermarks.ts';
import { uidOf } from '../distributed/task-state.ts';
import { describeOperator } from '../operators/names.ts';
import { AsyncTimeoutError } from '../operators/async-wait.ts';
import { UserMetrics } from '../user-metrics.ts';

interface SourceBinding { stage: number; subtask: number; nodeId: number; connector: SourceConnector; emit: SourceEmit }

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
  /**
   * Wraps every entry into generated code that an asynchronous completion
   * makes (asyncMap results, their dead letters and the watermarks behind
   * them, between records): a stage worker task runs it as its own, so what
   * it sends joins the task's output and the task's next checkpoint covers it.
   */
  aroundAsyncEntry?: (entry: () => void) => void;
  /** Where ctx.metrics go, and the `task` label they carry (default: a registry of the job's own, and the subtask). */
  metrics?: { user: UserMetrics; task?: number };
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
  /** Instances whose close() was called. */
  private readonly closed = new Set<StageInstance>();
  /** The asyncMap operators of each instance, by stage and subtask, and all of them. */
  private readonly asyncOperators: AsyncOperator[][][] = [];
  private readonly allAsyncOperators: AsyncOperator[] = [];
  private loggedCallFailure = false;
  /** ctx.metrics of every instance (served on /metrics by the runner; read by pipec/testing). */
  readonly userMetrics: UserMetrics;
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
    this.userMetrics = options.metrics?.user ?? new UserMetrics(new client.Registry());
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
    for (const operator of this.allAsyncOperators) operator.stop();
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

  /**
   * Stops the sources and the asyncMaps (SIGTERM/SIGINT; their calls in flight
   * stay in their state for the last checkpoint); run() then ends without
   * firing final results, and closes the user functions after the last checkpoint.
   */
  stop(): void {
    this.abort.abort();
    for (const operator of this.allAsyncOperators) operator.stop();
  }

  /**
   * Resolves once no asyncMap of the job has a call in flight or a result
   * held back (pipec/testing: results of what was pushed have gone on), or
   * the job has failed.
   */
  async asyncSettled(): Promise<void> {
    while (!this.failed && this.allAsyncOperators.some((operator) => !operator.empty)) {
      await Promise.race([Promise.all(this.allAsyncOperators.map((operator) => operator.drained())), this.failedRun.catch(() => undefined)]);
    }
  }

  /** Whether the job was stopped (not failed) before its input ended. */
  private get stopped(): boolean { return this.abort.signal.aborted && !this.failed; }

  /**
   * Resolves when every asyncMap of the job has room again; undefined when
   * none is full, so the next record can go at once. Whoever feeds the job
   * waits for it between two records (Flink's AsyncWaitOperator blocks its input).
   */
  backpressure(): Promise<void> | undefined {
    let wait: Promise<void> | undefined;
    let waits: Array<Promise<void>> | undefined;
    for (const operator of this.allAsyncOperators) {
      if (!operator.full) continue;
      if (wait === undefined) wait = operator.room();
      else (waits ??= [wait]).push(operator.room());
    }
    return waits ? Promise.all(waits).then(() => undefined) : wait;
  }

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
      await Promise.race([this.allClosed(), this.failedRun]);
      if (this.options.beforeSinksClose) await Promise.race([this.options.beforeSinksClose(), this.failedRun]);
      // Stopped: the instances whose input did not end close now, after the last checkpoint, firing nothing.
      if (this.stopped) await Promise.race([this.closeStopped(), this.failedRun]);
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
    // asyncMaps make the calls restored from a checkpoint again, ahead of any new record.
    let restoredCalls = 0;
    for (const operator of this.allAsyncOperators) restoredCalls += operator.start();
    if (restoredCalls > 0) this.log.info({ calls: restoredCalls }, 'asyncMap calls that were in flight at the checkpoint are made again');
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
    const operators = this.asyncOperators[stageId]?.[subtask] ?? [];
    if (operators.length === 0) {
      this.closing.push(this.closeInstance(instance));
      this.endDownstream(stageId, subtask);
      return;
    }
    // Its asyncMaps have calls in flight: it closes, and the stages after it end, once their results (and the +∞
    // watermark held behind them) are out; close() itself waits for the calls of what its processing-time windows fire.
    this.closing.push((async () => {
      await Promise.all(operators.map((operator) => operator.drained()));
      if (this.abort.signal.aborted) return;
      let closed: Promise<void> = Promise.resolve();
      this.call(() => { closed = this.closeInstance(instance); });
      await closed;
      if (!this.abort.signal.aborted) this.call(() => this.endDownstream(stageId, subtask));
    })());
  }

  private closeInstance(instance: StageInstance): Promise<void> {
    this.closed.add(instance);
    return instance.close().catch((error: unknown) => this.fail(error));
  }

  /** Waits for every instance's close(), also those that begin meanwhile (stages after an asyncMap end once its calls are out). */
  private async allClosed(): Promise<void> {
    for (let seen = 0; seen < this.closing.length;) {
      const batch = this.closing.slice(seen);
      seen = this.closing.length;
      await Promise.all(batch);
    }
  }

  /** A stopped job: closes every instance that has not closed (user functions release what they hold; env.stopped, so nothing fires). */
  private async closeStopped(): Promise<void> {
    const closing: Array<Promise<void>> = [];
    this.call(() => {
      for (const instance of this.instances.flat()) if (instance && !this.closed.has(instance)) closing.push(this.closeInstance(instance));
    });
    await Promise.all(closing);
  }

  /** An instance has ended: the instances it feeds lose one input. */
  private endDownstream(stageId: number, subtask: number): void {
    for (const edgeId of this.manifest.stages[stageId].outputs) {
      const edge = this.edges.get(edgeId)!;
      if (!this.instances[edge.to]) continue;
      if (edge.partitioning === 'forward') this.inputEnded(edge.to, subtask);
      else for (let i = 0; i < this.instances[edge.to].length; i++) this.inputEnded(edge.to, i);
    }
  }

  /**
   * An asyncMap call failed (rejected, threw, or timed out): its input goes to
   * the dead-letter output with the reason and where (the user's frame, or the
   * asyncMap call for a timeout), counted; under --fail-fast the write throws
   * and the entry it runs in fails the job.
   */
  private callFailed(nodeId: number, position: number, value: unknown, error: unknown): void {
    const timedOut = error instanceof AsyncTimeoutError;
    const location = (timedOut ? undefined : userLocation(error, this.manifest.source)) ?? this.siteOf(nodeId);
    const record: DeadLetterRecord = {
      origin: this.originOf(nodeId), position,
      reason: timedOut ? errorMessage(error) : `the asyncMap call failed: ${errorMessage(error)}`,
      ...(location ? { location } : {}), raw: recordText(value),
    };
    this.count(nodeId, timedOut ? 'asyncTimeouts' : 'failedRecords');
    this.deadLetters.write(nodeId, record);
    if (!this.loggedCallFailure) {
      this.loggedCallFailure = true;
      this.log.warn({ reason: record.reason, location, origin: record.origin }, 'an asyncMap call failed or timed out: its record went to the dead-letter output (further ones are counted, not logged)');
    }
  }

  /** Adds to a runtime counter. */
  count(nodeId: number, name: string, by = 1): void {
    const id = `${nodeId}:${name}`;
    this.counters.set(id, (this.counters.get(id) ?? 0) + by);
  }

  private envFor(stage: StageDefinition, subtask: number): StageEnv {
    const { graph, manifest } = this;
    const job = this;
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
      operatorName: (nodeId) => describeOperator(manifest, graph, nodeId),
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
        // deliver(), written out for the per-record path of every source record; a full asyncMap makes the source wait.
        const deliver = (value: unknown, ts: number | undefined): void | Promise<void> => {
          position++;
          if (this.failed) return;
          calls.depth++;
          try {
            emit(value, ts);
          } catch (error) {
            this.recordFailed(error, nodeId, origin, position, value, connector);
          }
          calls.depth--;
          if (this.allAsyncOperators.length !== 0) return this.backpressure();
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
      watermarkGenerator: (nodeId, spec) => perNode(runtime.generators, nodeId, () => (spec.strategy === 'generator'
        ? new UserWatermarkGenerator(`ts:${nodeId}`, runtime.coordinator, (graph.nodes[nodeId].fn as [unknown, () => UserGenerator<unknown>])[1], spec.idleTimeout, this.guardedTime,
          manifest.mode === 'batch', env.backend(nodeId), autoWatermarkInterval(graph), this.abort.signal)
        : new WatermarkGenerator(`ts:${nodeId}`, runtime.coordinator, spec.maxOutOfOrderness, spec.idleTimeout, this.guardedTime, manifest.mode === 'batch')
      )),
      onWatermark: (nodeId, fn, onIdle) => runtime.coordinator.register(nodeId, fn, onIdle),
      heldWatermark: (nodeId) => ({
        advance: (watermark) => runtime.coordinator.advance(`async:${nodeId}`, watermark),
        setIdle: (idle) => runtime.coordinator.setIdle(`async:${nodeId}`, idle),
      }),
      asyncOperator: (_nodeId, operator) => {
        ((this.asyncOperators[stage.id] ??= [])[subtask] ??= []).push(operator);
        this.allAsyncOperators.push(operator);
      },
      asyncEntry: (work) => {
        const enter = this.options.aroundAsyncEntry;
        if (enter) enter(() => this.call(work));
        else this.call(work);
      },
      completed: (nodeId, position, value, send) => {
        try {
          send();
        } catch (error) {
          this.recordFailed(error, nodeId, this.originOf(nodeId), position, value);
        }
      },
      callFailed: (nodeId, position, value, error) => this.callFailed(nodeId, position, value, error),
      get stopped() { return job.stopped; },
      sideOutput: (tag, route, value, ts) => {
        this.options.onSideOutput?.(tag, value, ts);
        if (route) route(value, ts);
      },
      metrics: (nodeId) => this.userMetrics.forOperator({
        stage: String(stage.id),
        operator: graph.nodes[nodeId].name ?? manifest.nodes[nodeId]?.label ?? graph.nodes[nodeId].kind,
        uid: uidOf(manifest, nodeId),
        task: String(this.options.metrics?.task ?? subtask),
      }, env.operatorName(nodeId)),
      count: (nodeId, name, by) => this.count(nodeId, name, by),
    };
    return env;
  }
}
