/** Sources and sinks: connectors whose runtime is not in this release are refused (PC1900). */
import { diagnostics, NO_LOCATION } from '../../../diagnostics/index.ts';
import { locationOfNode } from '../../../diagnostics/location.ts';
import type { Visitor } from '../context.ts';

/** Connectors the runtime implements. */
export const SUPPORTED_CONNECTORS = new Set(['collection', 'generator', 'file.lines', 'file.csv', 'file.jsonl', 'print', 'kafka']);

export const Connector: Visitor = ({ node, call }, ctx) => {
  const connector = node.connector ?? '';
  const options = (node.props.descriptor as { options?: { startFrom?: unknown } } | undefined)?.options;
  if (connector === 'kafka' && typeof options?.startFrom === 'object' && options.startFrom !== null) {
    ctx.report(diagnostics.notSupportedYet(call ? locationOfNode(ctx.host, call.arguments[0] ?? call) : NO_LOCATION, {
      feature: "kafka.source startFrom: { timestamp }",
      hint: "Use startFrom: 'earliest' or 'latest' for now.",
    }));
  }
  if (SUPPORTED_CONNECTORS.has(connector)) return;
  ctx.report(diagnostics.notSupportedYet(call ? locationOfNode(ctx.host, call.arguments[0] ?? call) : NO_LOCATION, {
    feature: `The ${connector} ${node.kind}`,
    hint: 'Use collection, generator, file.lines/csv/jsonl, print or kafka for now; the MySQL and Redis connectors come in a later release.',
  }));
};
