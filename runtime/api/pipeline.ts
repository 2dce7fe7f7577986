/**
 * `pipeline(name, build, options)`: the value a pipeline file exports as
 * default. `instantiateGraph` runs the build function against a fresh builder;
 * the compiler does that once to plan, every worker once at start-up.
 */
import { GraphBuilder, type Graph, type PipelineOptions } from './graph.ts';
import { DataStream } from './datastream.ts';
import type { Source } from './connectors.ts';
import { parseDuration } from './duration.ts';

const PIPELINE_BRAND = Symbol.for('pipec.pipeline');

/** The environment handed to a pipeline's build function (Flink's StreamExecutionEnvironment). */
export interface StreamExecutionEnvironment {
  /** Adds a source and returns its stream. */
  source<T>(source: Source<T>): DataStream<T>;
}

/** A pipeline definition: export it as the default export of the pipeline file. */
export interface Pipeline {
  readonly [PIPELINE_BRAND]: true;
  readonly name: string;
  readonly options: PipelineOptions;
  readonly build: (env: StreamExecutionEnvironment) => void;
}

/** Declares a pipeline. `name` names the output folder, topics and consumer groups, so it must be a simple identifier. */
export function pipeline(name: string, build: (env: StreamExecutionEnvironment) => void, options: PipelineOptions = {}): Pipeline {
  if (!/^[a-z][a-z0-9-]*$/i.test(name)) throw new TypeError(`pipeline name '${name}' must start with a letter and contain only letters, digits and '-'`);
  if (options.autoWatermarkInterval !== undefined && !(parseDuration(options.autoWatermarkInterval) > 0)) throw new RangeError('autoWatermarkInterval must be greater than 0');
  return { [PIPELINE_BRAND]: true, name, build, options };
}

/** True for values made by `pipeline()` (by any copy of pipec). */
export function isPipeline(value: unknown): value is Pipeline {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PIPELINE_BRAND] === true;
}

/** Runs the build function and returns the graph it describes. */
export function instantiateGraph(definition: Pipeline): Graph {
  const builder = new GraphBuilder();
  const env: StreamExecutionEnvironment = {
    source<T>(source: Source<T>): DataStream<T> {
      if (!source || source.kind !== 'connector' || !('source' in source)) throw new TypeError('p.source(...) needs a source connector such as file.lines(path) or kafka.source({...})');
      return new DataStream<T>(builder, builder.add('source', [], { connector: source.connector, options: source.options, bounded: source.source.bounded }));
    },
  };
  definition.build(env);
  return { name: definition.name, options: definition.options, nodes: builder.nodes };
}
