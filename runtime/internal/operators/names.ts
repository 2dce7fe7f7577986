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

/** An operator in a message: `process "enrich" [uid enrich-v2] (pipeline.ts:12:6)`; the uid only when the user set it (a default one repeats the label). */
export function describeOperator(manifest: Manifest, graph: Graph, nodeId: number): string {
  const node = manifest.nodes[nodeId];
  const label = node?.label ?? graph.nodes[nodeId]?.kind ?? `node ${nodeId}`;
  const uid = graph.nodes[nodeId]?.uid;
  const site = node?.site;
  return `${label}${uid !== undefined ? ` [uid ${uid}]` : ''}${site ? ` (${site})` : ''}`;
}

/** `{ operator, uid, ... }` for a runtime counter id `<node>:<name>` (run summaries). */
export function counterFields(manifest: Manifest, counter: string): { counter: string; operator?: string; uid?: string } {
  const at = counter.indexOf(':');
  const nodeId = Number(counter.slice(0, at));
  if (at < 0 || !Number.isInteger(nodeId) || !manifest.nodes[nodeId]) return { counter };
  return { counter: counter.slice(at + 1), ...operatorFields(manifest, nodeId) };
}
