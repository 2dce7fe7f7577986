/**
 * Turns runtime GraphNodes (with functions and connector descriptors) into
 * JSON LogicalNodes with readable labels.
 */
import type { ConnectorSpec, GraphNode } from '../../../runtime/api/graph.ts';
import type { WindowAssigner } from '../../../runtime/api/windows.ts';
import { connectorDefinition } from '../../../runtime/internal/connectors/registry.ts';
import type { LogicalNode, SourcePosition } from '../../ir/logical-plan.ts';

/** A JSON-safe summary of a settings value: functions and large arrays are described, not copied. */
export function summarize<T>(value: T, depth?: number): T;
export function summarize(value: unknown, depth = 0): unknown {
  if (typeof value === 'function') return '<function>';
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return value === undefined ? null : value;
  if (Array.isArray(value)) return value.length > 8 || depth > 2 ? `<${value.length} items>` : value.map((v) => summarize(v, depth + 1));
  if (depth > 3) return '<object>';
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = summarize(v, depth + 1);
  return out;
}

/** `file.lines(in.txt)`: the connector's name and what its definition says it reads or writes. */
function describeConnector(spec: ConnectorSpec): string {
  return `${spec.connector}(${connectorDefinition(spec.connector)?.describe(spec.options) ?? ''})`;
}

/** `tumbling(60000)`, `sliding(60000/1000)`, `session(gap 5000)`, `count(10)`: a window assigner in a label. */
function assignerText(a: WindowAssigner): string {
  const shape = a.type === 'session' ? `gap ${a.gap}` : a.type === 'sliding' || (a.type === 'count' && a.slide !== a.size) ? `${a.size}/${a.slide}` : `${a.size}`;
  return `${a.type}(${shape})`;
}

/**
 * What plans call a node, without its `.name(...)`. Default uids are made from
 * it (uids.ts), so a change here changes the state identity of operators
 * without a `.uid(...)`: keep labels stable.
 */
export function labelOf(node: GraphNode): string {
  switch (node.kind) {
    case 'source': case 'sink': return `${node.kind} ${describeConnector(node.spec)}`;
    case 'rollingAggregate': return node.spec.field ? `${node.spec.op}(${node.spec.field})` : node.spec.op;
    case 'window': case 'windowAll': return `${node.kind} ${assignerText(node.spec.assigner)} ${node.spec.function}`;
    case 'windowJoin': return `${node.spec.function} ${assignerText(node.spec.assigner)}`;
    case 'intervalJoin': {
      const { lowerBound, upperBound, lowerBoundExclusive, upperBoundExclusive } = node.spec;
      return `intervalJoin ${lowerBoundExclusive ? `(${lowerBound - 1}` : `[${lowerBound}`}, ${upperBoundExclusive ? `${upperBound + 1})` : `${upperBound}]`}`;
    }
    case 'sideOutput': return `sideOutput(${node.spec.tag})`;
    default: return node.kind;
  }
}

/** The LogicalNode for one GraphNode, with its uid (uids.ts), positioned at `site`: its settings as JSON (functions summarized). */
export function toLogicalNode(node: GraphNode, uid: string, site: SourcePosition | null): LogicalNode {
  const label = labelOf(node);
  return {
    id: node.id,
    kind: node.kind,
    label: node.name ? `${label} "${node.name}"` : label,
    inputs: [...node.inputs],
    parallelism: node.parallelism ?? null,
    name: node.name ?? null,
    uid,
    uidFromUser: node.uid !== undefined,
    spec: summarize(node.spec),
    site,
  } as LogicalNode;
}
