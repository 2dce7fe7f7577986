/**
 * PhysicalPlan: what optimize hands to generate. Nodes are grouped into stages
 * (cut at shuffles and parallelism changes) and, inside a stage, into chains
 * of one-to-one operators that generate as one fused function.
 */

/** How records cross an edge between two stages. */
export type Partitioning = 'hash' | 'rebalance' | 'forward';

/** A connection from a node in one stage to a node in another. */
export interface StageEdge {
  /** Stable name, also the repartition topic's middle part: `<consumer kind>-<consumer id>`. */
  id: string;
  fromStage: number;
  fromNode: number;
  toStage: number;
  toNode: number;
  partitioning: Partitioning;
  /** For 'hash': the keyBy node whose function computes the key. */
  keyNode: number | null;
  /** Which input of the consumer this is (0, or 1 for the second input of connect). */
  inputIndex: number;
}

/** Which watermark origins feed each event-time operator and outgoing edge of a stage (see optimize/watermarks.ts). */
export interface WatermarkTopology {
  origins: string[];
  consumers: Array<{ node: number; origins: string[] }>;
  outputs: Array<{ edge: string; origins: string[] }>;
}

/** One stage: a set of nodes that run in the same worker at the same parallelism. */
export interface Stage {
  id: number;
  parallelism: number;
  /** Node ids in topological order. */
  nodes: number[];
  /** Source nodes that live in this stage. */
  sources: number[];
  /** Edges that feed this stage / leave it. */
  inputs: string[];
  outputs: string[];
  /** Maximal runs of chained operators (Flink's OperatorChain), for plans and graphs. */
  chains: number[][];
  watermarks: WatermarkTopology;
}

/** The result of the optimize phase. */
export interface PhysicalPlan {
  stages: Stage[];
  edges: StageEdge[];
  /** Parallelism each node runs at. */
  parallelism: Record<number, number>;
}
