/**
 * A stage as a distributed worker (Kafka Streams' StreamThread → StreamTask).
 *
 * One consumer in the stage's group reads the stage's input topics (Kafka
 * sources and repartition topics), co-partitioned; each assigned partition
 * index is a task: a one-instance LocalJob that owns its keyed state, window
 * contents, timers, watermarks and input positions. A task checkpoints every
 * `checkpoint.interval` (and before it moves away, on SIGTERM, and when its
 * input ends): the output it produced since the last checkpoint (repartition
 * topics, Kafka sinks, watermark markers, dead letters), the state it changed
 * (records of the stage's compacted changelog topic, partition = task index,
 * see task-state.ts) and its input positions go out together — under
 * exactly-once in one Kafka transaction of the task's own transactional
 * producer, which also commits the consumed offsets; under at-least-once as
 * plain sends followed by an offset commit. Consumers of pipec's topics read
 * committed records only.
 *
 * When a partition moves to another worker (crash, deploy, scale out or in),
 * its new owner first creates the task's transactional producer, which fences
 * the previous owner (a zombie cannot commit any more) and aborts its open
 * transaction, then reads the task's changelog partition to the end (after
 * the local copy of its state, when this machine has one: local-state.ts) and
 * resumes from that state and those positions: records before the restored
 * positions are skipped, so nothing is counted twice and no window fires
 * early, twice or with partial contents. Partitions a worker keeps through a
 * rebalance keep their running task (the assignment is sticky).
 *
 * A record that cannot be decoded, makes the fused chain throw in the user's
 * code, or has an invalid key goes to the dead-letter file and to the
 * `<pipeline>-dlq` topic (reason, user source location and origin in
 * headers), committed with the task's next checkpoint; the partition goes on.
 * Under --fail-fast, or when a task fails otherwise, the worker stops with
 * exit code 1 without committing what the failed task produced since its last
 * checkpoint. Stages without Kafka inputs run one task that drives their
 * sources.
 */
import type { KafkaFormat } from '../connectors/kafka/api.ts';
import type { Graph } from '../../api/graph.ts';
import { keyText, partitionForKey } from '../partitioning.ts';
import { LocalJob } from '../local/job.ts';
import type { Logger } from '../log.ts';
import type { DeadLetterFile, DeadLetterOutput, DeadLetterRecord } from '../dead-letter.ts';
import type { SinkContext, SourceConnector } from '../connectors/types.ts';
import { closeProcessKafka, OutboxKafkaSink, processKafka } from '../connectors/kafka/runtime.ts';
import { decodeValue } from '../kafka/formats.ts';
import { FencedError, heartbeatWhile, type GroupConsumer, type IncomingRecord, type KafkaClient, type OutgoingRecord, type ProducedOffset, type RecordProducer, type TransactionalProducer } from '../kafka/client.ts';
import type { StageDefinition } from '../stage.ts';
import type { Manifest, ManifestEdge } from '../manifest.ts';
import { HEALTH_GRACE_MS, WorkerMetrics } from './metrics.ts';
import { decodeWatermark, edgeRecordCodec, encodeWatermark, namespaced, PartitionWatermark, WATERMARK_HEADER } from './edges.ts';
import { operatorFigures } from './operator-metrics.ts';
import { ChangelogWriter, isFullState, metaRecord, RestoredState, runtimeSnapshot, type ChangelogRecord, type TaskMeta } from './task-state.ts';
import { LocalMembers, LocalTaskStore, workerDirectory } from './local-state.ts';

/** Worker settings from flags and the environment. */
export interface WorkerOptions { group?: string; sessionTimeout?: number; metricsPort?: number; signals?: StopSignals }

/** SIGTERM/SIGINT, caught from the first moment of the process (before the worker exists) and handed to it. */
export class StopSignals {
  requested: string | null = null;
  private listener: ((signal: string) => void) | null = null;
  constructor() {
    const on = (signal: string) => { this.requested = signal; this.listener?.(signal); };
    process.once('SIGTERM', () => on('SIGTERM')).once('SIGINT', () => on('SIGINT'));
  }
  /** Calls `listener` on a signal, at once if one came already. */
  listen(listener: (signal: string) => void): void {
    this.listener = listener;
    if (this.requested) listener(this.requested);
  }
}

/**
 * The largest record the worker sends (key, value and headers), under the
 * broker's default message.max.bytes (1 MB); PIPEC_KAFKA_MAX_RECORD_BYTES when
 * the brokers allow more. A larger output record goes to the dead-letter topic
 * (truncated) instead of failing every send of its transaction.
 */
const MAX_RECORD_BYTES = Number(process.env.PIPEC_KAFKA_MAX_RECORD_BYTES ?? 1_000_000);

function recordBytes(r: OutgoingRecord): number {
  let size = (r.value === null ? 0 : typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length) + (r.key ? Buffer.byteLength(r.key) : 0);
  if (r.headers) for (const [k, v] of Object.entries(r.headers)) size += k.length + Buffer.byteLength(v);
  return size;
}

/** How often a task sends its watermark or idle status again when it has sent none (ms). */
const MARKER_RENEWAL_MS = 2000;

/** A task's output buffer beyond which the batch loop sends it ahead of the next checkpoint (into the open transaction) before fetching more. */
const MAX_BUFFERED_OUTPUT = 20_000;

/** A source whose records the worker delivers (the consumer, not the connector, reads Kafka). */
class DeliveredSource implements SourceConnector {
  emit: ((value: unknown, ts: number | undefined) => void) | null = null;
  private done!: () => void;
  private readonly ended = new Promise<void>((resolve) => { this.done = resolve; });
  run(emit: (value: unknown, ts: number | undefined) => void): Promise<void> { this.emit = emit; return this.ended; }
  end(): void { this.done(); }
}

/** Waits for a promise, but no longer than `ms` (shutdown steps that must not keep a stopping worker up). */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}

/** The consumer group a `kafka.source({ group })` of the stage names (the stage's one consumer reads all of its inputs in it). */
function sourceGroup(graph: Graph, nodes: readonly number[]): string | undefined {
  for (const nodeId of nodes) {
    const node = graph.nodes[nodeId];
    if (node.kind === 'source' && node.spec.connector === 'kafka' && typeof node.spec.options.group === 'string') return node.spec.options.group;
  }
  return undefined;
}

/** The changelog topic of a stage: task state, compacted, one partition per task. */
export function changelogTopic(manifest: Manifest, stageId: number): string {
  return namespaced(`${manifest.pipeline}-stage-${stageId}-changelog`);
}

/** One partition index of the stage's inputs. */
class Task {
  job: LocalJob | null = null;
  readonly sources = new Map<number, DeliveredSource>();
  private readonly partitionWatermarks = new Map<string, PartitionWatermark>();
  /** Per input topic: the next offset to read; records before it are in the task's state already. */
  private readonly positions = new Map<string, bigint>();
  /** Output since the last checkpoint, sent with it. */
  outgoing: OutgoingRecord[] = [];
  /** The latest watermark (or status) per outgoing edge not yet sent. */
  private readonly watermarks = new Map<string, number | 'idle' | 'active'>();
  private producer: TransactionalProducer | null = null;
  private running: Promise<void> = Promise.resolve();
  /** Checkpoints and sends ahead run one after another, in this chain, while the task goes on processing. */
  private checkpointing: Promise<void> = Promise.resolve();
  /** Steps of the chain queued or running. */
  private chained = 0;
  /** A checkpoint queued behind the step in flight (one is enough: it takes its cut when it starts). */
  private queuedCheckpoint: Promise<void> | null = null;
  /** A send ahead queued behind the step in flight. */
  private queuedSend: Promise<void> | null = null;
  private checkpoints = 0;
  lastCheckpointAt = Date.now();
  /** When the next checkpoint is due (ms): at once for a task that restored a checkpoint, so its first output after a move or restart is not held back for an interval. */
  private dueAt = Infinity;
  private lastMarkersAt = Date.now();
  /** Records or timers ran since the last checkpoint. */
  private dirty = false;
  /** Every input has ended and the job has finished (bounded jobs). */
  ended = false;
  /** Every input has ended: the job is emitting its final results, then takes its last checkpoint. */
  private finishing = false;
  /** Fenced, revoked or stopped: the task must not commit any more. */
  lost = false;
  /** Resolves once the task is restored and its user functions are open. */
  readonly ready: Promise<void>;
  /** Whether `ready` has resolved. */
  restored = false;
  private localStore: LocalTaskStore | null = null;
  /** What each checkpoint writes of the task's state (set once restored). */
  private changelogWriter: ChangelogWriter | null = null;
  /** Records of the last restore that came from the local copy (logs). */
  private localRecords = 0;

  constructor(readonly index: number, private readonly worker: StageWorker) {
    this.ready = this.start();
    this.ready.then(() => { this.restored = true; }, () => undefined);
    this.ready.catch((error: unknown) => { if (!(error instanceof FencedError)) worker.fail(error); });
  }

  private get producerId(): string { return `${this.worker.stage.id}-${this.index}`; }

  /** Fences the previous owner, restores the checkpoint, opens the user functions. */
  private async start(): Promise<void> {
    const { worker } = this;
    const { graph, manifest, stage, log } = worker;
    const started = Date.now();
    if (worker.exactlyOnce) this.producer = await worker.client.transactionalProducer(`${worker.transactionalPrefix}-${this.index}`);
    const fencedAt = Date.now();
    const restored = await this.restore();
    const readAt = Date.now();
    const meta = restored.meta;
    this.changelogWriter = new ChangelogWriter(restored);
    this.dueAt = meta ? Date.now() : Date.now() + worker.interval;
    if (meta) {
      for (const [topic, next] of Object.entries(meta.positions)) {
        // A topic the stage no longer reads (its source topic was changed): its offsets must not be committed again.
        if (worker.edgeByTopic.has(topic) || worker.sourceByTopic.has(topic)) this.positions.set(topic, BigInt(next));
        else log.warn({ task: this.index, topic, next }, 'the checkpoint has a position in a topic this stage no longer reads: left out');
      }
      for (const [edgeId, producers] of Object.entries(meta.partitionWatermarks)) this.partitionWatermark(edgeId).restore(producers);
      this.checkpoints = meta.checkpoint;
    }
    if (meta?.ended) {
      // Its input ended and its final output is committed: nothing runs again.
      this.ended = true;
      log.info({ task: this.index }, 'task restored: its input had ended');
      return;
    }
    let applied = { entries: 0, timers: 0, dropped: 0 };
    const job = new LocalJob(graph, [{ ...stage, parallelism: 1 }], manifest, log, worker.deadLetterOutputOf(this), {
      trackState: true,
      onCreated: () => {
        applied = restored.applyTo(job.runtimes[stage.id][0], manifest, manifest.stages[stage.id].nodes);
        job.initializeSinks(meta?.sinks ?? {});
      },
      // Tasks of a stage run apart (other LocalJobs, other processes): a file sink of task i > 0 writes `<file>.task-<i>`.
      sinkContext: (base) => {
        const ctx = { ...base, instance: `task-${this.index}` };
        const node = graph.nodes[ctx.nodeId];
        if (this.index === 0 || node.kind !== 'sink' || node.spec.connector !== 'file') return ctx;
        return { ...ctx, options: { ...ctx.options, path: `${ctx.options.path as string}.task-${this.index}` } };
      },
      // A bounded job's last checkpoint, after its final results and before its sinks close (they publish with it).
      beforeSinksClose: async () => {
        if (!this.finishing || this.lost) return;
        this.ended = true;
        this.dirty = true;
        await this.checkpoint('end of input');
      },
      createSource: (nodeId) => {
        if (!worker.sourceFormats.has(nodeId)) throw new Error('a stage that reads Kafka topics cannot also have file, collection or generator sources');
        const source = new DeliveredSource();
        this.sources.set(nodeId, source);
        return source;
      },
      createSink: (nodeId, ctx) => worker.outboxSink(this, nodeId, ctx),
      remote: { output: (edgeId) => worker.edgeOutput(edgeId, this), watermark: (edgeId, message) => { this.watermarks.set(edgeId, message); } },
      // What an asyncMap's completed calls send (between batches) is this task's: its output, its dead letters, its next checkpoint.
      aroundAsyncEntry: (entry) => { this.dirty = true; worker.inTask(this, entry); },
      metrics: { user: worker.metrics.user, task: this.index },
    });
    this.job = job;
    this.running = job.run();
    this.running.catch((error: unknown) => { if (!this.lost) worker.fail(error); });
    await Promise.race([job.ready, this.running]);
    if (applied.dropped) log.warn({ task: this.index, dropped: applied.dropped }, 'checkpointed state of operators this build no longer has was left out');
    log.info({ task: this.index, checkpoint: this.checkpoints, localRecords: this.localRecords, changelogRecords: restored.records - this.localRecords, entries: applied.entries, timers: applied.timers, positions: Object.fromEntries([...this.positions].map(([t, o]) => [t, String(o)])), ms: Date.now() - started, fenceMs: fencedAt - started, readMs: readAt - fencedAt, applyMs: Date.now() - readAt }, meta ? 'task restored from its checkpoint' : 'task started with empty state');
    // Watermark origins whose end was checkpointed but not yet acted upon (a crash right after the end marker).
    this.checkEnd();
  }

  /**
   * The task's last committed checkpoint: the local copy of its state, when
   * this machine has one it can trust, and the changelog after it; else the
   * whole changelog partition. The local copy is then brought up to date.
   */
  private async restore(): Promise<RestoredState> {
    const { worker } = this;
    const store = this.store;
    let local = store?.load() ?? null;
    let restored = local?.state ?? new RestoredState();
    const tail: ChangelogRecord[] = [];
    const read = (from: bigint | undefined) => worker.client.readPartitions(worker.changelog, [{ partition: this.index, from }], (_p, key, value) => {
      if (key === null) return;
      restored.add(key, value);
      tail.push({ key, value });
    });
    let end = (await read(local?.next)).get(this.index) ?? 0n;
    if (local && local.next > end) {
      // The changelog ends before the local copy: it is not this changelog's (the topic was deleted and created again).
      worker.log.warn({ task: this.index, local: String(local.next), changelogEnd: String(end) }, 'local task state is ahead of the changelog: reading the changelog instead');
      restored = new RestoredState();
      tail.length = 0;
      local = null;
      end = (await read(undefined)).get(this.index) ?? 0n;
    }
    const checkpoint = restored.meta?.checkpoint ?? 0;
    if (!local) store?.rewrite(restored, checkpoint, end);
    else if (tail.length) store?.append(checkpoint, end, tail);
    this.localRecords = local ? restored.records - tail.length : 0;
    return restored;
  }

  /** The task's local state copy (exactly-once only: under at-least-once a moved task's old owner may still write its changelog). */
  private get store(): LocalTaskStore | null {
    this.localStore ??= this.worker.exactlyOnce && this.worker.localDirectory ? new LocalTaskStore(this.worker.localDirectory, this.index, this.worker.log) : null;
    return this.localStore;
  }

  private partitionWatermark(edgeId: string): PartitionWatermark {
    let partition = this.partitionWatermarks.get(edgeId);
    if (!partition) { partition = new PartitionWatermark(this.worker.upstreamTasks.get(edgeId) ?? 1); this.partitionWatermarks.set(edgeId, partition); }
    return partition;
  }

  /**
   * Handles one record of one of this task's input partitions (after
   * `ready`). The job turns an exception in the user's code into a dead
   * letter; `job.hasFailed` tells whether the task must stop (--fail-fast, or
   * a failure of the runtime).
   */
  deliver(record: IncomingRecord): void {
    const job = this.job;
    if (!job || this.ended) return;
    const offset = BigInt(record.offset);
    const next = this.positions.get(record.topic);
    // Already in the state: the consumer fetched from an older committed offset (a rebalance, a restart).
    if (next !== undefined && offset < next) return;
    this.positions.set(record.topic, offset + 1n);
    this.dirty = true;
    const worker = this.worker;
    const edgeId = worker.edgeByTopic.get(record.topic);
    if (edgeId !== undefined) {
      const producer = record.headers[WATERMARK_HEADER];
      if (producer !== undefined) {
        let message: number | 'idle' | 'active';
        try { message = decodeWatermark(record.value ?? Buffer.alloc(0)); } catch { return; }
        const partition = this.partitionWatermark(edgeId);
        const changed = partition.update(producer, message);
        // Every producer went idle: the largest watermark among them first, then the idleness (Flink's StatusWatermarkValve).
        if (changed === 'idle' && partition.maxWatermark() > -Infinity) job.watermarkOnEdge(edgeId, partition.maxWatermark());
        if (changed !== null) job.watermarkOnEdge(edgeId, changed);
        this.checkEnd();
        return;
      }
      let decoded: { value: unknown; ts: number | undefined };
      try {
        decoded = edgeRecordCodec(worker.manifest, edgeId).decode(record.value ?? Buffer.alloc(0));
      } catch (error) {
        // A record pipec cannot read back (truncated, or written by another build): a dead letter, and the partition goes on.
        const edge = worker.edge(edgeId);
        worker.deadLetterOutput.write(edge.keyNode ?? worker.manifest.stages[edge.to].nodes[0], { origin: `${record.topic}/${record.partition}`, position: Number(record.offset), reason: `undecodable repartition record: ${(error as Error).message}`, raw: record.value?.toString('base64') ?? '' });
        return;
      }
      job.pushToEdge(edgeId, decoded.value, decoded.ts);
    } else {
      const nodeId = worker.sourceByTopic.get(record.topic)!;
      const format = worker.sourceFormats.get(nodeId)!;
      let value: unknown;
      try {
        value = decodeValue(format, record.value);
      } catch (error) {
        worker.deadLetterOutput.write(nodeId, { origin: `${record.topic}/${record.partition}`, position: Number(record.offset), reason: (error as Error).message, raw: record.value?.toString('utf8') ?? '' });
        return;
      }
      this.sources.get(nodeId)!.emit!(value, record.timestamp);
    }
  }

  /** A bounded job: once every input edge's partition has ended, the task's job finishes (final results, the end marker downstream). */
  private checkEnd(): void {
    const job = this.job;
    if (!job || this.ended || this.worker.sourceByTopic.size > 0) return;
    const inputs = this.worker.manifest.stages[this.worker.stage.id].inputs;
    if (inputs.length === 0 || !inputs.every((edgeId) => this.partitionWatermarks.get(edgeId)?.current() === Infinity)) return;
    if (this.finishing) return;
    this.finishing = true;
    job.endExternalInputs();
    void this.running.then(() => {
      if (!this.ended) return; // stopped before its last checkpoint
      this.worker.log.info({ task: this.index }, 'task input ended: final results sent');
      this.worker.taskEnded();
    }).catch((error: unknown) => { if (!this.lost) this.worker.fail(error); });
  }

  /** Whether the task has something to checkpoint. */
  get pending(): boolean {
    return this.dirty || this.outgoing.length > 0 || this.watermarks.size > 0;
  }

  /** Whether the next checkpoint is due. */
  get due(): boolean { return Date.now() >= this.dueAt; }

  /** Adds a step to the chain of checkpoints and sends ahead. */
  private chain(step: () => Promise<void>): Promise<void> {
    this.chained++;
    const run = this.checkpointing.then(step).finally(() => { this.chained--; });
    this.checkpointing = run.catch(() => undefined);
    return run;
  }

  /**
   * Takes a checkpoint: output, changed state and positions, taken
   * synchronously when it starts (a consistent cut between two records),
   * then committed while the task goes on with the next records (their
   * output and state go to the next checkpoint). Checkpoints of one task run
   * one after another; a checkpoint asked for while one is queued is that one.
   */
  checkpoint(reason: string): Promise<void> {
    if (this.queuedCheckpoint) return this.queuedCheckpoint;
    const run = this.chain(() => { this.queuedCheckpoint = null; return this.commit(reason); });
    this.queuedCheckpoint = run;
    return run;
  }

  /**
   * Backpressure for the batch loop: waits while the chain holds more than
   * the step in flight and one queued, or while the output buffered since
   * the last send outgrows twice the send-ahead bound.
   */
  async drained(): Promise<void> {
    while (!this.lost && (this.chained > 2 || (this.chained > 0 && this.outgoing.length >= 2 * MAX_BUFFERED_OUTPUT))) await this.checkpointing;
  }

  private async commit(reason: string): Promise<void> {
    const job = this.job;
    if (this.lost || (!job && !this.ended) || !this.pending) return;
    const worker = this.worker;
    const started = process.hrtime.bigint();
    for (const [edgeId, message] of this.watermarks) worker.watermarkMarkers(edgeId, this.producerId, message, this.outgoing);
    if (this.watermarks.size) this.lastMarkersAt = Date.now();
    this.watermarks.clear();
    const output = this.outgoing;
    this.outgoing = [];
    const runtime = job?.runtimes[worker.stage.id][0];
    const changes = this.changelogWriter?.cut(runtime, worker.manifest, this.checkpoints + 1) ?? [];
    if (changes[0] && isFullState(changes[0].key)) worker.log.info({ task: this.index, checkpoint: this.checkpoints + 1, records: changes.length }, 'state materialized: this checkpoint writes the full state and drops the deltas before it');
    // The consumed offsets of the cut (records delivered while this checkpoint commits belong to the next one).
    const offsets = [...this.positions].map(([topic, next]) => ({ topic, partition: this.index, offset: String(next) }));
    const meta: TaskMeta = {
      version: 1,
      checkpoint: this.checkpoints + 1,
      positions: Object.fromEntries([...this.positions].map(([topic, next]) => [topic, String(next)])),
      partitionWatermarks: Object.fromEntries([...this.partitionWatermarks].map(([edgeId, p]) => [edgeId, p.snapshot()])),
      ...runtimeSnapshot(runtime, worker.manifest),
      ended: this.ended,
      sinks: job ? job.snapshotSinks() : {},
    };
    this.dirty = false;
    // Sinks that are not Kafka: print gets what it was given so far (at-least-once); a file sink makes what the cut staged durable.
    if (job) await job.flush();
    if (this.lost) return;
    const changelog: OutgoingRecord[] = [...changes, metaRecord(meta)].map((r) => ({ topic: worker.changelog, partition: this.index, key: r.key, value: r.value }));
    const records = [...output, ...changelog];
    let produced: ProducedOffset[];
    try {
      if (this.producer) produced = await this.producer.commit(records, { group: worker.group, offsets });
      else produced = await worker.sendAndCommit(records, offsets);
    } catch (error) {
      if (error instanceof FencedError) { this.lose('fenced: another worker now runs this task'); return; }
      throw error;
    }
    const store = this.store;
    if (store) {
      const next = produced.find((p) => p.topic === worker.changelog && p.partition === this.index)?.next;
      if (next === undefined) store.drop();
      else store.append(meta.checkpoint, next, changelog.map((r) => ({ key: r.key!, value: r.value as Buffer | null })));
    }
    job?.sinksCheckpointComplete(meta.sinks ?? {});
    this.checkpoints = meta.checkpoint;
    this.lastCheckpointAt = Date.now();
    this.dueAt = this.lastCheckpointAt + worker.interval;
    worker.checkpointed(this, output, changelog, Number(process.hrtime.bigint() - started) / 1e9, reason);
  }

  /**
   * Sends the output buffered so far without a checkpoint (a task whose
   * output outgrows MAX_BUFFERED_OUTPUT between checkpoints): under
   * exactly-once into the open transaction, visible with the next commit or
   * never; under at-least-once as plain sends. Runs in the checkpoint chain.
   */
  sendAhead(): Promise<void> {
    if (this.queuedSend) return this.queuedSend;
    const run = this.chain(async () => {
      this.queuedSend = null;
      if (this.lost || this.outgoing.length === 0) return;
      const records = this.outgoing;
      this.outgoing = [];
      const started = Date.now();
      try {
        if (this.producer) await this.producer.send(records);
        else await this.worker.sendAndCommit(records, []);
      } catch (error) {
        if (error instanceof FencedError) { this.lose('fenced: another worker now runs this task'); return; }
        throw error;
      }
      this.worker.sent(records);
      this.worker.log.debug({ task: this.index, records: records.length, ms: Date.now() - started }, 'output sent ahead of the checkpoint');
    });
    this.queuedSend = run;
    return run;
  }

  /** The task now runs elsewhere (fenced, or its partition was revoked): it stops without committing. */
  lose(why: string): void {
    if (this.lost) return;
    this.lost = true;
    this.worker.log.warn({ task: this.index, why }, 'task stopped');
    this.worker.dropTask(this);
    void this.stop();
  }

  /** Stops the task's job without firing anything. */
  async stop(): Promise<void> {
    this.job?.stop();
    for (const s of this.sources.values()) s.end();
    await this.running.catch(() => undefined);
    await this.producer?.close().catch(() => undefined);
    this.localStore?.close();
  }

  /** The task's watermark (metrics): the minimum over its event-time operators, else over what it sends downstream; null without event time. */
  watermark(): number | null {
    const runtime = this.job?.runtimes[this.worker.stage.id]?.[0];
    if (!runtime) return null;
    const consumers = this.worker.manifest.stages[this.worker.stage.id].watermarks.consumers;
    if (consumers.length) return Math.min(...consumers.map((c) => runtime.coordinator.watermarkOf(c.node)));
    const outputs = runtime.coordinator.snapshot().outputs.filter(([, current]) => current > -Infinity);
    return outputs.length ? Math.min(...outputs.map(([, current]) => current)) : null;
  }

  /**
   * Sends the task's current watermark or idle status downstream again when
   * nothing went for a while: a downstream task that starts from scratch
   * learns that this partition is idle (or where it is) without new input.
   */
  renewMarkers(): void {
    const runtime = this.job?.runtimes[this.worker.stage.id]?.[0];
    if (!runtime || this.lost || this.ended || Date.now() - this.lastMarkersAt < MARKER_RENEWAL_MS) return;
    for (const [edge, current, idle] of runtime.coordinator.snapshot().outputs) {
      if (!this.watermarks.has(edge) && (idle || current > -Infinity)) this.watermarks.set(edge, idle ? 'idle' : current);
    }
    this.lastMarkersAt = Date.now();
  }
}

/** The worker of one stage. */
export class StageWorker {
  readonly edgeByTopic = new Map<string, string>();
  readonly sourceByTopic = new Map<string, number>();
  readonly upstreamTasks = new Map<string, number>();
  /** The value format of each Kafka source node of the stage. */
  readonly sourceFormats = new Map<number, KafkaFormat<unknown>>();
  private readonly edges: Map<string, ManifestEdge>;
  readonly exactlyOnce: boolean;
  readonly changelog: string;
  /** The checkpoint interval (ms). */
  readonly interval: number;
  readonly group: string;
  /** Transactional ids are `<prefix>-<task>`: one per task, so a task's next owner fences its previous one. */
  readonly transactionalPrefix: string;
  private readonly tasks = new Map<number, Task>();
  /** The task whose record is being delivered (its dead letters join its output). */
  private currentTask: Task | null = null;
  /** The Kafka record being delivered (named by dead letters). */
  private currentRecord: IncomingRecord | null = null;
  private readonly deadLetterTopic: string;
  /** Dead letters: the file (and --fail-fast), and the `<pipeline>-dlq` topic, committed with the task's checkpoint. */
  readonly deadLetterOutput: DeadLetterOutput;
  private failure: { error: unknown } | null = null;
  private stop: (why: string) => void = () => undefined;
  private readonly topicPartitions = new Map<string, number>();
  private readonly rebalanceCounters = new Map<string, number>();
  client!: KafkaClient;
  private producer: RecordProducer | null = null;
  private consumer: GroupConsumer | null = null;
  private stopping = false;
  readonly metrics: WorkerMetrics;
  /** This machine's cache of task state and member ids (local-state.ts); null when PIPEC_LOCAL_STATE=off. */
  readonly localDirectory: string | null;

  constructor(readonly graph: Graph, readonly stage: StageDefinition, readonly manifest: Manifest, readonly log: Logger, readonly deadLetters: DeadLetterFile, private readonly options: WorkerOptions) {
    this.edges = new Map(manifest.edges.map((e) => [e.id, e]));
    this.exactlyOnce = (manifest.guarantee ?? 'exactly-once') === 'exactly-once';
    this.changelog = changelogTopic(manifest, stage.id);
    this.interval = manifest.checkpoint?.interval ?? 200;
    this.group = options.group ?? sourceGroup(graph, manifest.stages[stage.id].nodes) ?? namespaced(`${manifest.pipeline}-stage-${stage.id}`);
    this.transactionalPrefix = `${this.group}-task`;
    this.metrics = new WorkerMetrics({ pipeline: manifest.pipeline, stage: String(stage.id) });
    this.deadLetterTopic = namespaced(`${manifest.pipeline}-dlq`);
    this.localDirectory = process.env.PIPEC_LOCAL_STATE === 'off' ? null : workerDirectory(manifest, this.group);
    this.deadLetterOutput = {
      get count() { return deadLetters.count; },
      get file() { return deadLetters.file; },
      write: (nodeId, record) => this.sendDeadLetter(nodeId, record),
    };
  }

  /** The dead-letter output of one task: what its sinks reject outside a record's delivery (while they flush) joins its output too. */
  deadLetterOutputOf(task: Task): DeadLetterOutput {
    const { deadLetters } = this;
    return { get count() { return deadLetters.count; }, get file() { return deadLetters.file; }, write: (nodeId, record) => this.sendDeadLetter(nodeId, record, task) };
  }

  /** Writes a dead letter to the file (throws under --fail-fast) and adds it to the output of the task or the worker. */
  private sendDeadLetter(nodeId: number, record: DeadLetterRecord, task: Task | null = this.currentTask): void {
    this.deadLetters.write(nodeId, record);
    this.metrics.deadLetters.inc();
    const source = this.currentRecord;
    const headers: Record<string, string> = {
      'pipec-error': record.reason,
      'pipec-source': source ? `${source.topic}/${source.partition}@${source.offset}` : `${record.origin}#${record.position}`,
      'pipec-node': String(nodeId),
    };
    if (record.location) headers['pipec-location'] = record.location;
    // A user topic's record keeps its bytes, key, timestamp and headers; a repartition record (pipec's own encoding) is sent as its text.
    const fromUser = source && !this.edgeByTopic.has(source.topic);
    const out: OutgoingRecord = fromUser
      ? { topic: this.deadLetterTopic, partition: 0, key: source.key, value: source.value ?? '', timestamp: source.timestamp, headers: { ...source.headers, ...headers } }
      : { topic: this.deadLetterTopic, partition: 0, value: record.raw, headers };
    if (recordBytes(out) > MAX_RECORD_BYTES) {
      const value = typeof out.value === 'string' ? Buffer.from(out.value) : out.value ?? Buffer.alloc(0);
      out.headers = { ...out.headers, 'pipec-truncated': String(value.length) };
      out.value = value.subarray(0, Math.max(0, MAX_RECORD_BYTES - recordBytes({ ...out, value: null }) - 1024));
    }
    (task?.outgoing ?? this.sourceTaskOutput).push(out);
  }

  /**
   * Runs work of a task's job that comes between batches (an asyncMap's
   * completed calls, LocalJobOptions.aroundAsyncEntry) as that task's, so
   * its dead letters join the task's output like its records do.
   */
  inTask(task: Task, work: () => void): void {
    const [task0, record0] = [this.currentTask, this.currentRecord];
    this.currentTask = task;
    this.currentRecord = null;
    try {
      work();
    } finally {
      this.currentTask = task0;
      this.currentRecord = record0;
    }
  }

  /** Output of a stage without Kafka inputs (no tasks, no transactions). */
  private readonly sourceTaskOutput: OutgoingRecord[] = [];

  /** Stops the worker because a task failed: nothing more is committed, exit code 1. */
  fail(error: unknown): void {
    if (this.failure) return;
    this.log.error({ err: error }, 'a task failed: the worker stops without committing it further');
    this.failure = { error };
    this.stopping = true;
    this.stop('failure');
  }

  private get info() { return this.manifest.stages[this.stage.id]; }

  /** Creates the topics this stage reads and writes, and learns their partition counts. */
  private async prepareTopics(): Promise<Array<{ topic: string; fromBeginning: boolean }>> {
    const { manifest, info } = this;
    const readersOf = (edgeId: string) => manifest.stages[this.edge(edgeId).to].parallelism;
    const edges = [...info.inputs, ...info.outputs].map((id) => this.edge(id));
    await this.client.ensureTopics(edges.map((e) => ({ topic: namespaced(e.topic), partitions: readersOf(e.id) })), { grow: true });
    await this.client.ensureTopics([{ topic: this.deadLetterTopic, partitions: 1 }]);
    for (const e of edges) this.topicPartitions.set(namespaced(e.topic), await this.client.partitions(namespaced(e.topic)));
    // Repartition topics are read from their start by a new group; Kafka sources follow their startFrom.
    const inputTopics: Array<{ topic: string; fromBeginning: boolean }> = [];
    for (const id of info.inputs) {
      const edge = this.edge(id);
      this.edgeByTopic.set(namespaced(edge.topic), id);
      inputTopics.push({ topic: namespaced(edge.topic), fromBeginning: true });
      this.upstreamTasks.set(id, await this.tasksOfStage(edge.from));
    }
    for (const nodeId of info.nodes) {
      const node = this.graph.nodes[nodeId];
      if (node.kind === 'source' && node.spec.connector === 'kafka') {
        const { options } = node.spec;
        const topic = options.topic as string;
        await this.client.ensureTopics([{ topic, partitions: this.stage.parallelism }]);
        this.sourceByTopic.set(topic, nodeId);
        this.sourceFormats.set(nodeId, options.format as KafkaFormat<unknown>);
        inputTopics.push({ topic, fromBeginning: options.startFrom === 'earliest' });
      }
      if (node.kind === 'sink' && node.spec.connector === 'kafka') await this.client.ensureTopics([{ topic: node.spec.options.topic as string, partitions: 1 }]);
    }
    if (inputTopics.length) {
      let tasks = 1;
      for (const t of inputTopics) tasks = Math.max(tasks, await this.client.partitions(t.topic));
      await this.client.ensureTopics([{ topic: this.changelog, partitions: tasks, compact: true }], { grow: true });
    }
    return inputTopics;
  }

  /** How many tasks a stage runs: the partitions of its Kafka inputs, or its parallelism. */
  private async tasksOfStage(stageId: number): Promise<number> {
    const upstream = this.manifest.stages[stageId];
    const topics = upstream.inputs.map((id) => namespaced(this.edge(id).topic));
    for (const nodeId of upstream.nodes) {
      const node = this.graph.nodes[nodeId];
      if (node.kind === 'source' && node.spec.connector === 'kafka') topics.push(node.spec.options.topic as string);
    }
    if (topics.length === 0) return upstream.parallelism;
    let most = 0;
    for (const t of topics) most = Math.max(most, await this.client.partitions(t));
    return Math.max(1, most);
  }

  /** The collector of an outgoing edge for one task (or the source task, null). */
  edgeOutput(edgeId: string, task: Task | null): (key: unknown, value: unknown, ts: number | undefined) => void {
    const edge = this.edge(edgeId);
    const topic = namespaced(edge.topic);
    const partitions = this.topicPartitions.get(topic) ?? 1;
    const codec = edgeRecordCodec(this.manifest, edgeId);
    const taskIndex = task?.index ?? 0;
    const node = edge.keyNode ?? this.manifest.stages[edge.from].nodes[0];
    return (key, value, ts) => {
      let partition: number;
      if (edge.partitioning === 'hash') partition = partitionForKey(key, partitions);
      else if (edge.partitioning === 'forward') partition = taskIndex % partitions;
      else { const next = this.rebalanceCounters.get(topic) ?? taskIndex; this.rebalanceCounters.set(topic, next + 1); partition = next % partitions; }
      this.output(task, { topic, partition, key: edge.partitioning === 'hash' ? keyText(key) : null, value: codec.encode(value, ts) }, node);
    };
  }

  /** A Kafka sink node's connector: its records join the output of the task (or of the source task); other sinks are the job's own. */
  outboxSink(task: Task | null, nodeId: number, ctx: SinkContext): OutboxKafkaSink | undefined {
    const node = this.graph.nodes[nodeId];
    return node.kind === 'sink' && node.spec.connector === 'kafka' ? new OutboxKafkaSink(ctx, (record) => this.output(task, record, nodeId)) : undefined;
  }

  /** Adds a record to the output of a task (or of the source task); one over the record size limit becomes a dead letter. */
  output(task: Task | null, record: OutgoingRecord, nodeId: number): void {
    if (recordBytes(record) > MAX_RECORD_BYTES) {
      const text = record.value === null ? '' : typeof record.value === 'string' ? record.value : record.value.toString('base64');
      this.deadLetterOutput.write(nodeId, { origin: record.topic, position: -1, reason: `an output record of ${recordBytes(record)} bytes for ${record.topic} is over the ${MAX_RECORD_BYTES}-byte record limit (PIPEC_KAFKA_MAX_RECORD_BYTES)`, raw: text.slice(0, 10_000) });
      return;
    }
    (task?.outgoing ?? this.sourceTaskOutput).push(record);
  }

  /** Adds a producer's watermark marker on an edge, one per partition of its topic. */
  watermarkMarkers(edgeId: string, producer: string, message: number | 'idle' | 'active', into: OutgoingRecord[]): void {
    const topic = namespaced(this.edge(edgeId).topic);
    for (let p = 0; p < (this.topicPartitions.get(topic) ?? 1); p++) {
      into.push({ topic, partition: p, key: null, value: encodeWatermark(message), headers: { [WATERMARK_HEADER]: producer } });
    }
  }

  edge(edgeId: string): ManifestEdge {
    const edge = this.edges.get(edgeId);
    if (!edge) throw new Error(`internal: the manifest has no edge ${edgeId}`);
    return edge;
  }

  /** At-least-once: sends a checkpoint's records, then commits its offsets. */
  async sendAndCommit(records: OutgoingRecord[], offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<ProducedOffset[]> {
    this.producer ??= await processKafka(this.log).producer;
    const produced = records.length ? await this.producer.send(records) : [];
    try {
      if (offsets.length) await this.consumer?.commit(offsets);
    } catch (error) {
      // The group refused the offsets: it moved the partition, or forgot this member after a stall. At-least-once:
      // the records after the last committed offsets are processed again by whoever owns them next.
      this.log.warn({ err: error }, 'the group refused the offsets of a checkpoint (a rebalance, or this member was away): they are processed again');
    }
    return produced;
  }

  /** Counts output records sent (watermark markers are not records). */
  sent(records: OutgoingRecord[]): void {
    for (const r of records) if (!r.headers?.[WATERMARK_HEADER]) this.metrics.recordsOut.inc({ topic: r.topic });
  }

  /** A task committed a checkpoint. */
  checkpointed(task: Task, output: OutgoingRecord[], changelog: OutgoingRecord[], seconds: number, reason: string): void {
    this.sent(output);
    this.metrics.checkpointSeconds.observe(seconds);
    let bytes = 0;
    for (const r of changelog) bytes += recordBytes(r);
    this.metrics.checkpointBytes.observe(bytes);
    this.metrics.checkpointAge.set({ task: String(task.index) }, 0);
    const watermark = task.watermark();
    if (watermark !== null) this.metrics.watermark.set({ task: String(task.index) }, Math.max(-1, watermark));
    this.metrics.setOperators(task.index, operatorFigures(task.job, this.manifest, this.stage.id));
    this.log.debug({ task: task.index, records: output.length, changelog: changelog.length, bytes, ms: Math.round(seconds * 1000), reason }, 'checkpoint committed');
  }

  /** A task was fenced: forget it (its partition belongs to another worker now). */
  dropTask(task: Task): void {
    if (this.tasks.get(task.index) === task) {
      this.tasks.delete(task.index);
      // Fenced means the group moved the partition while this worker was away: the next rebalance says where it belongs.
      this.consumer?.forget(task.index);
    }
    this.metrics.removeTask(task.index, []);
    this.metrics.partitions.set(this.tasks.size);
  }

  /** A bounded job's task finished: the worker stops once all of its tasks have. */
  taskEnded(): void {
    if (this.tasks.size > 0 && [...this.tasks.values()].every((t) => t.ended)) this.stop('end of input');
  }

  /** Runs until SIGTERM/SIGINT, the end of a bounded input (or, without Kafka inputs, until the bounded sources end). */
  async run(): Promise<void> {
    // Signals are handled from the start: a worker told to stop while it is still starting up exits cleanly too.
    let requested: string | null = null;
    (this.options.signals ?? new StopSignals()).listen((signal) => {
      this.log.info({ signal }, 'stopping: finishing the record in hand, checkpointing every task, leaving the group');
      requested = signal;
      this.stop(signal);
    });
    ({ client: this.client } = processKafka(this.log));
    if (this.options.metricsPort !== undefined) this.metrics.listen(this.options.metricsPort, this.log);
    const inputTopics = await this.prepareTopics();
    if (inputTopics.length === 0) return this.runSourceTask(() => requested !== null);
    if (requested !== null) { await within(closeProcessKafka(), 2000); this.metrics.close(); return; }
    const members = this.localDirectory ? new LocalMembers(this.localDirectory, this.log) : null;
    await this.removeDepartedMembers(members);
    const consumer = this.client.consumer(this.group, { sessionTimeout: this.options.sessionTimeout, coPartitioned: true });
    this.consumer = consumer;
    const stopped = new Promise<string>((resolve) => {
      this.stop = (why) => { this.stopping = true; resolve(why); };
      if (this.failure) resolve('failure');
      // A signal that came while the worker was still starting (after prepareTopics) stops it now.
      else if (requested !== null) this.stop(requested);
    });
    let lastAlive = Date.now();
    let stoppedConsumer: string | null = null;
    this.metrics.health = () => {
      if (this.failure) return 'failed';
      if (stoppedConsumer) return stoppedConsumer;
      const away = Date.now() - lastAlive;
      if (away > HEALTH_GRACE_MS) return `not in the consumer group for ${Math.round(away / 1000)} s`;
      const stale = [...this.tasks.values()].find((t) => !t.lost && t.pending && Date.now() - t.lastCheckpointAt > Math.max(HEALTH_GRACE_MS, 20 * interval));
      if (stale) return `task ${stale.index} has not committed a checkpoint for ${Math.round((Date.now() - stale.lastCheckpointAt) / 1000)} s`;
      return null;
    };
    const interval = this.interval;
    // Checkpoints on the clock: output of timers and processing-time windows reaches Kafka without new input.
    const ticker = setInterval(() => {
      for (const task of this.tasks.values()) {
        this.metrics.checkpointAge.set({ task: String(task.index) }, (Date.now() - task.lastCheckpointAt) / 1000);
        task.renewMarkers();
        if (task.lost || !task.pending || !task.due) continue;
        task.checkpoint('interval').catch((error: unknown) => this.fail(error));
      }
    }, Math.max(10, Math.floor(interval / 2)));
    this.log.info({ group: this.group, topics: inputTopics.map((t) => t.topic), guarantee: this.exactlyOnce ? 'exactly-once' : 'at-least-once', checkpointInterval: interval }, 'joining the consumer group');
    const consuming = consumer.run(inputTopics, async (batch) => {
      if (this.stopping) return;
      // Only partitions this worker owns have tasks. A batch of a partition without one (fetched before a rebalance
      // took it away, or after its task was fenced) is dropped: a task starts only on assignment, when the client
      // fetches from the committed offsets again, so its restored positions see every record after them.
      const task = this.tasks.get(batch.partition);
      if (!task || task.lost) return;
      // The task restores its checkpoint and opens its user functions before its first record; the group hears from us meanwhile.
      for (let settled = false; !settled;) {
        settled = await Promise.race([task.ready.then(() => true, () => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000))]);
        if (!settled) await batch.heartbeat();
      }
      if (task.lost || this.stopping || !task.job || task.job.hasFailed) return;
      this.currentTask = task;
      for (const record of batch.records) {
        this.currentRecord = record;
        try {
          task.deliver(record);
        } catch (error) {
          task.job.fail(error);
        }
        if (task.job.hasFailed) break;
        // An asyncMap of the task is full: the next record waits for room (backpressure), heartbeating meanwhile.
        const backpressure = task.job.backpressure();
        if (backpressure) {
          await heartbeatWhile(backpressure, batch.heartbeat);
          this.currentTask = task;
          if (task.lost || this.stopping) break;
        }
      }
      this.currentRecord = null;
      this.currentTask = null;
      if (task.job.hasFailed) {
        // --fail-fast or a failure: nothing of this task since its last checkpoint is committed.
        this.fail(task.job.failureCause);
        return;
      }
      this.metrics.recordsIn.inc({ topic: batch.topic }, batch.records.length);
      const last = batch.records[batch.records.length - 1];
      if (last) this.metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n)));
      // Sends and checkpoints go on in the task's chain while the next batches are processed (bounded by drained()).
      if (task.outgoing.length >= MAX_BUFFERED_OUTPUT) task.sendAhead().catch((error: unknown) => this.fail(error));
      if (task.due) task.checkpoint('batch').catch((error: unknown) => this.fail(error));
      await task.drained();
    }, {
      alive: () => { lastAlive = Date.now(); stoppedConsumer = null; },
      joined: (memberId) => members?.record(memberId),
      crashed: (error, restarting) => { if (!restarting) stoppedConsumer = `the consumer stopped: ${error.message}`; },
      assigned: (partitions) => {
        this.log.info({ partitions }, 'partitions assigned');
        this.metrics.rebalances.inc();
        for (const index of new Set(partitions.map((p) => p.partition))) {
          if (this.tasks.has(index)) continue;
          this.tasks.set(index, new Task(index, this));
        }
        this.metrics.partitions.set(this.tasks.size);
      },
      revoked: (partitions) => {
        this.log.info({ partitions }, 'partitions revoked: their tasks checkpoint and resume on their new owner');
        this.metrics.rebalances.inc();
        for (const index of new Set(partitions.map((p) => p.partition))) {
          const task = this.tasks.get(index);
          if (!task) continue;
          this.tasks.delete(index);
          // If the new owner has already fenced this task, the checkpoint fails and the new owner has the last committed one.
          void task.ready.then(() => task.checkpoint('revoked')).catch(() => undefined).finally(() => { task.lost = true; void task.stop(); });
          this.metrics.removeTask(index, partitions.filter((p) => p.partition === index));
        }
        this.metrics.partitions.set(this.tasks.size);
      },
    });
    consuming.catch((error: unknown) => this.fail(error));
    const why = await stopped;
    const stopAt = Date.now();
    clearInterval(ticker);
    // No batch handler processes records from now on (one in the middle of its checkpoint finishes it first).
    if (!this.failure) {
      // The last checkpoint of every task, then leave the group: the tasks' new owners start from it.
      // A task still restoring has processed nothing: it has nothing to checkpoint, and is not waited for.
      await within(Promise.all([...this.tasks.values()].filter((task) => task.restored).map((task) => task.checkpoint(why).catch((error: unknown) => { if (!(error instanceof FencedError)) this.fail(error); }))), 8000);
    }
    this.log.debug({ ms: Date.now() - stopAt }, 'final checkpoints taken');
    // Leaving the group hands the partitions over at once (bounded, so SIGTERM always ends within its budget).
    await within(consumer.close(), 3000);
    members?.forget();
    this.log.debug({ ms: Date.now() - stopAt }, 'left the group');
    this.metrics.close();
    await within(Promise.all([...this.tasks.values()].map((task) => { task.lost = true; return task.stop(); })), 2000);
    this.log.debug({ ms: Date.now() - stopAt }, 'tasks stopped');
    await within(closeProcessKafka(), 2000);
    this.log.debug({ ms: Date.now() - stopAt }, 'client closed');
    if (this.failure) throw this.failure.error;
    this.log.info({ why }, 'stopped');
  }

  /**
   * Removes from the group the members of this stage's earlier worker
   * processes on this machine that died without leaving (kill -9, OOM, a
   * lost node's container restarted): the group rebalances now, instead of
   * after their session timeout. Bounded: it only speeds things up.
   */
  private async removeDepartedMembers(members: LocalMembers | null): Promise<void> {
    const departed = members?.departed() ?? [];
    if (departed.length === 0) return;
    const removing = Promise.all(departed.map(async (memberId) => {
      try {
        const removed = await this.client.removeMember(this.group, memberId);
        this.log.info({ memberId, removed }, removed ? 'removed the member of a worker that died here' : 'the member of a worker that died here had left the group already');
      } catch (error) {
        this.log.warn({ memberId, err: error }, 'could not remove the member of a worker that died here: the group waits for its session to time out');
      }
    }));
    await within(removing, 5000);
  }

  /**
   * A stage whose sources are files, collections or generators: one task that
   * runs them, writing to Kafka, checkpointed like a task of a Kafka-fed stage.
   * Every `checkpoint.interval` its output since the last checkpoint, its
   * sources' positions (a generator's next index, a file's line) and its
   * state go out together: under exactly-once in one transaction of its
   * transactional producer (`<group>-task-0`), with the state and positions
   * in the stage's changelog (partition = subtask). A restarted source stage
   * resumes after its last checkpoint instead of reading its sources again,
   * and one whose sources had ended and whose output is committed does
   * nothing again.
   */
  private async runSourceTask(stopRequested: () => boolean): Promise<void> {
    this.metrics.health = () => (this.failure ? 'failed' : null);
    const { stage, manifest, log } = this;
    const producerId = `${stage.id}-0`;
    const subtasks = stage.parallelism;
    await this.client.ensureTopics([{ topic: this.changelog, partitions: subtasks, compact: true }], { grow: true });
    const producer = this.exactlyOnce ? await this.client.transactionalProducer(`${this.transactionalPrefix}-0`) : null;
    const restored = Array.from({ length: subtasks }, () => new RestoredState());
    await this.client.readPartitions(this.changelog, restored.map((_, partition) => ({ partition })), (partition, key, value) => { if (key !== null) restored[partition].add(key, value); });
    const writers = restored.map((r) => new ChangelogWriter(r));
    const metas = restored.map((r) => r.meta);
    let checkpoints = Math.max(0, ...metas.map((m) => m?.checkpoint ?? 0));
    if (metas[0]?.ended) {
      log.info({ checkpoint: checkpoints }, 'source task restored: its sources had ended and their output is committed');
      await producer?.close();
      await closeProcessKafka();
      return;
    }
    const positions = metas[0]?.sources ?? {};
    const watermarks = new Map<string, number | 'idle' | 'active'>();
    let stopped = false;
    let ended = false;
    const job: LocalJob = new LocalJob(this.graph, [stage], manifest, log, this.deadLetterOutput, {
      trackState: true,
      checkpointing: true,
      onCreated: () => {
        for (let subtask = 0; subtask < subtasks; subtask++) restored[subtask].applyTo(job.runtimes[stage.id][subtask], manifest, manifest.stages[stage.id].nodes);
        job.restoreSourcePositions(positions);
        job.initializeSinks(metas[0]?.sinks ?? {});
      },
      createSink: (nodeId, ctx) => this.outboxSink(null, nodeId, ctx),
      remote: { output: (edgeId) => this.edgeOutput(edgeId, null), watermark: (edgeId, message) => { watermarks.set(edgeId, message); } },
      metrics: { user: this.metrics.user },
      // The last checkpoint, once the sources stopped (SIGTERM) or ended (then marked ended: a restart does nothing).
      beforeSinksClose: async () => { ended = !stopped; await checkpoint(); },
    });
    if (metas.some(Boolean)) log.info({ checkpoint: checkpoints, positions }, 'source task restored from its checkpoint');
    let running: Promise<void> = Promise.resolve();
    let busy = false;
    const take = async (): Promise<void> => {
      // The cut, between two records: output, watermarks, state changes and source positions.
      for (const [edgeId, message] of watermarks) this.watermarkMarkers(edgeId, producerId, message, this.sourceTaskOutput);
      watermarks.clear();
      const output = this.sourceTaskOutput.splice(0);
      const sources = job.sourcePositions();
      const sinks = job.snapshotSinks();
      const changelog: OutgoingRecord[] = [];
      for (let subtask = 0; subtask < subtasks; subtask++) {
        const runtime = job.runtimes[stage.id]?.[subtask];
        if (!runtime) continue;
        const meta: TaskMeta = {
          version: 1, checkpoint: checkpoints + 1, positions: {}, partitionWatermarks: {},
          ...runtimeSnapshot(runtime, manifest),
          // The job's source positions and sink states are the task's, not a subtask's: in subtask 0's meta record.
          ended, ...(subtask === 0 ? { sources, sinks } : {}),
        };
        for (const r of [...writers[subtask].cut(runtime, manifest, checkpoints + 1), metaRecord(meta)]) changelog.push({ topic: this.changelog, partition: subtask, key: r.key, value: r.value });
      }
      await job.flush();
      try {
        if (producer) await producer.commit([...output, ...changelog], null);
        else await this.sendAndCommit([...output, ...changelog], []);
      } catch (error) {
        if (error instanceof FencedError) throw new Error('another worker now runs the sources of this stage (a second replica of a source stage?): this one stops without committing', { cause: error });
        throw error;
      }
      checkpoints++;
      job.checkpointComplete(sources);
      job.sinksCheckpointComplete(sinks);
      for (const r of output) if (!r.headers) this.metrics.recordsOut.inc({ topic: r.topic });
    };
    const checkpoint = (): Promise<void> => {
      const run = running.then(async () => { busy = true; try { await take(); } finally { busy = false; } });
      running = run.catch(() => undefined);
      return run;
    };
    const interval = this.interval;
    const ticking = setInterval(() => { if (!busy) checkpoint().catch((error: unknown) => job.fail(error)); }, interval);
    this.stop = () => { stopped = true; job.stop(); };
    if (stopRequested()) this.stop('signal');
    try {
      await job.run();
      if (ended) log.info({ checkpoint: checkpoints }, 'source task ended: its output is committed');
    } finally {
      // On failure nothing more is committed: a restart resumes from the last checkpoint.
      clearInterval(ticking);
      await producer?.close().catch(() => undefined);
      await closeProcessKafka();
    }
  }
}
