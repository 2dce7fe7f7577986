/** `redis.*`: the DSL side of the Redis sinks (their runtime is not in this release; see definition.ts). */
import { descriptor, type Sink } from '../../../api/connectors.ts';
import type { Duration } from '../../../api/duration.ts';

/** Redis sinks. */
export const redis = {
  hset<T>(options: { key: (value: T) => string; field: (value: T) => string; value: (value: T) => string }): Sink<T> {
    return descriptor<Sink<T>>('redis.hset', { ...options }, { sink: true });
  },
  set<T>(options: { key: (value: T) => string; value: (value: T) => string; ttl?: Duration }): Sink<T> {
    return descriptor<Sink<T>>('redis.set', { ...options }, { sink: true });
  },
};
