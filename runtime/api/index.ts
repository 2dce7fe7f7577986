/**
 * The `pipec` package: the DSL a pipeline file imports. Descriptors and
 * builders only; the runtime that executes them is in runtime/internal.
 */
export { pipeline, isPipeline, instantiateGraph, type Pipeline, type StreamExecutionEnvironment } from './pipeline.ts';
export { DataStream, KeyedStream, WindowedStream, AllWindowedStream, ConnectedStreams, KeyedConnectedStreams, DataStreamSink, type NumericField, type WatermarkOptions, type WindowOf, type AsyncMapOptions } from './datastream.ts';
export { JoinedStreams, CoGroupedStreams, JoinWhere, JoinEqualTo, JoinWithWindow, CoGroupWithWindow, IntervalJoin, IntervalJoined, type WithWindowOf } from './joins.ts';
export { watermarks, type WatermarkStrategy, type WatermarkGenerator, type WatermarkOutput } from './watermarks.ts';
export type { Source, Sink, ConnectorDescriptor, ConnectorName } from './connectors.ts';
// Connectors, one line each (their folders are under runtime/internal/connectors/).
export { collection } from '../internal/connectors/collection/api.ts';
export { generator, type GeneratorOptions } from '../internal/connectors/generator/api.ts';
export { file, type FileConnector, type FileOptions, type CsvOptions } from '../internal/connectors/file/api.ts';
export { print } from '../internal/connectors/print/api.ts';
export { kafka, type Codec, type KafkaFormat, type KafkaSourceOptions, type KafkaSinkOptions } from '../internal/connectors/kafka/api.ts';
export { mysql, type ChangeEvent, type ChangeSource, type CdcStartFrom, type MysqlCdcOptions, type MysqlSinkOptions, type MysqlTableOptions } from '../internal/connectors/mysql/api.ts';
export { redis, type RedisHsetOptions, type RedisSetOptions, type RedisValue } from '../internal/connectors/redis/api.ts';
export { windows, type WindowAssigner, type TimeWindowAssigner, type CountWindowAssigner, type TimeDomain } from './windows.ts';
export { agg, type BuiltinAggregate, type TopEntry } from './agg.ts';
export { sideOutput } from './functions.ts';
export type {
  OutputTag, Metrics, Counter, Gauge, Histogram, MetricLabels, Context, ProcessFunction, KeyedProcessFunction, CoProcessFunction, KeyedCoProcessFunction, KeyedContext, OnTimerContext,
  ValueState, ListState, MapState, ReducingState, AggregatingState, KeyedStateStore, TimerService,
  AggregateFunction, TimeWindow, CountWindow, WindowMeta, ProcessJoinFunction, ProcessJoinContext,
} from './functions.ts';
export { parseDuration, parseSignedDuration, type Duration, type DurationUnit } from './duration.ts';
export type { Graph, GraphNode, NodeKind, PipelineOptions, StackPosition, AsyncMapSpec } from './graph.ts';
