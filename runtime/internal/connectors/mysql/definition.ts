/** The MySQL connectors: declared in the DSL, refused at build time until their runtime exists. */
import type { ConnectorDefinition } from '../definition.ts';

export const mysqlConnector: ConnectorDefinition = {
  names: ['mysql.table', 'mysql.cdc', 'mysql.upsert', 'mysql.insert'],
  module: 'mysql',
  singleTaskSource: true,
  needs: { env: ['PIPEC_MYSQL_URL'] },
  unavailable: 'the MySQL connectors come in a later release',
  describe: (o) => String(o.table ?? ''),
};
