/** The Kafka connector: topics as parallel, unbounded sources and as sinks; brokers from PIPEC_KAFKA_BROKERS. */
import type { ConnectorDefinition } from '../definition.ts';

export const kafkaConnector: ConnectorDefinition = {
  names: ['kafka'],
  module: 'kafka',
  sources: { kafka: 'KafkaSource' },
  sinks: { kafka: 'KafkaSink' },
  needs: { env: ['PIPEC_KAFKA_BROKERS'] },
  sinkGuarantee: { kafka: 'checkpointed' },
  describe: (o) => String(o.topic ?? ''),
  validate: (o) => (typeof o.startFrom === 'object' && o.startFrom !== null
    ? [{ feature: 'kafka.source startFrom: { timestamp }', hint: "Use startFrom: 'earliest' or 'latest' for now." }]
    : []),
};
