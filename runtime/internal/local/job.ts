/**
 * Runs stages in one process (local.mjs, and a single-stage worker): creates
 * every stage instance, wires cut edges as synchronous in-memory channels
 * (hash, rebalance or forward), drives the sources, and cascades end-of-input
 * downstream so batch operators emit their final values in order.
 */
import type { Graph } from '../../api/graph.ts';
import type { ConnectorDescriptor } from '../../api/connectors.ts';
import { partitionForKey } from '../partitioning.ts';
import type { Logger } from '../log.ts';
import type { DeadLetterFile } from '../dead-letter.ts';
import type { SinkConnector, SourceConnector } from '../connectors/types.ts';
import type { EdgeInput, EdgeOutput, RuntimeManifest, SinkWriter, StageDefinition, StageEnv, StageInstance } from '../stage.ts';

interface SourceBinding { stage: number; subtask: number; nodeId: number; connector: SourceConnector; emit: (value: unknown, ts: number | undefined) => void }

/** Builds the collector of one cut edge for one upstream subtask. */
function edgeOutput(partitioning: string, targets: EdgeInput[], subtask: number): EdgeOutput {
  const n = targets.length;
  if (n === 1) { const only = targets[0]; return { collect: only }; }
  if (partitioning === 'hash') return { collect: (key, value, ts) => targets[partitionForKey(key, n)](key, value, ts) };
  if (partitioning === 'forward') { const target = targets[subtask]; return { collect: target }; }
  let next = subtask % n;
  return { collect: (key, value, ts) => { const target = targets[next]; next = next + 1 === n ? 0 : next + 1; target(key, value, ts); } };
}

/** One local execution of some or all stages of a pipeline. */
export class LocalJob {
  private readonly instances: StageInstance[][] = [];
  private readonly pending: number[][] = [];
  private readonly sources: SourceBinding[] = [];
  private readonly sinks = new Map<number, SinkConnector>();
  private readonly abort = new AbortController();
  private readonly edges: Map<string, RuntimeManifest['edges'][number]>;

  constructor(
    private readonly graph: Graph,
    private readonly stages: StageDefinition[],
    private readonly manifest: RuntimeManifest,
    private readonly log: Logger,
    private readonly deadLetters: DeadLetterFile,
  ) {
    this.edges = new Map(manifest.edges.map((e) => [e.id, e]));
  }

  /** Stops the sources (SIGTERM/SIGINT); run() then ends without firing final results. */
  stop(): void { this.abort.abort(); }

  /** Runs to the end of every bounded input (or until stop()). */
  async run(): Promise<void> {
    const byId = new Map(this.stages.map((s) => [s.id, s]));
    // Create downstream stages first so upstream outputs can bind to their inputs directly.
    for (const stage of [...this.stages].sort((a, b) => b.id - a.id)) {
      this.instances[stage.id] = [];
      for (let subtask = 0; subtask < stage.parallelism; subtask++) this.instances[stage.id][subtask] = stage.create(this.envFor(stage, subtask));
    }
    for (const stage of this.stages) {
      const info = this.manifest.stages[stage.id];
      this.pending[stage.id] = Array.from({ length: stage.parallelism }, (_, subtask) =>
        this.sources.filter((s) => s.stage === stage.id && s.subtask === subtask).length +
        info.inputs.reduce((sum, edgeId) => {
          const edge = this.edges.get(edgeId)!;
          return sum + (!byId.has(edge.from) ? 0 : edge.partitioning === 'forward' ? 1 : byId.get(edge.from)!.parallelism);
        }, 0));
    }
    await Promise.all(this.sources.map(async (binding) => {
      await binding.connector.run(binding.emit);
      if (!this.abort.signal.aborted) this.inputEnded(binding.stage, binding.subtask);
    }));
    for (const sink of this.sinks.values()) await sink.close();
  }

  private inputEnded(stageId: number, subtask: number): void {
    if (--this.pending[stageId][subtask] > 0) return;
    this.instances[stageId][subtask].finish();
    for (const edgeId of this.manifest.stages[stageId].outputs) {
      const edge = this.edges.get(edgeId)!;
      if (!this.instances[edge.to]) continue;
      if (edge.partitioning === 'forward') this.inputEnded(edge.to, subtask);
      else for (let i = 0; i < this.instances[edge.to].length; i++) this.inputEnded(edge.to, i);
    }
  }

  private envFor(stage: StageDefinition, subtask: number): StageEnv {
    const { graph, manifest } = this;
    const descriptorOf = (nodeId: number) => graph.nodes[nodeId].props.descriptor as ConnectorDescriptor;
    return {
      graph, subtask, parallelism: stage.parallelism, mode: manifest.mode,
      fn: <F>(nodeId: number) => graph.nodes[nodeId].fn as F,
      node: (nodeId) => graph.nodes[nodeId],
      source: (nodeId, create, emit) => {
        const connector = create({
          pipeline: graph.name, nodeId, options: descriptorOf(nodeId).options, subtask, parallelism: stage.parallelism,
          signal: this.abort.signal, log: this.log,
          deadLetter: (record) => this.deadLetters.write(nodeId, record),
        });
        this.sources.push({ stage: stage.id, subtask, nodeId, connector, emit });
      },
      sink: (nodeId, create): SinkWriter => {
        let connector = this.sinks.get(nodeId);
        if (!connector) {
          connector = create({ pipeline: graph.name, nodeId, options: descriptorOf(nodeId).options, parallelism: graph.nodes[nodeId].parallelism ?? stage.parallelism, log: this.log });
          this.sinks.set(nodeId, connector);
        }
        const shared = connector;
        return { write: (value) => shared.write(value, subtask) };
      },
      output: (edgeId) => {
        const edge = this.edges.get(edgeId);
        if (!edge) throw new Error(`internal: unknown edge ${edgeId}`);
        const downstream = this.instances[edge.to];
        if (!downstream) throw new Error(`stage ${stage.id} writes to stage ${edge.to} over ${edge.topic ?? edgeId}, which this process does not run; run local.mjs, or run every stage with Kafka`);
        return edgeOutput(edge.partitioning, downstream.map((instance) => instance.inputs[edgeId]), subtask);
      },
      keyedState: () => new Map(),
      unreadSideOutput: () => undefined,
    };
  }
}
