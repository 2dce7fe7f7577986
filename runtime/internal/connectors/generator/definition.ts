/** The generator connector: a data simulator, run by one task. */
import type { ConnectorDefinition } from '../definition.ts';

export const generatorConnector: ConnectorDefinition = {
  names: ['generator'],
  module: 'generator',
  sources: { generator: 'GeneratorSource' },
  singleTaskSource: true,
  describe: () => '',
};
