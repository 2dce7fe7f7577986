/** Which runtime module and class implement a connector, from its definition in the registry, so a stage imports only what it uses. */
import { connectorDefinition } from '../../../runtime/internal/connectors/registry.ts';

/** The import of a connector's implementation. */
export function connectorClass(connector: string, role: 'source' | 'sink'): { module: string; name: string } {
  const definition = connectorDefinition(connector);
  const name = (role === 'source' ? definition?.sources : definition?.sinks)?.[connector];
  if (!definition || !name) throw new Error(`internal: no ${role} implementation for connector ${connector}`);
  return { module: `pipec/internal/connectors/${definition.module}/runtime`, name };
}

/** The environment variables a stage needs at run time: its connectors', and the Kafka brokers when it exchanges records with other stages. */
export function environmentOf(connectors: readonly string[], exchangesRecords: boolean): string[] {
  const env = new Set<string>(exchangesRecords ? ['PIPEC_KAFKA_BROKERS'] : []);
  for (const connector of connectors) for (const name of connectorDefinition(connector)?.needs?.env ?? []) env.add(name);
  return [...env].sort();
}
