/**
 * Every connector pipec knows, one line each. The compiler finds a
 * descriptor's definition here by its `connector` name.
 */
import { collectionConnector } from './collection/definition.ts';
import type { ConnectorDefinition } from './definition.ts';
import { fileConnector } from './file/definition.ts';
import { generatorConnector } from './generator/definition.ts';
import { kafkaConnector } from './kafka/definition.ts';
import { mysqlConnector } from './mysql/definition.ts';
import { printConnector } from './print/definition.ts';
import { redisConnector } from './redis/definition.ts';

/** The connector families. */
export const CONNECTORS: readonly ConnectorDefinition[] = [
  collectionConnector,
  generatorConnector,
  fileConnector,
  printConnector,
  kafkaConnector,
  mysqlConnector,
  redisConnector,
];

const byName = new Map(CONNECTORS.flatMap((definition) => definition.names.map((name) => [name, definition] as const)));

/** The definition serving a descriptor name, or undefined for a name no connector serves. */
export function connectorDefinition(name: string): ConnectorDefinition | undefined {
  return byName.get(name);
}
