/** The collection connector: a bounded source over an array, read by one task. */
import type { ConnectorDefinition } from '../definition.ts';

export const collectionConnector: ConnectorDefinition = {
  names: ['collection'],
  module: 'collection',
  sources: { collection: 'CollectionSource' },
  singleTaskSource: true,
  describe: (o) => (Array.isArray(o.items) ? `${o.items.length} items` : ''),
};
