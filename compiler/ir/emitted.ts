/**
 * What generate hands to bundle, and what the build writes: the generated
 * module source of each stage (with its source map back to the user's file),
 * the local runner, the manifest and deployment files.
 */
import type { Manifest } from '../../runtime/internal/manifest.ts';

/** The manifest is one type, shared with the runtime that reads it. */
export type { Manifest };

/** A generated TypeScript module, before bundling. */
export interface GeneratedModule {
  /** Virtual file name, e.g. `stage-0.ts`. */
  fileName: string;
  code: string;
  /** Source map (v3 JSON) of `code` back to the user's file and to itself. */
  map: string;
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
