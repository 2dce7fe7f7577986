/**
 * How logs, metrics and messages name an operator: its label as plans show it
 * (with the `.name(...)` the user gave it), its uid (the `.uid(...)`, or the
 * default the compiler derived), and its DSL call. One place, so a log line,
 * a metric label and an error message about one operator say the same.
 *
 * In: the manifest (and the graph rebuilt at start-up). Out: names.
 */
import type { Graph } from '../../api/graph.ts';
import type { Manifest } from '../manifest.ts';

/** The structured fields a log line or a metric gets for an operator: `{ operator: 'sum(count) "totals"', uid: 'totals' }`. */
export function operatorFields(manifest: Manifest, nodeId: number): { operator: string; uid: string } {
  const node = manifest.nodes[nodeId];
  return { operator: node?.label ?? `node ${nodeId}`, uid: node?.uid ?? `node-${nodeId}` };
}

/** An operator's label with the uid the user set (`process "enrich" [uid enrich-v2]`); a default uid repeats the label, so it is left out. */
export function labelWithUid(manifest: Manifest, graph: Graph, nodeId: number): string {
  const label = manifest.nodes[nodeId]?.label ?? graph.nodes[nodeId]?.kind ?? `node ${nodeId}`;
  const uid = graph.nodes[nodeId]?.uid;
  return uid !== undefined ? `${label} [uid ${uid}]` : label;
}

/** An operator in a message: `process "enrich" [uid enrich-v2] (pipeline.ts:12:6)`. */
export function describeOperator(manifest: Manifest, graph: Graph, nodeId: number): string {
  const site = manifest.nodes[nodeId]?.site;
  return `${labelWithUid(manifest, graph, nodeId)}${site ? ` (${site})` : ''}`;
}

/** The operator of a runtime counter `<node>:<name>` (run summaries): `{ operator, uid }`, or nothing for a counter of no node. */
export function counterFields(manifest: Manifest, counter: string): { operator?: string; uid?: string } {
  const nodeId = Number(counter.slice(0, counter.indexOf(':')));
  return Number.isInteger(nodeId) && manifest.nodes[nodeId] ? operatorFields(manifest, nodeId) : {};
}
