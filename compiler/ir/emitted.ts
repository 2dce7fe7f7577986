/**
 * What generate hands to bundle, and what the build writes: the generated
 * module source of each stage (with its source map back to the user's file),
 * the local runner, the manifest and deployment files.
 */
import type { WatermarkTopology } from './physical-plan.ts';
import type { RecordSchema } from '../../runtime/internal/codec/schema.ts';

/** A generated TypeScript module, before bundling. */
export interface GeneratedModule {
  /** Virtual file name, e.g. `stage-0.ts`. */
  fileName: string;
  code: string;
  /** Source map (v3 JSON) of `code` back to the user's file and to itself. */
  map: string;
}

/** The manifest written next to the bundles. */
export interface Manifest {
  pipeline: string;
  source: string;
  mode: 'batch' | 'streaming';
  pipecVersion: string;
  stages: Array<{
    id: number; file: string; parallelism: number; nodes: number[]; operators: string[]; chains: string[][];
    inputs: string[]; outputs: string[]; connectors: string[]; state: string[];
    watermarks: WatermarkTopology;
  }>;
  /** `schema`: the type of the edge's records (Analysis.edgeSchemas of the sending node), for the edge codec. */
  edges: Array<{ id: string; from: number; to: number; partitioning: string; topic: string | null; keyNode: number | null; schema: RecordSchema }>;
  /** Per `file.csv` source node id: the declared type of each column (Analysis.columnTypes). */
  columnTypes?: Record<number, Record<string, string>>;
  /** sha256 over the plan and the generated code: identical builds have identical hashes. */
  contentHash: string;
}

/** Everything generate produced. */
export interface EmittedPipeline {
  pipeline: string;
  /** The user's pipeline file, absolute (not written anywhere). */
  entryFile: string;
  stages: GeneratedModule[];
  /** One module per stage worker (template-filled) plus `local.ts`. */
  entries: Array<{ outFile: string; module: GeneratedModule }>;
  manifest: Manifest;
  /** Extra text files to write as they are (deployment files). */
  files: Record<string, string>;
}
