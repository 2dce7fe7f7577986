/**
 * The `pipec` package: the DSL a pipeline file imports. Descriptors and
 * builders only; the runtime that executes them is in runtime/internal.
 */
export { pipeline, isPipeline, instantiateGraph, type Pipeline, type StreamExecutionEnvironment } from './pipeline.ts';
export { DataStream, KeyedStream, WindowedStream, AllWindowedStream, ConnectedStreams, KeyedConnectedStreams, DataStreamSink, type NumericField, type WatermarkOptions, type WindowOf } from './datastream.ts';
export { collection, generator, file, print, kafka, mysql, redis } from './connectors.ts';
export type { Source, Sink, ConnectorDescriptor, ConnectorName, FileConnector, FileOptions, CsvOptions, GeneratorOptions, Codec, KafkaFormat, KafkaSourceOptions, KafkaSinkOptions, ChangeEvent, MysqlSinkOptions } from './connectors.ts';
export { windows, type WindowAssigner, type TimeWindowAssigner, type CountWindowAssigner, type TimeDomain } from './windows.ts';
export { agg, type BuiltinAggregate, type TopEntry } from './agg.ts';
export { sideOutput } from './functions.ts';
export type {
  OutputTag, Metrics, Context, ProcessFunction, KeyedProcessFunction, CoProcessFunction, KeyedCoProcessFunction, KeyedContext, OnTimerContext,
  ValueState, ListState, MapState, ReducingState, AggregatingState, KeyedStateStore, TimerService,
  AggregateFunction, TimeWindow, CountWindow, WindowMeta,
} from './functions.ts';
export { parseDuration, type Duration, type DurationUnit } from './duration.ts';
export type { Graph, GraphNode, NodeKind, PipelineOptions, StackPosition } from './graph.ts';
