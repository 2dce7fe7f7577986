/**
 * manifest.json: what `pipec build` knows about a pipeline that its workers
 * and deployment need. One type, written by the compiler (5-generate) next to
 * the bundles and embedded in every entry, and read by the runtime.
 */
import type { RecordSchema } from './codec/schema.ts';
import type { WatermarkTopology } from './watermarks.ts';

/** One stage: the nodes it runs, its edges, and how event time reaches its operators. */
export interface ManifestStage {
  id: number;
  /** The stage's bundle, `stage-<id>.mjs`. */
  file: string;
  parallelism: number;
  nodes: number[];
  /** Node labels in `nodes` order, and the fused chains, for plans and operators' eyes. */
  operators: string[];
  chains: string[][];
  inputs: string[];
  outputs: string[];
  /** Connector names the stage links. */
  connectors: string[];
  /** Environment variables the stage's workers need (servers, from its connectors' definitions). */
  env: string[];
  /** Stateful operators as `label#id`. */
  state: string[];
  watermarks: WatermarkTopology;
}

/** An edge between two stages. */
export interface ManifestEdge {
  id: string;
  from: number;
  to: number;
  partitioning: 'hash' | 'rebalance' | 'forward';
  /** The repartition topic that carries it between stage workers. */
  topic: string;
  /** For hash edges: the keyBy node whose function computes the key. */
  keyNode: number | null;
  /** The type of the edge's records, from which workers build the edge's codec. */
  schema: RecordSchema;
}

/**
 * What kind of state: keyed state a function registers with
 * `ctx.state.<kind>(name)`, or an operator's built-in state (a window's
 * contents, a rolling aggregation's value per key, timers, an interval
 * join's `left` and `right` buffers, an asyncMap's inputs whose calls are in
 * flight).
 */
export type StateKind = 'value' | 'list' | 'map' | 'reducing' | 'aggregating' | 'window' | 'rolling' | 'timers' | 'buffer' | 'inflight';

/**
 * One piece of a stateful operator's checkpointed state, as the compiler
 * found it. `pipec build` compares these with the previous build's manifest to
 * find upgrades that would drop or misread state. For example:
 *
 *   { "name": "lastTemperature", "kind": "value", "type": "number", "schema": { "kind": "number" } }
 *   { "name": "window", "kind": "window", "type": "{ count: number; }", "schema": {...}, "windows": "tumbling(60000) event time" }
 *   { "name": "timers", "kind": "timers", "type": "number" }
 */
export interface ManifestState {
  /** The name the function gives it (a string literal or const), or for built-in state its kind (`window`, `rolling`, `timers`). */
  name: string;
  kind: StateKind;
  /**
   * What it stores per key (window state: per window), as TypeScript prints
   * it: value and reducing `S`, list `S[]`, map `Map<K, V>`, aggregating the
   * accumulator `A`, window contents (reduce `T`, aggregate the accumulator,
   * process `T[]`), rolling `T`, timers `number` (timestamps), inflight the
   * input record `T` (its call is made again after a restore); null when unknown.
   */
  type: string | null;
  /** The same type spelled out (what the compiler would encode it as), so that a changed interface behind an unchanged name is noticed. */
  schema?: RecordSchema;
  /** Window state: the windows it holds (`sliding(60000/1000) event time`, `session event time`, `count`); panes of other windows cannot be reused. */
  windows?: string;
}

/** One node of the graph, in id order: checked against the graph rebuilt at start-up, and named in messages. */
export interface ManifestNode {
  kind: string;
  /** `map`, `source file.jsonl(in/x.jsonl)`: what plans, logs and dead letters call it. */
  label: string;
  /**
   * The operator's stable id, unique in the pipeline: the user's `.uid(id)`, or
   * a default made from its label (`sum(count)`, `keyedProcess#2` for the
   * second of that label) that unrelated edits leave alone. Checkpointed state
   * is kept under it, so a new version of the pipeline finds its operators'
   * state whatever their node ids and stages became.
   */
  uid: string;
  /** The DSL call as `file:line:col` (null when unknown). */
  site: string | null;
  /** The settings generated code was built with (bakedSettings), checked against the graph a worker builds. */
  settings: string | null;
  /** Stateful operators only (node-traits `stateful`): every state they keep, in the order the compiler found them. */
  state?: ManifestState[];
  /**
   * Present (false) when `state` may miss some: the function names a state at
   * run time (PC2130), or comes from outside the user's code. The upgrade check
   * then compares the states it knows but does not look for renamed ones.
   */
  stateComplete?: false;
}

/**
 * The checkpoint interval when the pipeline sets none, in ms. Under
 * exactly-once a stage's output becomes visible downstream when its
 * transaction commits, once per checkpoint, so the interval is also the added
 * latency per stage: 200 ms keeps a sliding-every-second leaderboard current
 * (Kafka Streams commits every 100 ms under exactly-once), while the fixed cost
 * of a commit (four requests to the broker, plus the state keys touched since
 * the last one) stays a few percent of a busy task's time.
 */
export const DEFAULT_CHECKPOINT_INTERVAL = 200;

/** The whole manifest. */
export interface Manifest {
  pipeline: string;
  /** Checkpoint interval (ms) and store (null: the runtime's default, Kafka changelogs for stage workers). */
  checkpoint: { interval: number; store: 'file' | 'redis' | 'kafka' | null };
  /** What Kafka → Kafka stage workers guarantee (exactly-once by default). */
  guarantee: 'exactly-once' | 'at-least-once';
  /** The pipeline file, relative to the project root (user error locations are shown against it). */
  source: string;
  mode: 'batch' | 'streaming';
  pipecVersion: string;
  stages: ManifestStage[];
  edges: ManifestEdge[];
  nodes: ManifestNode[];
  /** Per `file.csv` and database source node id: the declared type of each column (see SourceContext.columnTypes). */
  columnTypes?: Record<number, Record<string, string>>;
  /** sha256 over the plan, the generated code and the record types: identical builds have identical hashes. */
  contentHash: string;
}
