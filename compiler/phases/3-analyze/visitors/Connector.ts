/** Sources and sinks: a connector no definition serves, or one whose runtime is not in this release, is refused (PC1900); its own checks run on its options (PC1900, or PC1160 for an invalid option). */
import { diagnostics, NO_LOCATION } from '../../../diagnostics/index.ts';
import { locationOfNode } from '../../../diagnostics/location.ts';
import { CONNECTORS, connectorDefinition } from '../../../../runtime/internal/connectors/registry.ts';
import type { Visitor } from '../context.ts';

/** The connectors this release runs, for the hint. */
const available = CONNECTORS.filter((c) => !c.unavailable).flatMap((c) => c.names);
const AVAILABLE = `${available.slice(0, -1).join(', ')} or ${available[available.length - 1]}`;

export const Connector: Visitor<'source' | 'sink'> = ({ node, call }, ctx) => {
  const connector = node.spec.connector;
  const where = call ? locationOfNode(ctx.host, call.arguments[0] ?? call) : NO_LOCATION;
  const definition = connectorDefinition(connector);
  if (!definition || definition.unavailable) {
    ctx.report(diagnostics.notSupportedYet(where, {
      feature: `The ${connector} ${node.kind}`,
      hint: `Use ${AVAILABLE} for now${definition?.unavailable ? `; ${definition.unavailable}` : ''}.`,
    }));
    return;
  }
  for (const problem of definition.validate?.(node.spec.options, node.kind === 'source' ? 'source' : 'sink', connector) ?? []) {
    ctx.report(problem.invalid ? diagnostics.invalidConnectorOption(where, problem) : diagnostics.notSupportedYet(where, problem));
  }
};
