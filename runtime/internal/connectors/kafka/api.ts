/** `kafka.source / kafka.sink`: the DSL side of the Kafka connector. */
import { descriptor, type Sink, type Source } from '../../../api/connectors.ts';

/** A user codec for Kafka values. */
export interface Codec<T> { decode(bytes: Uint8Array): T; encode(value: T): Uint8Array | string }
/** Kafka value formats. */
export type KafkaFormat<T> = 'json' | 'string' | 'csv' | Codec<T>;

/** Options of `kafka.source`. */
export interface KafkaSourceOptions<T> {
  topic: string;
  format: KafkaFormat<T>;
  /** Where a new consumer group starts (default 'latest'). */
  startFrom?: 'earliest' | 'latest' | { timestamp: number };
  /** Consumer group id (default: `<pipeline>-stage-<i>`). */
  group?: string;
}
/** Options of `kafka.sink`. */
export interface KafkaSinkOptions<T> {
  topic: string;
  format: KafkaFormat<T>;
  /** The record key (default: none, a null key; after keyBy, pass the same function to keep the key on the topic). */
  key?: (value: T) => string;
}

/** Apache Kafka topics. */
export const kafka = {
  source<T>(options: KafkaSourceOptions<T>): Source<T> {
    return descriptor<Source<T>>('kafka', { ...options }, { source: { bounded: false } });
  },
  sink<T>(options: KafkaSinkOptions<T>): Sink<T> {
    return descriptor<Sink<T>>('kafka', { ...options }, { sink: true });
  },
};
