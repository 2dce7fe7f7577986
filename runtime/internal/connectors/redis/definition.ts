/** The Redis sinks: declared in the DSL, refused at build time until their runtime exists. */
import type { ConnectorDefinition } from '../definition.ts';

export const redisConnector: ConnectorDefinition = {
  names: ['redis.hset', 'redis.set'],
  module: 'redis',
  needs: { env: ['PIPEC_REDIS_URL'] },
  unavailable: 'the Redis sinks come in a later release',
  describe: () => '',
};
