/**
 * Operator uids: the stable id each node's checkpointed state is kept under.
 * A node's uid is the user's `.uid(id)`, or a default made from what the node
 * is rather than where it is: its label without its `.name(...)` (`sum(count)`,
 * `keyedProcess`, `window tumbling(60000) aggregate`), with `#n` added for the
 * n-th node (n ≥ 2) of the same label in creation order. Adding or removing an
 * operator of another label elsewhere leaves every default uid as it was;
 * only a new operator of the same label ahead of one, or a changed label,
 * moves it (the upgrade check reports the state that would be left behind).
 * Nodes with a user uid still count for the `#n` of their label, so giving one
 * a uid, or taking it away, moves no other node's default.
 *
 * In: the graph's nodes. Out: one uid per node, in node order.
 */
import type { GraphNode } from '../../../runtime/api/graph.ts';
import { labelOf } from './nodes.ts';

/** Every node's uid, in node order. Duplicates are left for analyze to report (PC1130). */
export function operatorUids(nodes: readonly GraphNode[]): string[] {
  const seen = new Map<string, number>();
  return nodes.map((node) => {
    const base = labelOf(node);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return node.uid ?? (n === 1 ? base : `${base}#${n}`);
  });
}
