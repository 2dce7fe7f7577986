/** The Redis sinks: SET and HSET per record, pipelined; PIPEC_REDIS_URL at run time. Build-time checks: unknown options, the functions they need. */
import { unknownOptions, type ConnectorDefinition, type ConnectorProblem } from '../definition.ts';

const OPTIONS: Record<string, readonly string[]> = {
  'redis.set': ['key', 'value', 'ttl'],
  'redis.hset': ['key', 'field', 'value', 'ttl'],
};

function check(connector: string, o: Readonly<Record<string, unknown>>): ConnectorProblem[] {
  const problems = unknownOptions(connector, o, OPTIONS[connector] ?? []);
  const functions = connector === 'redis.hset' ? ['key', 'field', 'value'] : ['key', 'value'];
  // The plan holds functions as a summary string; a missing one is undefined.
  for (const name of functions) {
    if (o[name] === undefined) problems.push({ feature: `${connector} needs a '${name}' function`, hint: `Give it as { ${name}: (record) => ... }.`, invalid: true });
  }
  return problems;
}

export const redisConnector: ConnectorDefinition = {
  names: ['redis.hset', 'redis.set'],
  module: 'redis',
  sinks: { 'redis.hset': 'RedisHsetSink', 'redis.set': 'RedisSetSink' },
  needs: { env: ['PIPEC_REDIS_URL'] },
  sinkGuarantee: { 'redis.hset': 'idempotent', 'redis.set': 'idempotent' },
  describe: () => '',
  validate: (o, _role, connector) => check(connector, o),
};
