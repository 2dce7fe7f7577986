/**
 * The MySQL connectors' runtime, the module a stage imports when it uses
 * them: `mysql.table` (table-source.ts), `mysql.cdc` (cdc-source.ts),
 * `mysql.upsert` (upsert-sink.ts) and `mysql.insert` (insert-sink.ts), over
 * mysql2 and, for the binlog, @vlasky/zongji. The server comes from
 * PIPEC_MYSQL_URL at run time (connection.ts).
 */
export { MysqlTableSource } from './table-source.ts';
export { MysqlCdcSource } from './cdc-source.ts';
export { MysqlUpsertSink } from './upsert-sink.ts';
export { MysqlInsertSink } from './insert-sink.ts';
