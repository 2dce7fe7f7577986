/**
 * What a connector tells the compiler and the runtime about itself, in one
 * object per connector family (as Flink's DynamicTableFactory does): the
 * descriptor names it serves, the module and classes a stage bundle imports,
 * how its sources parallelize, what it needs at run time, and its build-time
 * checks. A connector is one folder — `api.ts` (the DSL descriptors),
 * `runtime.ts` (sources and sinks, the bundle entry), `definition.ts` (this) —
 * plus one line in registry.ts. Definitions are plain data and small
 * functions, so the compiler reads them without loading any client library.
 */

/** A problem with a descriptor's options, reported at build time: PC1900 (not supported yet), or PC1160 (an invalid option) when `invalid`. */
export interface ConnectorProblem {
  /** What is not supported, e.g. `kafka.source startFrom: { timestamp }`; for an invalid option, what is wrong with it. */
  feature: string;
  hint: string;
  /** The option is wrong (unknown, out of range), not a feature of a later release. */
  invalid?: boolean;
}

/** What a sink guarantees after a failure in a job that checkpoints: it takes part in checkpoints (the pipeline's guarantee), or its writes are idempotent overwrites (the end state is exactly-once). Sinks without one are at-least-once. */
export type SinkGuarantee = 'checkpointed' | 'idempotent';

/** One connector family. */
export interface ConnectorDefinition {
  /** The `connector` names of the descriptors it serves (`file.csv`). */
  readonly names: readonly string[];
  /** Its folder under runtime/internal/connectors: stages import `pipec/internal/connectors/<module>/runtime`. */
  readonly module: string;
  /** The runtime class of each source and sink it serves, by descriptor name. */
  readonly sources?: Readonly<Record<string, string>>;
  readonly sinks?: Readonly<Record<string, string>>;
  /** Its sources read their whole input in one task (Flink's non-parallel sources); otherwise they run at the job's parallelism. */
  readonly singleTaskSource?: boolean;
  /** What a worker that uses it needs at run time (servers are named by the environment variables that locate them). */
  readonly needs?: { readonly env: readonly string[] };
  /** Set while its runtime is not in this release: the build refuses it (PC1900) with this reason. */
  readonly unavailable?: string;
  /** A short description of a descriptor for plans and labels: a path, a topic, `3 items`. */
  describe(options: Readonly<Record<string, unknown>>): string;
  /** Checks of a descriptor's options at build time (`connector`: the descriptor's name, one of `names`). */
  validate?(options: Readonly<Record<string, unknown>>, role: 'source' | 'sink', connector: string): ConnectorProblem[];
  /** By sink descriptor name: what it guarantees after a failure (`pipec build` reports it). */
  readonly sinkGuarantee?: Readonly<Record<string, SinkGuarantee>>;
  /**
   * By source descriptor name: where the compiler finds the declared type of
   * each column for SourceContext.columnTypes — the record type itself
   * ('record'), or the `after` row of a change event ('change-event').
   */
  readonly rowType?: Readonly<Record<string, 'record' | 'change-event'>>;
}

/** PC1160 problems for the options of a descriptor that are not among `known` (a misspelt option would otherwise be ignored). */
export function unknownOptions(connector: string, options: Readonly<Record<string, unknown>>, known: readonly string[]): ConnectorProblem[] {
  return Object.keys(options).filter((name) => !known.includes(name)).map((name) => ({
    feature: `${connector} has no option '${name}'`, hint: `Its options are ${known.join(', ')}.`, invalid: true,
  }));
}
