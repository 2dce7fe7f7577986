/**
 * The commit policy of a stage worker (see CommitPolicy in the manifest),
 * decided at build time from the stage's operators so the worker does not
 * rediscover it from the graph at start-up.
 *
 * In: the LogicalPlan and a stage's node ids. Out: a CommitPolicy.
 */
import type { LogicalPlan } from '../../ir/logical-plan.ts';
import type { CommitPolicy } from '../../../runtime/internal/manifest.ts';
import { traitsOf } from '../../../runtime/api/node-traits.ts';

/** The commit policy of the stage running `nodes`. */
export function commitPolicyOf(plan: LogicalPlan, nodes: number[]): CommitPolicy {
  const stateful = nodes.map((id) => plan.nodes[id]).filter((node) => traitsOf(node.kind).stateful);
  if (stateful.length === 0) return { kind: 'processed' };
  const windows: Extract<CommitPolicy, { kind: 'windows' }>['windows'] = [];
  for (const node of stateful) {
    if (node.kind !== 'window' && node.kind !== 'windowAll') return { kind: 'never' };
    const assigner = node.spec.assigner;
    if ((assigner.type !== 'tumbling' && assigner.type !== 'sliding') || assigner.time !== 'event') return { kind: 'never' };
    windows.push({ node: node.id, size: assigner.size, slide: assigner.slide, offset: assigner.offset, allowedLateness: node.spec.allowedLateness });
  }
  return { kind: 'windows', windows };
}
