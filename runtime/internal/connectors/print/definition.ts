/** The print connector: a sink to stdout in Flink's print format. */
import type { ConnectorDefinition } from '../definition.ts';

export const printConnector: ConnectorDefinition = {
  names: ['print'],
  module: 'print',
  sinks: { print: 'PrintSink' },
  describe: (o) => (o.prefix === undefined ? '' : String(o.prefix)),
};
