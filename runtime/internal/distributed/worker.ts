/**
 * A stage as a distributed worker (Kafka Streams' StreamThread → StreamTask).
 * One consumer in the stage's group reads the stage's input topics (Kafka
 * sources and repartition topics), co-partitioned; each assigned partition
 * index is a task: a one-instance LocalJob with its own keyed state, timers
 * and watermarks, whose outputs go to repartition topics and sinks. After each
 * batch the task's output is flushed and then its input offsets are committed
 * (at-least-once), as the stage's CommitPolicy (decided at build time, in the
 * manifest) allows: a stage that keeps state commits only offsets whose records
 * no open window still needs, so a partition that moves to another worker is
 * rebuilt there by replay; stages with other state replay their input from the
 * start. Stages without Kafka inputs run one task that drives their sources.
 * Sends are serialized, and one that fails fails the worker.
 *
 * A record that cannot be decoded, makes the fused chain throw in the user's
 * code, or has an invalid key goes to the dead-letter file and to the
 * `<pipeline>-dlq` topic (reason, user source location and origin in headers),
 * sent with the batch's output before its offsets are committed; the
 * partition goes on. Under --fail-fast, or when a task fails otherwise, the
 * worker sends the output produced so far, commits nothing more and stops
 * with exit code 1.
 */
import type { KafkaFormat } from '../connectors/kafka/api.ts';
import type { Graph } from '../../api/graph.ts';
import { keyText, partitionForKey } from '../partitioning.ts';
import { LocalJob } from '../local/job.ts';
import type { Logger } from '../log.ts';
import type { DeadLetterFile, DeadLetterOutput, DeadLetterRecord } from '../dead-letter.ts';
import type { SourceConnector } from '../connectors/types.ts';
import { closeProcessKafka, processKafka } from '../connectors/kafka/runtime.ts';
import { decodeValue } from '../kafka/formats.ts';
import type { IncomingRecord, KafkaClient, OutgoingRecord, RecordProducer } from '../kafka/client.ts';
import type { StageDefinition } from '../stage.ts';
import type { CommitPolicy, Manifest, ManifestEdge } from '../manifest.ts';
import { WorkerMetrics } from './metrics.ts';
import { decodeWatermark, edgeRecordCodec, encodeWatermark, namespaced, PartitionWatermark, WATERMARK_HEADER } from './edges.ts';

/** Worker settings from flags and the environment. */
export interface WorkerOptions { group?: string; sessionTimeout?: number; metricsPort?: number }

/** A source whose records the worker delivers (the consumer, not the connector, reads Kafka). */
class DeliveredSource implements SourceConnector {
  emit: ((value: unknown, ts: number | undefined) => void) | null = null;
  private done!: () => void;
  private readonly ended = new Promise<void>((resolve) => { this.done = resolve; });
  run(emit: (value: unknown, ts: number | undefined) => void): Promise<void> { this.emit = emit; return this.ended; }
  end(): void { this.done(); }
}

/**
 * The event-time bound up to which a record is still needed by the stage's
 * windows (the end of the last window it falls into, plus allowed lateness):
 * once the watermark passes it, its offset may be committed.
 */
function doneAtOf(policy: CommitPolicy): (ts: number | undefined) => number {
  if (policy.kind !== 'windows') return () => -Infinity;
  return (ts) => {
    if (ts === undefined) return -Infinity;
    let latest = -Infinity;
    for (const w of policy.windows) {
      const lastStart = ts - ((((ts - w.offset) % w.slide) + w.slide) % w.slide);
      latest = Math.max(latest, lastStart + w.size - 1 + w.allowedLateness);
    }
    return latest;
  };
}

/** Offsets of one input partition not yet safe to commit, oldest first (a queue with a moving head: no shifting per record). */
class PendingOffsets {
  private offsets: bigint[] = [];
  private doneAt: number[] = [];
  private head = 0;
  /** The next offset to read, and the last one committed. */
  next: bigint | null = null;
  committed: bigint | null = null;

  push(offset: bigint, doneAt: number): void {
    this.offsets.push(offset);
    this.doneAt.push(doneAt);
  }

  /** Drops the records no window needs at `watermark` and returns the first one still needed, if any. */
  firstNeeded(watermark: number): bigint | null {
    while (this.head < this.offsets.length && this.doneAt[this.head] <= watermark) this.head++;
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.head);
      this.doneAt = this.doneAt.slice(this.head);
      this.head = 0;
    }
    return this.head < this.offsets.length ? this.offsets[this.head] : null;
  }
}

/** One partition index of the stage's inputs. */
class Task {
  readonly job: LocalJob;
  readonly sources = new Map<number, DeliveredSource>();
  private readonly partitionWatermarks = new Map<string, PartitionWatermark>();
  /** Per input topic: records not yet safe to commit (windows policy), and the next offset to read. */
  private readonly pending = new Map<string, PendingOffsets>();
  readonly running: Promise<void>;

  constructor(readonly index: number, private readonly worker: StageWorker) {
    const { graph, manifest, stage, log } = worker;
    this.job = new LocalJob(graph, [{ ...stage, parallelism: 1 }], manifest, log, worker.deadLetterOutput, {
      createSource: (nodeId) => {
        if (!worker.sourceFormats.has(nodeId)) throw new Error('a stage that reads Kafka topics cannot also have file, collection or generator sources');
        const source = new DeliveredSource();
        this.sources.set(nodeId, source);
        return source;
      },
      remote: { output: (edgeId) => worker.edgeOutput(edgeId, index), watermark: (edgeId, message) => worker.sendWatermark(edgeId, `${stage.id}-${index}`, message) },
    });
    this.running = this.job.run();
    this.running.catch((error: unknown) => worker.fail(error));
  }

  /**
   * Handles one record of one of this task's input partitions. The job turns
   * an exception in the user's code into a dead letter; `job.hasFailed` tells
   * whether the task must stop (--fail-fast, or a failure of the runtime).
   */
  deliver(record: IncomingRecord): void {
    const worker = this.worker;
    worker.currentRecord = record;
    const edgeId = worker.edgeByTopic.get(record.topic);
    const tracking = this.tracking(record.topic);
    if (edgeId !== undefined) {
      const producer = record.headers[WATERMARK_HEADER];
      if (producer !== undefined) {
        let partition = this.partitionWatermarks.get(edgeId);
        if (!partition) { partition = new PartitionWatermark(worker.upstreamTasks.get(edgeId) ?? 1); this.partitionWatermarks.set(edgeId, partition); }
        const changed = partition.update(producer, decodeWatermark(record.value!));
        if (changed !== null) this.job.watermarkOnEdge(edgeId, changed === -Infinity ? -Infinity : changed);
      } else {
        let decoded: { value: unknown; ts: number | undefined };
        try {
          decoded = edgeRecordCodec(worker.manifest, edgeId).decode(record.value ?? Buffer.alloc(0));
        } catch (error) {
          // A record pipec cannot read back (truncated, or written by another build): a dead letter, and the partition goes on.
          const edge = worker.manifest.edges.find((e) => e.id === edgeId)!;
          worker.deadLetterOutput.write(edge.keyNode ?? worker.manifest.stages[edge.to].nodes[0], { origin: `${record.topic}/${record.partition}`, position: Number(record.offset), reason: `undecodable repartition record: ${(error as Error).message}`, raw: record.value?.toString('base64') ?? '' });
          tracking.next = BigInt(record.offset) + 1n;
          return;
        }
        const { value, ts } = decoded;
        this.job.pushToEdge(edgeId, value, ts);
        if (worker.commit.kind === 'windows') tracking.push(BigInt(record.offset), worker.doneAt(ts));
      }
    } else {
      const nodeId = worker.sourceByTopic.get(record.topic)!;
      const format = worker.sourceFormats.get(nodeId)!;
      let value: unknown;
      try {
        value = decodeValue(format, record.value);
      } catch (error) {
        worker.deadLetterOutput.write(nodeId, { origin: `${record.topic}/${record.partition}`, position: Number(record.offset), reason: (error as Error).message, raw: record.value?.toString('utf8') ?? '' });
        tracking.next = BigInt(record.offset) + 1n;
        return;
      }
      this.sources.get(nodeId)!.emit!(value, record.timestamp);
    }
    tracking.next = BigInt(record.offset) + 1n;
  }

  private tracking(topic: string): PendingOffsets {
    let t = this.pending.get(topic);
    if (!t) { t = new PendingOffsets(); this.pending.set(topic, t); }
    return t;
  }

  /** Offsets safe to commit now: everything processed, or (windows) up to the first record an open window still needs. */
  commitOffsets(): Array<{ topic: string; partition: number; offset: string }> {
    const policy = this.worker.commit;
    if (policy.kind === 'never') return [];
    const coordinator = this.job.runtimes[this.worker.stage.id][0].coordinator;
    const watermark = policy.kind === 'windows' ? Math.min(...policy.windows.map((w) => coordinator.watermarkOf(w.node))) : Infinity;
    const offsets: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const [topic, t] of this.pending) {
      if (t.next === null) continue;
      const offset = (policy.kind === 'windows' ? t.firstNeeded(watermark) : null) ?? t.next;
      if (t.committed !== offset) { t.committed = offset; offsets.push({ topic, partition: this.index, offset: String(offset) }); }
    }
    return offsets;
  }

  /** Stops the task without firing anything (revoked partitions, shutdown). */
  async stop(): Promise<void> {
    this.job.stop();
    for (const s of this.sources.values()) s.end();
    await this.running.catch(() => undefined);
  }
}

/** The worker of one stage. */
export class StageWorker {
  readonly edgeByTopic = new Map<string, string>();
  readonly sourceByTopic = new Map<string, number>();
  readonly upstreamTasks = new Map<string, number>();
  /** The value format of each Kafka source node of the stage. */
  readonly sourceFormats = new Map<number, KafkaFormat<unknown>>();
  /** Edges by id, and the stage's commit policy (decided at build time). */
  private readonly edges: Map<string, ManifestEdge>;
  readonly commit: CommitPolicy;
  readonly doneAt: (ts: number | undefined) => number;
  /** Sends in flight, one after another; a failed send fails the worker. */
  private sending: Promise<void> = Promise.resolve();
  /** Tasks being stopped after a revocation, awaited before the worker exits. */
  private readonly stoppingTasks = new Set<Promise<void>>();
  private readonly tasks = new Map<number, Task>();
  private readonly outgoing: OutgoingRecord[] = [];
  /** The Kafka record being delivered (named by dead letters). */
  currentRecord: IncomingRecord | null = null;
  private readonly deadLetterTopic: string;
  /** Dead letters: the file (and --fail-fast), and the `<pipeline>-dlq` topic, sent with the batch's output. */
  readonly deadLetterOutput: DeadLetterOutput;
  private failure: { error: unknown } | null = null;
  private onFailure: () => void = () => undefined;
  private readonly topicPartitions = new Map<string, number>();
  private readonly rebalanceCounters = new Map<string, number>();
  private readonly lastWatermarks = new Map<string, number | 'idle' | 'active'>();
  private watermarkTimer: NodeJS.Timeout | null = null;
  private client!: KafkaClient;
  private producer!: RecordProducer;
  private stopping = false;
  readonly metrics: WorkerMetrics;

  constructor(readonly graph: Graph, readonly stage: StageDefinition, readonly manifest: Manifest, readonly log: Logger, readonly deadLetters: DeadLetterFile, private readonly options: WorkerOptions) {
    this.edges = new Map(manifest.edges.map((e) => [e.id, e]));
    this.commit = manifest.stages[stage.id].commit;
    this.doneAt = doneAtOf(this.commit);
    this.metrics = new WorkerMetrics({ pipeline: manifest.pipeline, stage: String(stage.id) });
    this.deadLetterTopic = namespaced(`${manifest.pipeline}-dlq`);
    this.deadLetterOutput = {
      get count() { return deadLetters.count; },
      get file() { return deadLetters.file; },
      write: (nodeId, record) => this.sendDeadLetter(nodeId, record),
    };
  }

  /** Writes a dead letter to the file (throws under --fail-fast) and queues it for the dead-letter topic. */
  private sendDeadLetter(nodeId: number, record: DeadLetterRecord): void {
    this.deadLetters.write(nodeId, record);
    this.metrics.deadLetters.inc();
    const source = this.currentRecord;
    const headers: Record<string, string> = {
      'pipec-error': record.reason,
      'pipec-source': source ? `${source.topic}/${source.partition}@${source.offset}` : `${record.origin}#${record.position}`,
      'pipec-node': String(nodeId),
    };
    if (record.location) headers['pipec-location'] = record.location;
    // A user topic's record keeps its bytes; a repartition record (pipec's own encoding) is sent as its text.
    const value = source && !this.edgeByTopic.has(source.topic) ? source.value ?? '' : record.raw;
    this.outgoing.push({ topic: this.deadLetterTopic, partition: 0, value, headers });
  }

  /** Stops the worker because a task failed: output produced so far is sent, no further offsets are committed, exit code 1. */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.stopping = true;
    this.onFailure();
  }

  private get info() { return this.manifest.stages[this.stage.id]; }

  /** Creates the topics this stage reads and writes, and learns their partition counts. */
  private async prepareTopics(): Promise<Array<{ topic: string; fromBeginning: boolean }>> {
    const { manifest, info } = this;
    const readersOf = (edgeId: string) => manifest.stages[this.edge(edgeId).to].parallelism;
    const edges = [...info.inputs, ...info.outputs].map((id) => this.edge(id));
    await this.client.ensureTopics(edges.map((e) => ({ topic: namespaced(e.topic!), partitions: readersOf(e.id) })), { grow: true });
    await this.client.ensureTopics([{ topic: this.deadLetterTopic, partitions: 1 }]);
    for (const e of edges) this.topicPartitions.set(namespaced(e.topic!), await this.client.partitions(namespaced(e.topic!)));
    // Repartition topics are read from their start by a new group; Kafka sources follow their startFrom.
    const inputTopics: Array<{ topic: string; fromBeginning: boolean }> = [];
    for (const id of info.inputs) {
      const edge = this.edge(id);
      this.edgeByTopic.set(namespaced(edge.topic!), id);
      inputTopics.push({ topic: namespaced(edge.topic!), fromBeginning: true });
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

  /** The collector of an outgoing edge for one task. */
  edgeOutput(edgeId: string, taskIndex: number): (key: unknown, value: unknown, ts: number | undefined) => void {
    const edge = this.edge(edgeId);
    const topic = namespaced(edge.topic);
    const partitions = this.topicPartitions.get(topic) ?? 1;
    const codec = edgeRecordCodec(this.manifest, edgeId);
    return (key, value, ts) => {
      let partition: number;
      if (edge.partitioning === 'hash') partition = partitionForKey(key, partitions);
      else if (edge.partitioning === 'forward') partition = taskIndex % partitions;
      else { const next = this.rebalanceCounters.get(topic) ?? taskIndex; this.rebalanceCounters.set(topic, next + 1); partition = next % partitions; }
      this.outgoing.push({ topic, partition, key: edge.partitioning === 'hash' ? keyText(key) : null, value: codec.encode(value, ts) });
    };
  }

  /** Sends a task's watermark on an edge to every partition, at most every 200 ms (immediately for the end and status changes). */
  sendWatermark(edgeId: string, producer: string, message: number | 'idle' | 'active'): void {
    this.lastWatermarks.set(`${edgeId}\u0000${producer}`, message);
    if (typeof message !== 'number' || message === Infinity) { this.emitWatermarks(); return; }
    this.watermarkTimer ??= setTimeout(() => { this.watermarkTimer = null; this.emitWatermarks(); this.flushInBackground(); }, 200);
  }

  private emitWatermarks(): void {
    for (const [id, message] of this.lastWatermarks) {
      const [edgeId, producer] = id.split('\u0000');
      const topic = namespaced(this.edge(edgeId).topic);
      for (let p = 0; p < (this.topicPartitions.get(topic) ?? 1); p++) {
        this.outgoing.push({ topic, partition: p, key: null, value: encodeWatermark(message), headers: { [WATERMARK_HEADER]: producer } });
      }
    }
    this.lastWatermarks.clear();
  }

  private edge(edgeId: string): ManifestEdge {
    const edge = this.edges.get(edgeId);
    if (!edge) throw new Error(`internal: the manifest has no edge ${edgeId}`);
    return edge;
  }

  /** Sends the queued output, after any send still in flight (sends keep their order). */
  private flushOutgoing(): Promise<void> {
    const records = this.outgoing.splice(0);
    for (const r of records) if (!r.headers) this.metrics.recordsOut.inc({ topic: r.topic });
    const sent = this.sending.then(() => (records.length ? this.producer.send(records) : undefined));
    this.sending = sent.catch(() => undefined);
    return sent;
  }

  /** A flush nobody waits for (timers): its failure fails the worker instead of vanishing. */
  private flushInBackground(): void {
    this.flushOutgoing().catch((error: unknown) => this.fail(error));
  }

  /** Runs until SIGTERM/SIGINT (or, without Kafka inputs, until the bounded sources end). */
  async run(): Promise<void> {
    ({ client: this.client } = processKafka(this.log));
    this.producer = await processKafka(this.log).producer;
    if (this.options.metricsPort !== undefined) this.metrics.listen(this.options.metricsPort, this.log);
    const inputTopics = await this.prepareTopics();
    if (inputTopics.length === 0) return this.runSourceTask();
    const group = this.options.group ?? namespaced(`${this.manifest.pipeline}-stage-${this.stage.id}`);
    const consumer = this.client.consumer(group, { sessionTimeout: this.options.sessionTimeout, coPartitioned: true });
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => { this.log.info({ signal }, 'stopping: finishing the current batch, flushing output, committing offsets'); this.stopping = true; resolve(); };
      process.once('SIGTERM', () => stop('SIGTERM')).once('SIGINT', () => stop('SIGINT'));
      this.onFailure = resolve;
      if (this.failure) resolve();
    });
    this.log.info({ group, topics: inputTopics.map((t) => t.topic) }, 'joining the consumer group');
    await consumer.run(inputTopics, async (batch) => {
      if (this.stopping) return;
      // Only partitions this worker owns have tasks. A batch fetched before a rebalance took the partition
      // away is dropped: a task started mid-stream would commit offsets from a partial view (Kafka Streams does the same).
      const task = this.tasks.get(batch.partition);
      if (!task) { this.log.debug({ partition: batch.partition }, 'dropping a batch of a partition this worker no longer owns'); return; }
      // The task's user functions finish open(ctx) (possibly async) before its first record.
      await Promise.race([task.job.ready, task.running]);
      if (task.job.hasFailed) { await this.flushOutgoing(); return; }
      for (const record of batch.records) {
        try {
          task.deliver(record);
        } catch (error) {
          task.job.fail(error);
        }
        if (task.job.hasFailed) {
          // --fail-fast or a failure: send what the records before this one produced, commit nothing, stop.
          this.currentRecord = null;
          await this.flushOutgoing();
          return;
        }
      }
      this.currentRecord = null;
      this.metrics.recordsIn.inc({ topic: batch.topic }, batch.records.length);
      const endTimer = this.metrics.commitSeconds.startTimer();
      // Backpressure: the next batch is not fetched until this one's output is acknowledged.
      this.emitWatermarks();
      await this.flushOutgoing();
      await task.job.flush();
      const watermarks = task.job.runtimes[this.stage.id][0].coordinator;
      for (const c of this.manifest.stages[this.stage.id].watermarks.consumers) this.metrics.watermark.set({ task: String(task.index) }, Math.max(-1, watermarks.watermarkOf(c.node)));
      const offsets = task.commitOffsets();
      endTimer();
      if (offsets.length) {
        await consumer.commit(offsets);
        this.log.debug({ task: task.index, offsets, first: batch.records[0]?.offset, last: batch.records[batch.records.length - 1]?.offset }, 'committed');
      }
    }, {
      assigned: (partitions) => {
        this.log.info({ partitions }, 'partitions assigned');
        this.metrics.partitions.set(partitions.length);
        this.metrics.healthy = true;
        for (const index of new Set(partitions.map((p) => p.partition))) if (!this.tasks.has(index)) this.startTask(index);
      },
      revoked: (partitions) => {
        this.log.info({ partitions }, 'partitions revoked: their tasks stop here and resume on their new owner');
        for (const index of new Set(partitions.map((p) => p.partition))) {
          const task = this.tasks.get(index);
          this.tasks.delete(index);
          if (!task) continue;
          const stopping = task.stop().finally(() => this.stoppingTasks.delete(stopping));
          this.stoppingTasks.add(stopping);
        }
      },
    });
    await stopped;
    await consumer.close();
    this.metrics.close();
    for (const task of this.tasks.values()) await task.stop();
    await Promise.all(this.stoppingTasks);
    await this.flushOutgoing();
    await closeProcessKafka();
    if (this.failure) throw this.failure.error;
    this.log.info('stopped');
  }

  private startTask(index: number): Task {
    const task = new Task(index, this);
    this.tasks.set(index, task);
    this.log.info({ task: index }, 'task started');
    return task;
  }

  /** A stage whose sources are files, collections or generators: one task that runs them, writing to Kafka. */
  private async runSourceTask(): Promise<void> {
    const job = new LocalJob(this.graph, [this.stage], this.manifest, this.log, this.deadLetterOutput, {
      remote: { output: (edgeId) => this.edgeOutput(edgeId, 0), watermark: (edgeId, message) => this.sendWatermark(edgeId, `${this.stage.id}-0`, message) },
    });
    const flushing = setInterval(() => this.flushInBackground(), 100);
    const stop = (signal: string) => { this.log.info({ signal }, 'stopping the sources'); job.stop(); };
    process.once('SIGTERM', stop).once('SIGINT', stop);
    try {
      await job.run();
      this.emitWatermarks();
    } finally {
      // Also on failure: what the records before it produced is sent (no end-of-input watermark then).
      await this.flushOutgoing();
      clearInterval(flushing);
      if (this.watermarkTimer) clearTimeout(this.watermarkTimer);
      await closeProcessKafka();
    }
  }
}
