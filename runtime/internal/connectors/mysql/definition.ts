/**
 * The MySQL connectors: a bounded table scan and a binlog change stream (one
 * task each: a table is read in key order, a binlog in commit order), and
 * upsert and insert sinks; server and credentials from PIPEC_MYSQL_URL.
 * Build-time checks: unknown options, a `table` or `query` to read, key
 * columns for an upsert, and sizes that are positive integers.
 */
import { unknownOptions, type ConnectorDefinition, type ConnectorProblem } from '../definition.ts';

const OPTIONS: Record<string, readonly string[]> = {
  'mysql.table': ['table', 'query', 'chunkSize'],
  'mysql.cdc': ['table', 'startFrom', 'serverId', 'chunkSize'],
  'mysql.upsert': ['table', 'key', 'batchSize', 'flushInterval'],
  'mysql.insert': ['table', 'key', 'batchSize', 'flushInterval'],
};

function positiveInteger(connector: string, options: Readonly<Record<string, unknown>>, name: string): ConnectorProblem[] {
  const value = options[name];
  if (value === undefined || (Number.isInteger(value) && (value as number) > 0)) return [];
  return [{ feature: `${connector} ${name}: ${JSON.stringify(value)} is not a positive integer`, hint: `Give ${name} a whole number above 0, or leave it out for the default.`, invalid: true }];
}

/** The checks of one descriptor's options. */
function check(connector: string, o: Readonly<Record<string, unknown>>): ConnectorProblem[] {
  const problems = unknownOptions(connector, o, OPTIONS[connector] ?? []);
  const table = typeof o.table === 'string' && o.table.length > 0;
  if (connector === 'mysql.table' && table === (typeof o.query === 'string')) {
    problems.push({ feature: `${connector} needs exactly one of 'table' and 'query'`, hint: "Read a table with { table: 'orders' }, or a SELECT with { query: 'SELECT … ORDER BY id' }.", invalid: true });
  }
  if (connector !== 'mysql.table' && !table) problems.push({ feature: `${connector} needs a 'table'`, hint: "Name it as { table: 'orders' } or { table: 'shop.orders' }.", invalid: true });
  if (connector === 'mysql.upsert' && (!Array.isArray(o.key) || o.key.length === 0)) {
    problems.push({ feature: `${connector} needs at least one key column`, hint: "List the columns of the table's primary or unique key: { key: ['id'] }.", invalid: true });
  }
  if (connector === 'mysql.cdc' && o.startFrom !== undefined && !['initial', 'latest', 'earliest'].includes(o.startFrom as string)) {
    const s = o.startFrom as Record<string, unknown> | null;
    const ok = s !== null && typeof s === 'object' && (typeof s.gtid === 'string' || (typeof s.file === 'string' && Number.isInteger(s.position)));
    if (!ok) problems.push({ feature: `${connector} startFrom: ${JSON.stringify(o.startFrom)} is not a start position`, hint: "Use 'initial' (snapshot, then the binlog), 'latest', 'earliest', { gtid: '0-1-100' } or { file: 'mysql-bin.000003', position: 4 }.", invalid: true });
  }
  for (const name of ['chunkSize', 'batchSize', 'serverId']) problems.push(...positiveInteger(connector, o, name));
  return problems;
}

export const mysqlConnector: ConnectorDefinition = {
  names: ['mysql.table', 'mysql.cdc', 'mysql.upsert', 'mysql.insert'],
  module: 'mysql',
  sources: { 'mysql.table': 'MysqlTableSource', 'mysql.cdc': 'MysqlCdcSource' },
  sinks: { 'mysql.upsert': 'MysqlUpsertSink', 'mysql.insert': 'MysqlInsertSink' },
  singleTaskSource: true,
  needs: { env: ['PIPEC_MYSQL_URL'] },
  sinkGuarantee: { 'mysql.upsert': 'idempotent', 'mysql.insert': 'checkpointed' },
  rowType: { 'mysql.table': 'record', 'mysql.cdc': 'change-event' },
  describe: (o) => String(o.table ?? 'query'),
  validate: (o, _role, connector) => check(connector, o),
};
