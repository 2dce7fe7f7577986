/**
 * Turns runtime GraphNodes (with functions and connector descriptors) into
 * JSON LogicalNodes with readable labels.
 */
import type { GraphNode } from '../../../runtime/api/graph.ts';
import type { ConnectorDescriptor, Source } from '../../../runtime/api/connectors.ts';
import { connectorDefinition } from '../../../runtime/internal/connectors/registry.ts';
import type { LogicalNode, SourcePosition } from '../../ir/logical-plan.ts';

/** A JSON-safe summary of a settings value: functions and large arrays are described, not copied. */
export function summarize(value: unknown, depth = 0): unknown {
  if (typeof value === 'function') return '<function>';
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return value === undefined ? null : value;
  if (Array.isArray(value)) return value.length > 8 || depth > 2 ? `<${value.length} items>` : value.map((v) => summarize(v, depth + 1));
  if (depth > 3) return '<object>';
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined && key !== 'kind') out[key] = summarize(v, depth + 1);
  return out;
}

/** `file.lines(in.txt)`: the connector's name and what its definition says it reads or writes. */
function describeConnector(descriptor: ConnectorDescriptor): string {
  return `${descriptor.connector}(${connectorDefinition(descriptor.connector)?.describe(descriptor.options) ?? ''})`;
}

function labelOf(node: GraphNode): string {
  const p = node.props;
  switch (node.kind) {
    case 'source': return `source ${describeConnector(p.descriptor as ConnectorDescriptor)}`;
    case 'sink': return `sink ${describeConnector(p.descriptor as ConnectorDescriptor)}`;
    case 'rollingAggregate': return p.field ? `${p.op}(${p.field})` : String(p.op);
    case 'window': case 'windowAll': {
      const a = p.assigner as { type: string; size: number; slide: number; gap: number };
      const shape = a.type === 'session' ? `gap ${a.gap}` : a.type === 'sliding' || (a.type === 'count' && a.slide !== a.size) ? `${a.size}/${a.slide}` : `${a.size}`;
      return `${node.kind} ${a.type}(${shape}) ${p.function}`;
    }
    case 'sideOutput': return `sideOutput(${p.tag})`;
    default: return node.kind;
  }
}

/** The LogicalNode for one GraphNode, positioned at `site`. */
export function toLogicalNode(node: GraphNode, site: SourcePosition | null): LogicalNode {
  const descriptor = node.props.descriptor as ConnectorDescriptor | undefined;
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node.props)) {
    if (value === undefined) continue;
    props[key] = key === 'descriptor' ? { connector: descriptor!.connector, options: summarize(descriptor!.options) } : summarize(value);
  }
  const label = labelOf(node);
  return {
    id: node.id,
    kind: node.kind,
    label: node.name ? `${label} "${node.name}"` : label,
    inputs: [...node.inputs],
    parallelism: node.parallelism ?? null,
    name: node.name ?? null,
    props,
    connector: descriptor?.connector ?? null,
    bounded: node.kind === 'source' ? (descriptor as Source<unknown>).source.bounded : null,
    site,
  };
}
