/**
 * `redis.set / redis.hset`: the DSL side of the Redis sinks. Each record
 * becomes one command built by the user's key and value functions; the
 * server comes from PIPEC_REDIS_URL when a worker runs (runtime.ts).
 */
import { descriptor, type Sink } from '../../../api/connectors.ts';
import type { Duration } from '../../../api/duration.ts';

/** What a value function may return (numbers are written as their decimal text). */
export type RedisValue = string | number | Buffer;

/** Options of `redis.set`. */
export interface RedisSetOptions<T> {
  key: (value: T) => string;
  value: (value: T) => RedisValue;
  /** Expire the key this long after each write (SET … PX). */
  ttl?: Duration;
}

/** Options of `redis.hset`. */
export interface RedisHsetOptions<T> {
  key: (value: T) => string;
  field: (value: T) => string;
  value: (value: T) => RedisValue;
  /** Expire the whole hash this long after each write to it (PEXPIRE). */
  ttl?: Duration;
}

/** Redis sinks: pipelined writes, flushed on a short linger and on every checkpoint; replays overwrite with the same values. */
export const redis = {
  /** `HSET key field value` per record. */
  hset<T>(options: RedisHsetOptions<T>): Sink<T> {
    return descriptor<Sink<T>>('redis.hset', { ...options }, { sink: true });
  },
  /** `SET key value [PX ttl]` per record. */
  set<T>(options: RedisSetOptions<T>): Sink<T> {
    return descriptor<Sink<T>>('redis.set', { ...options }, { sink: true });
  },
};
